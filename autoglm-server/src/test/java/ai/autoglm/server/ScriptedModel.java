package ai.autoglm.server;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF Llama whose greedy output is known in advance, so tests can assert exact text: every block's attention
 * output and MLP down projection are zero, so the hidden state after the blocks is the current token's embedding;
 * the embedding of each scripted token {@code a} is the unit vector {@code e_j}, and the output row of its successor
 * {@code next(a)} is {@code 10 e_j}. After RMSNorm ({@code e_j * sqrt(dim)} = 8 e_j) the successor's logit is 80 and
 * every other logit is 0: the model deterministically follows the chain {@code token -> next(token)}.
 *
 * <p>The vocabulary is the fixture's byte-level one (byte tokens have ids = byte values) plus extra whole-string
 * tokens, so a script may emit single bytes (to split multi-byte characters) or long pieces such as a tool call.
 */
final class ScriptedModel {
    static final int DIM = 64;

    private ScriptedModel() {
    }

    /** A chat template in the Qwen2.5 style: tools in the system turn, tool calls and tool results as tagged blocks. */
    static final String TOOLS_TEMPLATE = """
            {%- if tools %}<|im_start|>system
            {% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}

            {% endif %}# Tools

            <tools>
            {%- for tool in tools %}
            {{ tool | tojson }}
            {%- endfor %}
            </tools>
            For each function call, return a json object within <tool_call></tool_call> XML tags.<|im_end|>
            {% elif messages[0]['role'] == 'system' %}<|im_start|>system
            {{ messages[0]['content'] }}<|im_end|>
            {% endif %}
            {%- for message in messages %}
            {%- if message.role == 'system' %}
            {%- elif message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
            {% if message.content %}{{ message.content }}{% endif %}
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
            {%- if add_generation_prompt %}<|im_start|>assistant
            {% endif %}""";

    /**
     * Writes the model.
     *
     * @param extraTokens texts added to the vocabulary after the fixture's tokens (ids from {@link ModelFixtures#VOCAB_SIZE})
     * @param chain       token id to the id that follows it (at most {@link #DIM} entries)
     */
    static Path write(Path file, List<String> extraTokens, Map<Integer, Integer> chain, int context, String chatTemplate) {
        if (chain.size() > DIM) throw new IllegalArgumentException("at most " + DIM + " scripted tokens");
        List<String> tokens = new ArrayList<>(ModelFixtures.TOKENS);
        for (String t : extraTokens) {
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
        meta.put("tokenizer.chat_template", GgufValue.string(chatTemplate));
        meta.forEach(g::put);

        float[] embd = new float[vocab * DIM];
        float[] out = new float[vocab * DIM];
        int j = 0;
        for (var e : chain.entrySet()) {
            embd[e.getKey() * DIM + j] = 1f;
            out[e.getValue() * DIM + j] = 10f;
            j++;
        }
        // Tokens outside the chain get an embedding that points nowhere in particular (all logits small).
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
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    /** Byte token id of a byte value. */
    static int byteToken(int b) {
        return b & 0xFF;
    }

    /**
     * "中文" repeated for ever after the generation prompt's newline: the six UTF-8 bytes E4 B8 AD E6 96 87, one
     * token each, so every character is split over three tokens.
     */
    static Path chinese(Path file, int context) {
        byte[] b = "中文".getBytes(StandardCharsets.UTF_8);
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        chain.put((int) '\n', byteToken(b[0]));
        for (int i = 0; i < b.length; i++) chain.put(byteToken(b[i]), byteToken(b[(i + 1) % b.length]));
        return write(file, List.of(), chain, context, ModelFixtures.CHAT_TEMPLATE);
    }

    static final String TOOL_JSON = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}";

    /** After the generation prompt: {@code <tool_call>\n{json}\n</tool_call>} then {@code <|im_end|>}. */
    static Path toolCaller(Path file, int context) {
        int open = ModelFixtures.VOCAB_SIZE, body = open + 1, close = open + 2;
        Map<Integer, Integer> chain = new LinkedHashMap<>();
        chain.put((int) '\n', open);
        chain.put(open, body);
        chain.put(body, close);
        chain.put(close, ModelFixtures.TOKENS.indexOf(ModelFixtures.IM_END));
        return write(file, List.of("<tool_call>", "\n" + TOOL_JSON + "\n", "</tool_call>"), chain, context, TOOLS_TEMPLATE);
    }
}
