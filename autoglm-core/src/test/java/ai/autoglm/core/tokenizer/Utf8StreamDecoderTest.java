package ai.autoglm.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8StreamDecoderTest {
    private static final String TEXT = "床前明月光，疑是地上霜。😀 👨‍👩‍👧‍👦 👍🏽 é a\u0301 𝔘 한국어 ok";

    /** A chunk "contains a broken character" when it has a lone surrogate or U+FFFD that the text lacks. */
    private static void assertWholeCharacters(String chunk) {
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            assertThat(c).as("replacement char in \"%s\"", chunk).isNotEqualTo('\uFFFD');
            if (Character.isHighSurrogate(c)) {
                assertThat(i + 1 < chunk.length() && Character.isLowSurrogate(chunk.charAt(i + 1)))
                        .as("lone high surrogate in \"%s\"", chunk).isTrue();
                i++;
            } else {
                assertThat(Character.isLowSurrogate(c)).as("lone low surrogate in \"%s\"", chunk).isFalse();
            }
        }
    }

    @Test
    void everySingleSplitPointGivesWholeCharacters() {
        byte[] bytes = TEXT.getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= bytes.length; cut++) {
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            String a = d.push(Arrays.copyOfRange(bytes, 0, cut));
            String b = d.push(Arrays.copyOfRange(bytes, cut, bytes.length));
            String c = d.flush();
            assertWholeCharacters(a);
            assertWholeCharacters(b);
            assertThat(c).isEmpty();
            assertThat(a + b).isEqualTo(TEXT);
        }
    }

    @Test
    void byteByByteAndRandomChunks() {
        byte[] bytes = TEXT.getBytes(StandardCharsets.UTF_8);
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            String s = d.push(new byte[] {b});
            assertWholeCharacters(s);
            sb.append(s);
        }
        sb.append(d.flush());
        assertThat(sb.toString()).isEqualTo(TEXT);

        Random r = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            Utf8StreamDecoder dd = new Utf8StreamDecoder();
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < bytes.length) {
                int len = Math.min(bytes.length - i, r.nextInt(6));
                String s = dd.push(Arrays.copyOfRange(bytes, i, i + len));
                assertWholeCharacters(s);
                out.append(s);
                i += len;
            }
            out.append(dd.flush());
            assertThat(out.toString()).isEqualTo(TEXT);
        }
    }

    /**
     * With invalid bytes anywhere, streaming in random chunks gives what the WHATWG TextDecoder (Node, the
     * reference) gives for the whole array: one U+FFFD per maximal subpart.
     */
    @Test
    void invalidBytesBecomeReplacementCharactersLikeTextDecoder() {
        Random r = new Random(11);
        byte[] valid = TEXT.getBytes(StandardCharsets.UTF_8);
        byte[] specials = {(byte) 0x80, (byte) 0xBF, (byte) 0xC0, (byte) 0xC1, (byte) 0xC2, (byte) 0xE0, (byte) 0xED,
                (byte) 0xEF, (byte) 0xF0, (byte) 0xF4, (byte) 0xF5, (byte) 0xFF, (byte) 0xA0, (byte) 0x9F, (byte) 0x8F, 'a'};
        List<byte[]> inputs = new ArrayList<>();
        for (int trial = 0; trial < 3000; trial++) {
            byte[] bytes = new byte[1 + r.nextInt(24)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = r.nextInt(3) == 0 ? specials[r.nextInt(specials.length)] : valid[r.nextInt(valid.length)];
            }
            inputs.add(bytes);
        }
        List<int[]> asInts = inputs.stream().map(b -> {
            int[] v = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                v[i] = b[i] & 0xFF;
            }
            return v;
        }).toList();
        List<String> expected = NodeReference.utf8(asInts);
        for (int t = 0; t < inputs.size(); t++) {
            byte[] bytes = inputs.get(t);
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < bytes.length) {
                int len = Math.min(bytes.length - i, 1 + r.nextInt(4));
                out.append(d.push(Arrays.copyOfRange(bytes, i, i + len)));
                i += len;
            }
            out.append(d.flush());
            assertThat(out.toString()).as("bytes %s", Arrays.toString(bytes)).isEqualTo(expected.get(t));
        }
    }

    @Test
    void tokenByTokenDecodingOfRealTokenizerHoldsBackPartialCharacters() {
        Tokenizer tok = Tokenizers.fromHfDirectory(NodeReference.modelDir("qwen3"));
        int[] ids = tok.encode(TEXT, true);
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        boolean heldBack = false;
        for (int id : ids) {
            String s = d.push(tok.tokenBytes(id));
            heldBack |= d.hasPending();
            assertWholeCharacters(s);
            out.append(s);
        }
        out.append(d.flush());
        // Qwen's tokenizer NFC-normalizes, so the round trip gives the NFC form of the text.
        assertThat(out.toString()).isEqualTo(java.text.Normalizer.normalize(TEXT, java.text.Normalizer.Form.NFC));
        assertThat(heldBack).as("some token ends inside a character").isTrue();
    }
}
