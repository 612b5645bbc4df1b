package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad tokenizer files and metadata fail with ModelFormatException naming the file and the problem. */
class TokenizerLoadingErrorsTest {

    private static Map<String, GgufValue> tinyGpt2() {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        md.put("tokenizer.ggml.pre", GgufValue.string("qwen2"));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("a", "b", "ab", "<|x|>")));
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, List.of(1, 1, 1, 3)));
        md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, List.of("a b")));
        md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(3));
        return md;
    }

    private static void assertBadGguf(Consumer<Map<String, GgufValue>> edit, String messagePart) {
        Map<String, GgufValue> md = tinyGpt2();
        edit.accept(md);
        assertThatThrownBy(() -> Tokenizers.fromGguf(md, Path.of("model.gguf")))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.gguf")
                .hasMessageContaining(messagePart);
    }

    @Test
    void tinyGgufVocabularyWorks() {
        Tokenizer t = Tokenizers.fromGguf(tinyGpt2());
        assertThat(t.encode("abab<|x|>", true)).containsExactly(2, 2, 3);
        assertThat(t.encode("abab<|x|>", false)).doesNotContain(3);
        assertThat(t.decode(new int[] {2, 3, 0})).isEqualTo("ab<|x|>a");
        assertThat(t.decode(new int[] {2, 3, 0}, true)).isEqualTo("aba");
        assertThat(t.eosId()).isEqualTo(3);
        assertThat(t.isSpecial(3)).isTrue();
        assertThat(t.tokenId("ab")).isEqualTo(2);
        assertThat(t.tokenId("zz")).isEqualTo(-1);
    }

    @Test
    void badGgufMetadata() {
        assertBadGguf(md -> md.remove("tokenizer.ggml.model"), "tokenizer.ggml.model is missing");
        assertBadGguf(md -> md.put("tokenizer.ggml.model", GgufValue.string("t5")), "unsupported tokenizer model 't5'");
        assertBadGguf(md -> md.put("tokenizer.ggml.model", GgufValue.uint32(3)), "should be a string");
        assertBadGguf(md -> md.remove("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens is missing");
        assertBadGguf(md -> md.put("tokenizer.ggml.tokens", GgufValue.string("abc")), "should be an array");
        assertBadGguf(md -> md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.INT32, List.of(1, 2))), "should hold strings");
        assertBadGguf(md -> md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, List.of(1))), "1 entries for 4 tokens");
        assertBadGguf(md -> md.put("tokenizer.ggml.pre", GgufValue.string("mystery")), "unsupported tokenizer.ggml.pre 'mystery'");
        assertBadGguf(md -> md.remove("tokenizer.ggml.merges"), "tokenizer.ggml.merges is missing");
        assertBadGguf(md -> md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, List.of("ab"))), "not two tokens");
        assertBadGguf(md -> md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(99)), "outside the vocabulary");
        assertBadGguf(md -> md.put("tokenizer.ggml.eos_token_id", GgufValue.float32(1f)), "should be an integer");
        assertBadGguf(md -> {
            md.put("tokenizer.ggml.model", GgufValue.string("llama"));
            md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, List.of(1, 1, 6, 3)));
        }, "expected <0xXX>");
        assertBadGguf(md -> {
            md.put("tokenizer.ggml.model", GgufValue.string("llama"));
            md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(1));
            md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, List.of(0f)));
        }, "scores has 1 entries");
    }

    private static void assertBadHf(Path dir, String json, String messagePart) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), json);
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining(messagePart);
    }

    @Test
    void badTokenizerJson(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no tokenizer.json");
        assertBadHf(dir, "{not json", "cannot read JSON");
        assertBadHf(dir, "[1,2]", "not a JSON object");
        assertBadHf(dir, "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "unsupported tokenizer model 'Unigram'");
        assertBadHf(dir, "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "unsupported pre_tokenizer");
        assertBadHf(dir, "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"}}",
                "'[UNK]' is not in the vocabulary");
        String model = "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[%s]}";
        assertBadHf(dir, "{" + model.formatted("\"a c\"") + "}", "not in the vocabulary");
        assertBadHf(dir, "{" + model.formatted("7") + "}", "neither");
        assertBadHf(dir, "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-4},\"merges\":[]}}", "invalid id");
        assertBadHf(dir, "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":99999999999},\"merges\":[]}}", "invalid id");
        assertBadHf(dir, "{" + model.formatted("") + ",\"normalizer\":{\"type\":\"Precompiled\"}}", "unsupported normalizer 'Precompiled'");
        assertBadHf(dir, "{" + model.formatted("") + ",\"pre_tokenizer\":{\"type\":\"Whitespace\"}}", "unsupported pre_tokenizer 'Whitespace'");
        assertBadHf(dir, "{" + model.formatted("") + ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},"
                + "\"behavior\":\"Isolated\"}}", "regex not understood");
        assertBadHf(dir, "{" + model.formatted("") + ",\"added_tokens\":[{\"id\":1}]}", "added token without content");

        // and a minimal valid one works
        Files.writeString(dir.resolve("tokenizer.json"), "{" + model.formatted("[\"a\",\"b\"]") + "}");
        assertThat(Tokenizers.fromHfDirectory(dir).encode("aab", false)).containsExactly(0, 2);
    }
}
