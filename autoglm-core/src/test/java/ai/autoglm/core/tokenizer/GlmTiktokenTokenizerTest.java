package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GLM-4's tiktoken tokenizer against the `tiktoken` npm package (the Rust tiktoken that ChatGLM4Tokenizer runs),
 * on GLM-style directories the test builds from the real cl100k_base and o200k_base ranks the package ships
 * (tokenizer.model in GLM-4's "base64 rank" format, tokenizer_config.json with ChatGLM4Tokenizer's fourteen special
 * tokens after the ranks, GLM-4's pat_str), over a mixed corpus with and without special-token parsing; and the
 * same vocabulary as GGUF metadata ({@code gpt2} model, {@code chatglm-bpe} pre-tokenizer).
 */
class GlmTiktokenTokenizerTest {
    /** ChatGLM4Tokenizer.special_tokens (THUDM/glm-4-9b-chat tokenization_chatglm.py), in id order. */
    static final List<String> GLM4_SPECIALS = List.of("<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>",
            "<eop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
            "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>");

    static final List<String> GLM_TEXTS = List.of(
            "[gMASK]<sop><|system|>\n你是一个名为 GLM-4 的人工智能助手。<|user|>\n北京今天天气怎么样？<|assistant|>",
            "<|assistant|>get_weather\n{\"city\": \"北京\", \"unit\": \"celsius\"}<|observation|>\n{\"temp\": 25}",
            "[gMASK][MASK][sMASK]<sop><eop><|begin_of_image|><|end_of_image|><|begin_of_video|><|end_of_video|>",
            "<|user|><|user|>x<|endoftext|>y<|end",
            "it'ſ it'ſt LONG S, IT'S, it'S, they'RE, K'\u212a",
            "     \n\n\t   x  \u3000\u3000 y\r\n\r\n   ",
            "1234567890 123 4567 ٣٤٥٦٧ 𝟘𝟙𝟚𝟛",
            "def f(x):\n\treturn {'a': [1, 2, 3]}  # 注释\n\n\n",
            "🧑‍🚀🚀 The quick brown 狐狸 jumps over the lazy 狗 🐕‍🦺");

    static Path cl100kDir;
    static Path o200kDir;

    @BeforeAll
    static void buildDirectories(@TempDir Path tmp) throws Exception {
        cl100kDir = glmDirectory(tmp.resolve("cl100k"), "cl100k_base");
        o200kDir = glmDirectory(tmp.resolve("o200k"), "o200k_base");
    }

    /** A GLM-4-style tokenizer directory over the ranks of {@code encoder}. */
    static Path glmDirectory(Path dir, String encoder) throws Exception {
        Files.createDirectories(dir);
        int n = TiktokenReference.export(encoder, dir.resolve("tokenizer.model"));
        ObjectNode cfg = NodeReference.JSON.createObjectNode();
        cfg.put("tokenizer_class", "ChatGLM4Tokenizer");
        cfg.put("eos_token", "<|endoftext|>");
        ObjectNode decoder = cfg.putObject("added_tokens_decoder");
        for (int i = 0; i < GLM4_SPECIALS.size(); i++) {
            ObjectNode t = decoder.putObject(String.valueOf(n + i));
            t.put("content", GLM4_SPECIALS.get(i));
            t.put("special", true);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), cfg.toString());
        return dir;
    }

    static Map<String, Integer> specialIds(Tokenizer t) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String s : GLM4_SPECIALS) {
            m.put(s, t.tokenId(s));
        }
        return m;
    }

    static List<String> corpus() {
        List<String> texts = new ArrayList<>(TokenizerCorpus.FIXED);
        texts.addAll(GLM_TEXTS);
        texts.addAll(TokenizerCorpus.random(120, 20240605L));
        return texts;
    }

    private static void assertMatchesTiktoken(Tokenizer tok, Path rankFile, int firstSpecialId) {
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (int i = 0; i < GLM4_SPECIALS.size(); i++) {
            specials.put(GLM4_SPECIALS.get(i), firstSpecialId + i);
        }
        assertThat(specialIds(tok)).isEqualTo(specials);
        List<String> texts = corpus();
        for (boolean special : new boolean[] {true, false}) {
            List<TiktokenReference.Result> ref = TiktokenReference.encode(rankFile, specials, special, texts);
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tok.encode(texts.get(i), special);
                assertThat(ids).as("encode(%s, special=%s)", texts.get(i), special).containsExactly(ref.get(i).ids());
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (int id : ids) {
                    bytes.writeBytes(tok.tokenBytes(id));
                }
                assertThat(bytes.toByteArray()).as("bytes of %s", texts.get(i)).isEqualTo(ref.get(i).bytes());
                assertThat(tok.decode(ids)).isEqualTo(new String(ref.get(i).bytes(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void glmStyleVocabularyOnCl100kRanksMatchesTiktoken() {
        Tokenizer tok = Tokenizers.fromHfDirectory(cl100kDir);
        assertThat(tok.vocabSize()).isEqualTo(100256 + GLM4_SPECIALS.size());
        assertThat(tok.eosId()).isEqualTo(100256);
        assertThat(tok.bosId()).isEqualTo(-1);
        assertThat(tok.addBosByDefault()).isFalse();
        assertThat(tok.isSpecial(tok.tokenId("[gMASK]"))).isTrue();
        assertMatchesTiktoken(tok, cl100kDir.resolve("tokenizer.model"), 100256);
    }

    @Test
    void glmStyleVocabularyOnO200kRanksMatchesTiktoken() {
        Tokenizer tok = Tokenizers.fromHfDirectory(o200kDir);
        assertMatchesTiktoken(tok, o200kDir.resolve("tokenizer.model"), 199998);
    }

    @Test
    void sameVocabularyAsGgufChatglmBpeMatchesTiktoken() throws Exception {
        // The GGUF layout of convert_hf_to_gguf.py set_vocab_chatglm4: tokens in rank order as GPT-2 byte-level
        // strings, special tokens as CONTROL, model gpt2, pre chatglm-bpe. The byte-to-character table is written
        // here from openai/gpt-2 encoder.py bytes_to_unicode, independently of the main code.
        char[] byteChar = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteChar[b] = printable ? (char) b : (char) (256 + extra++);
        }
        List<String> lines = Files.readAllLines(cl100kDir.resolve("tokenizer.model"));
        int n = lines.size();
        List<Object> tokens = new ArrayList<>(java.util.Collections.nCopies(n + GLM4_SPECIALS.size(), ""));
        List<Object> types = new ArrayList<>(java.util.Collections.nCopies(n + GLM4_SPECIALS.size(), 1));
        for (String line : lines) {
            String[] p = line.split(" ");
            StringBuilder sb = new StringBuilder();
            for (byte b : Base64.getDecoder().decode(p[0])) {
                sb.append(byteChar[b & 0xFF]);
            }
            tokens.set(Integer.parseInt(p[1]), sb.toString());
        }
        for (int i = 0; i < GLM4_SPECIALS.size(); i++) {
            tokens.set(n + i, GLM4_SPECIALS.get(i));
            types.set(n + i, 3);
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        md.put("tokenizer.ggml.pre", GgufValue.string("chatglm-bpe"));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(n));
        Tokenizer tok = Tokenizers.fromGguf(md);
        assertMatchesTiktoken(tok, cl100kDir.resolve("tokenizer.model"), n);
    }

    @Test
    void badRankFilesAreNamedErrors(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tokenizer.model");
        StringBuilder all = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            all.append(Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        }
        Files.writeString(model, all + "YWI= 256\nYWI= 257\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.model").hasMessageContaining("line 258: the same token as line 257");
        Files.writeString(model, all + "YWI= 255\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("rank 255 appears twice");
        Files.writeString(model, all + "YWI= 99999999999\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("line 257: rank '99999999999'");
        Files.writeString(model, all + "YWI= 256 extra\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("expected 'base64(token) rank'");
        Files.writeString(model, all + "Y*I= 256\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).isInstanceOf(ModelFormatException.class);
        Files.writeString(model, "YWI= 0\nYQ== 1\n");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("no token for the single byte 0x00");
        // A special token placed on a rank: refused rather than silently shadowing the rank.
        Files.writeString(model, all.toString());
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"added_tokens_decoder\": {\"5\": {\"content\": \"<|x|>\", \"special\": true}}}");
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("also a rank");
        // A minimal valid file: 256 bytes and one merge, special tokens from tokenizer_class.
        Files.writeString(model, all + "YWI= 256\n");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"ChatGLM4Tokenizer\"}");
        Tokenizer t = Tokenizers.fromHfDirectory(dir);
        assertThat(t.encode("ab[gMASK]", true)).containsExactly(256, 259);
        assertThat(t.encode("ab[gMASK]", false)).hasSize(8);
    }
}
