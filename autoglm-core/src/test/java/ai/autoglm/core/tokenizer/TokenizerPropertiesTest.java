package ai.autoglm.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Properties over random Unicode text, beyond the fixed corpus the reference checks. */
class TokenizerPropertiesTest {

    private static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(30);
        while (sb.length() < n) {
            int cp = switch (r.nextInt(6)) {
                case 0 -> 0x20 + r.nextInt(0x60);           // ASCII
                case 1 -> " \t\n\r'".charAt(r.nextInt(5));  // whitespace, apostrophes
                case 2 -> 0x4E00 + r.nextInt(0x5000);       // CJK
                case 3 -> 0x1F300 + r.nextInt(0x300);       // emoji
                case 4 -> 0xA0 + r.nextInt(0x2000);         // Latin-1 .. general punctuation, combining marks
                default -> r.nextInt(0x30000);              // anything, incl. unassigned
            };
            if (Character.isSurrogate((char) cp) && cp < 0x10000) {
                continue; // lone surrogates are not text
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /** Byte-level BPE without a normalizer is lossless: decode(encode(x)) == x for any valid string. */
    @Test
    void llama3RoundTripsAnyText() {
        Tokenizer t = Tokenizers.fromHfDirectory(NodeReference.modelDir("llama3"));
        Random r = new Random(3);
        for (int i = 0; i < 3000; i++) {
            String s = randomText(r);
            int[] ids = t.encode(s, false);
            assertThat(t.decode(ids)).as(s).isEqualTo(s);
            for (int id : ids) {
                assertThat(t.isSpecial(id)).isFalse();
            }
        }
    }

    /** SentencePiece BPE with byte fallback is lossless too (up to the leading space the decoder strips). */
    @Test
    void llama2RoundTripsAnyText() {
        Tokenizer t = Tokenizers.fromHfDirectory(NodeReference.modelDir("llama2"));
        Random r = new Random(4);
        for (int i = 0; i < 3000; i++) {
            String s = randomText(r);
            int[] ids = t.encode(s, false);
            assertThat(t.decode(ids)).as(s).isEqualTo(s);
            // encoding is deterministic and cached words give the same ids
            assertThat(t.encode(s, false)).isEqualTo(ids);
        }
    }

    /** Concatenated token bytes are the text; tokenString/tokenId agree for every id. */
    @Test
    void tokenTablesAreConsistent() {
        Tokenizer t = Tokenizers.fromHfDirectory(NodeReference.modelDir("qwen3"));
        for (int id = 0; id < t.vocabSize(); id++) {
            assertThat(t.tokenId(t.tokenString(id))).isEqualTo(id);
        }
        int[] ids = t.encode("混合 text 😀 <|im_start|>", true);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        Arrays.stream(ids).forEach(id -> b.writeBytes(t.tokenBytes(id)));
        assertThat(b.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("混合 text 😀 <|im_start|>");
        assertThat(t.tokenString(t.eosId())).isEqualTo("<|im_end|>");
        assertThat(t.bosId()).isEqualTo(-1);
        assertThat(t.prefixTokens()).isEmpty(); // Qwen adds nothing before the text
        // Llama 2: add_bos_token true in tokenizer_config.json, so HF encode(add_special_tokens=True) adds <s>
        Tokenizer l2 = Tokenizers.fromHfDirectory(NodeReference.modelDir("llama2"));
        assertThat(l2.tokenString(l2.bosId())).isEqualTo("<s>");
        assertThat(l2.prefixTokens()).containsExactly(l2.bosId());
    }
}
