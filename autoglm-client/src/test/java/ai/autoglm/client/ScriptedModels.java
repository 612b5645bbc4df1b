package ai.autoglm.client;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One-layer GGUF Llamas whose greedy answer is known in advance: a Qwen-style tool call (the bundled model never
 * calls tools), or a loop that never ends by itself (a stream still running when its server is stopped). The construction is the server tests'
 * {@code ScriptedModel} (not shared: it is package-private test code of autoglm-server): attention and MLP outputs
 * are zero, so the last hidden state is the current token's embedding; token {@code a}'s embedding is the unit vector
 * {@code e_j} and the output row of its successor is {@code 10 e_j}, so greedy decoding follows the chain.
 */
public final class ScriptedModels {
    static final int DIM = 64;
    static final String TOOL_JSON = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}";

    /** Qwen2.5's layout: tools listed in the system turn, calls in {@code <tool_call>} tags. */
    static final String TEMPLATE = """
            {%- if tools %}<|im_start|>system
            # Tools

            <tools>
            {%- for tool in tools %}
            {{ tool | tojson }}
            {%- endfor %}
            </tools>
            For each function call, return a json object within <tool_call></tool_call> XML tags.<|im_end|>
            {% endif %}
            {%- for message in messages %}
            {%- if message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
            {%- for tc in message.tool_calls %}
            <tool_call>
            {"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments | tojson }}}
            </tool_call>
            {%- endfor %}<|im_end|>
            {% elif message.role == 'tool' %}<|im_start|>user
            <tool_response>
            {{ message.content }}
            </tool_response><|im_end|>
            {% else %}<|im_start|>{{ message.role }}
            {{ message.content }}<|im_end|>
            {% endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}{% if (messages|last).role == 'tool' %}<|im_start|>assistant:{% else %}<|im_start|>assistant
            {% endif %}{% endif %}""";

    private ScriptedModels() {
    }

    /** What the tool caller says once the tool's result is in the conversation. */
    public static final String ANSWER_AFTER_TOOL = "It is mild in Paris.";

    /**
     * After the generation prompt's newline: {@code <tool_call>\n{json}\n</tool_call>} then {@code <|im_end|>}; after a
     * tool result (the template then ends the prompt with ':'), {@link #ANSWER_AFTER_TOOL}.
     */
    public static Path toolCaller(Path file) {
        List<String> extra = List.of("<tool_call>", "\n" + TOOL_JSON + "\n", "</tool_call>", ANSWER_AFTER_TOOL);
        int open = ModelFixtures.VOCAB_SIZE, body = open + 1, close = open + 2, answer = open + 3;
        int imEnd = ModelFixtures.TOKENS.indexOf(ModelFixtures.IM_END);
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        chain.put((int) '\n', open);
        chain.put(open, body);
        chain.put(body, close);
        chain.put(close, imEnd);
        chain.put((int) ':', answer);
        chain.put(answer, imEnd);
        return write(file, extra, chain, 2048, TEMPLATE);
    }

    /** What the thinker reasons and answers (its output is {@code <think>\n}reasoning{@code \n</think>\n\n}answer). */
    public static final String REASONING = "The user wants 北京.\nSo: weather.";
    public static final String ANSWER = "It is sunny.";

    /**
     * A Qwen3 model (Qwen3's real chat template, autoglm-core's chat-templates/qwen3.jinja) that thinks, then answers:
     * the tags are split over tokens ({@code <th|ink>}, {@code \n</th|ink>}).
     */
    public static Path thinker(Path file) {
        String template;
        try {
            template = java.nio.file.Files.readString(Path.of("../autoglm-core/src/test/resources/chat-templates/qwen3.jinja"));
        } catch (java.io.IOException e) {
            throw new AssertionError("Qwen3 chat template copy missing (autoglm-core/src/test/resources/chat-templates)", e);
        }
        List<String> extra = List.of("<th", "ink>\n", "The user wants 北京.", "\nSo: weather.\n</th", "ink>\n\n", "It is", " sunny.");
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        int prev = '\n';
        for (int i = 0; i < extra.size(); i++) {
            chain.put(prev, ModelFixtures.VOCAB_SIZE + i);
            prev = ModelFixtures.VOCAB_SIZE + i;
        }
        chain.put(prev, ModelFixtures.TOKENS.indexOf(ModelFixtures.IM_END));
        return write(file, extra, chain, 2048, template);
    }

    /** "abc" repeated until the context is full: a stream that runs as long as it is allowed to. */
    public static Path looping(Path file, int context) {
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        chain.put((int) '\n', (int) 'a');
        chain.put((int) 'a', (int) 'b');
        chain.put((int) 'b', (int) 'c');
        chain.put((int) 'c', (int) 'a');
        return write(file, List.of(), chain, context, ModelFixtures.CHAT_TEMPLATE);
    }

    private static Path write(Path file, List<String> extra, Map<Integer, Integer> chain, int context, String template) {

        List<String> tokens = new ArrayList<>(ModelFixtures.TOKENS);
        for (String t : extra) {
            StringBuilder s = new StringBuilder();
            for (byte b : t.getBytes(StandardCharsets.UTF_8)) s.append(ModelFixtures.byteToUnicode(b & 0xFF));
            tokens.add(s.toString());
        }
        int vocab = tokens.size();
        ModelFixtures.Spec spec = new ModelFixtures.Spec("llama", DIM, 1, 4, 2, 128, context, 1e-5f, 10000.0, false, false, null, 7);
        GgufWriter g = new GgufWriter();
        LinkedHashMap<String, GgufValue> meta = ModelFixtures.ggufMetadata(spec);
        meta.put("llama.vocab_size", GgufValue.uint32(vocab));
        meta.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < vocab; i++) types.add(i >= ModelFixtures.FIRST_SPECIAL && i < ModelFixtures.VOCAB_SIZE ? 3 : 1);
        meta.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        meta.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        meta.put("tokenizer.chat_template", GgufValue.string(template));
        meta.forEach(g::put);

        float[] embd = new float[vocab * DIM];
        float[] out = new float[vocab * DIM];
        int j = 0;
        for (var e : chain.entrySet()) {
            embd[e.getKey() * DIM + j] = 1f;
            out[e.getValue() * DIM + j] = 10f;
            j++;
        }
        for (int t = 0; t < vocab; t++) {
            if (!chain.containsKey(t)) for (int i = chain.size(); i < DIM; i++) embd[t * DIM + i] = ((t * 31 + i * 17) % 7 - 3) * 0.1f;
        }
        int hd = DIM / spec.heads(), q = spec.heads() * hd, kv = spec.kvHeads() * hd, ffn = spec.ffn();
        g.addTensor("token_embd.weight", new long[]{DIM, vocab}, embd, GgmlType.F32);
        g.addTensor("output.weight", new long[]{DIM, vocab}, out, GgmlType.F32);
        g.addTensor("output_norm.weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
        g.addTensor("blk.0.attn_norm.weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
        g.addTensor("blk.0.attn_q.weight", new long[]{DIM, q}, new float[DIM * q], GgmlType.F32);
        g.addTensor("blk.0.attn_k.weight", new long[]{DIM, kv}, new float[DIM * kv], GgmlType.F32);
        g.addTensor("blk.0.attn_v.weight", new long[]{DIM, kv}, new float[DIM * kv], GgmlType.F32);
        g.addTensor("blk.0.attn_output.weight", new long[]{q, DIM}, new float[q * DIM], GgmlType.F32);
        g.addTensor("blk.0.ffn_norm.weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
        g.addTensor("blk.0.ffn_gate.weight", new long[]{DIM, ffn}, new float[DIM * ffn], GgmlType.F32);
        g.addTensor("blk.0.ffn_up.weight", new long[]{DIM, ffn}, new float[DIM * ffn], GgmlType.F32);
        g.addTensor("blk.0.ffn_down.weight", new long[]{ffn, DIM}, new float[ffn * DIM], GgmlType.F32);
        g.write(file);
        return file;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }
}
