package ai.autoglm.core.generate;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmTokenizerFiles;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The prompt prefix on every layout. Expected ids follow the HF tokenizers' rule, written here from their sources:
 * ChatGLM4Tokenizer / ChatGLMTokenizer build_inputs_with_special_tokens = get_prefix_tokens() ([gMASK], then
 * {@code <sop>} for GLM-4 or {@code sop} for ChatGLM3) + ids; the -hf / 0414 tokenizer.json TemplateProcessing does the
 * same; Llama adds BOS; Qwen adds nothing. A chat template that writes the prefix itself must not get it twice.
 */
class PromptPrefixTest {
    @TempDir
    static Path tmp;
    static final Map<String, Path> GLM = new LinkedHashMap<>();

    @BeforeAll
    static void write() {
        String template = GlmTokenizerFiles.chatTemplate("glm-4-9b-chat");
        Path tiktoken = GlmTokenizerFiles.writeGlm4Tiktoken(GlmFixtures.glm4_9b(), tmp.resolve("remote-tiktoken"));
        Path spm = GlmTokenizerFiles.writeChatglm3SentencePiece(GlmTokenizerFiles.chatglm3Spm(), tmp.resolve("chatglm3-spm"));
        Path hf = GlmTokenizerFiles.withChatTemplate(GlmFixtures.writeHf(GlmFixtures.glm4_9b(), Layout.GLM_HF, tmp.resolve("hf")), template);
        Path z = GlmTokenizerFiles.withChatTemplate(GlmFixtures.writeHf(GlmFixtures.glm4_0414(), Layout.GLM4_HF, tmp.resolve("0414")), template);
        GLM.put("remote tiktoken", tiktoken);
        GLM.put("remote sentencepiece", spm);
        GLM.put("-hf", hf);
        GLM.put("0414", z);
        for (var e : List.copyOf(GLM.entrySet())) {
            Path gguf = tmp.resolve(e.getKey().replace(' ', '-') + ".gguf");
            HfToGgufConverter.convert(e.getValue(), gguf, GgmlType.F32);
            GLM.put(e.getKey() + " converted to GGUF", gguf);
        }
    }

    @Test
    void glmLayoutsPutGmaskSopFirstOnceOnly() {
        for (var e : GLM.entrySet()) {
            try (LanguageModel m = ModelLoader.load(e.getValue())) {
                Tokenizer tok = m.tokenizer();
                boolean chatglm3 = e.getKey().contains("sentencepiece");
                int[] prefix = {tok.tokenId("[gMASK]"), tok.tokenId(chatglm3 ? "sop" : "<sop>")};
                assertThat(prefix).as(e.getKey()).doesNotContain(-1);
                assertThat(tok.prefixTokens()).as(e.getKey()).containsExactly(prefix);

                int[] text = tok.encode("hello world", true);
                assertThat(Prompts.completion(m, "hello world")).as(e.getKey()).containsExactly(concat(prefix, text));
                // a prompt that already starts with the prefix keeps it once
                int[] written = Prompts.completion(m, chatglm3 ? "[gMASK]sop hello" : "[gMASK]<sop>hello");
                assertThat(written).as(e.getKey()).startsWith(prefix);
                assertThat(count(written, prefix[0])).as(e.getKey()).isEqualTo(1);

                int[] chat = Prompts.chat(m, List.of(ChatMessage.user("你好")), true, null);
                assertThat(chat).as(e.getKey()).startsWith(prefix);
                assertThat(count(chat, prefix[0])).as(e.getKey()).isEqualTo(1);
                // generation stops where the model starts the next turn or ends the text
                assertThat(StopTokens.defaults(tok)).as(e.getKey()).contains(tok.tokenId("<|user|>"), tok.tokenId("<|observation|>"));
                if (!chatglm3) assertThat(StopTokens.defaults(tok)).as(e.getKey()).contains(tok.tokenId("<|endoftext|>"));
            }
        }
    }

    @Test
    void llamaGetsBosAndQwenNothing() {
        Path llama = ModelFixtures.writeHf(ModelFixtures.llama(), tmp.resolve("llama"));
        Path qwen = ModelFixtures.writeHf(ModelFixtures.qwen2(), tmp.resolve("qwen"));
        try (LanguageModel l = ModelLoader.load(llama); LanguageModel q = ModelLoader.load(qwen)) {
            assertThat(Prompts.completion(l, "hello")).containsExactly(concat(new int[]{ModelFixtures.BOS_ID}, l.tokenizer().encode("hello", true)));
            assertThat(Prompts.completion(l, ModelFixtures.BOS + "hello")).containsExactly(
                    concat(new int[]{ModelFixtures.BOS_ID}, l.tokenizer().encode("hello", true)));
            assertThat(Prompts.completion(q, "hello")).containsExactly(q.tokenizer().encode("hello", true));
        }
    }

    private static long count(int[] ids, int id) {
        return IntStream.of(ids).filter(x -> x == id).count();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
