package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SentencePiece {@code tokenizer.model} (ModelProto) loading: the real Llama-2 vocabulary re-expressed as a
 * ModelProto written by this test must tokenize exactly like transformers.js on Llama-2's tokenizer.json; a small
 * ChatGLM3-style model is checked against a plain re-implementation of sentencepiece's BPE written here.
 */
class SentencePieceTokenizerTest {

    // ---- a minimal protobuf writer (wire format: varint tags, length-delimited messages, fixed32 floats) ----

    static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        Proto intField(int field, long v) {
            return varint((long) field << 3).varint(v);
        }

        Proto bytesField(int field, byte[] b) {
            varint(((long) field << 3) | 2).varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto stringField(int field, String s) {
            return bytesField(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto floatField(int field, float f) {
            varint(((long) field << 3) | 5);
            int bits = Float.floatToIntBits(f);
            for (int i = 0; i < 4; i++) {
                out.write((bits >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    record P(String piece, float score, int type) {
    }

    /** ModelProto bytes (field numbers from google/sentencepiece src/sentencepiece_model.proto). */
    static byte[] modelProto(List<P> pieces, boolean byteFallback, boolean dummyPrefix, boolean removeExtra) {
        Proto m = new Proto();
        for (P p : pieces) {
            Proto sp = new Proto().stringField(1, p.piece()).floatField(2, p.score());
            if (p.type() != 1) {
                sp.intField(3, p.type());
            }
            m.bytesField(1, sp.bytes());
        }
        Proto trainer = new Proto().intField(3, 2).intField(4, pieces.size()).intField(35, byteFallback ? 1 : 0)
                .intField(40, 0).intField(41, 1).intField(42, 2).intField(43, -1L); // pad_id = -1 as 10-byte varint
        m.bytesField(2, trainer.bytes());
        Proto norm = new Proto().stringField(1, "identity").intField(3, dummyPrefix ? 1 : 0)
                .intField(4, removeExtra ? 1 : 0).intField(5, 1);
        m.bytesField(3, norm.bytes());
        return m.bytes();
    }

    @Test
    void llama2VocabularyAsSentencePieceModelMatchesTransformersJs(@TempDir Path dir) throws Exception {
        Path hf = NodeReference.modelDir("llama2");
        JsonNode model = NodeReference.JSON.readTree(hf.resolve("tokenizer.json").toFile()).path("model");
        JsonNode vocab = model.path("vocab");
        String[] byId = new String[vocab.size()];
        vocab.fields().forEachRemaining(e -> byId[e.getValue().asInt()] = e.getKey());
        // A piece's score: minus the rank of the first merge producing it (HF's converter wrote the merges in
        // the order of the sentencepiece scores, so this recovers that order).
        Map<String, Integer> firstMerge = new HashMap<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String merged = m.isArray() ? m.get(0).asText() + m.get(1).asText() : m.asText().replaceFirst(" ", "");
            firstMerge.putIfAbsent(merged, rank++);
        }
        List<P> pieces = new ArrayList<>();
        for (int id = 0; id < byId.length; id++) {
            String t = byId[id];
            // <unk> UNKNOWN, <s> </s> CONTROL, <0xXX> BYTE; a longer piece no merge produces is UNUSED.
            int type = id == 0 ? 2 : id <= 2 ? 3 : t.matches("<0x[0-9A-F]{2}>") ? 6 : 1;
            Integer r = firstMerge.get(t);
            if (type == 1 && r == null && t.codePointCount(0, t.length()) > 1) {
                type = 5;
            }
            pieces.add(new P(t, r == null ? -1e9f : -r, type));
        }
        Files.write(dir.resolve("tokenizer.model"), modelProto(pieces, true, true, false));
        Tokenizer tok = Tokenizers.fromHfDirectory(dir);
        assertThat(tok.vocabSize()).isEqualTo(32000);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);

        List<String> texts = new ArrayList<>(TokenizerCorpus.FIXED);
        texts.addAll(TokenizerCorpus.random(100, 77L));
        for (boolean special : new boolean[] {true, false}) {
            List<NodeReference.Result> ref = NodeReference.encode(hf, texts, !special);
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tok.encode(texts.get(i), special);
                assertThat(ids).as("encode(%s, special=%s)", texts.get(i), special).containsExactly(ref.get(i).ids());
                assertThat(tok.decode(ids)).as("decode of %s", texts.get(i)).isEqualTo(ref.get(i).decoded());
            }
        }
    }

    /**
     * sentencepiece bpe_model.cc written plainly: characters as symbols, repeatedly merge the adjacent pair whose
     * concatenation is a normal piece with the highest score (leftmost on ties); unknown characters as byte pieces.
     */
    static List<Integer> referenceBpe(String text, List<P> pieces) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            ids.putIfAbsent(pieces.get(i).piece(), i);
        }
        String s = (" " + text).replace(' ', '\u2581');
        List<String> sym = new ArrayList<>();
        s.codePoints().forEach(cp -> sym.add(new String(Character.toChars(cp))));
        while (true) {
            int best = -1;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer id = ids.get(sym.get(i) + sym.get(i + 1));
                if (id != null && pieces.get(id).type() == 1 && (best < 0 || pieces.get(id).score() > bestScore)) {
                    best = i;
                    bestScore = pieces.get(id).score();
                }
            }
            if (best < 0) {
                break;
            }
            sym.set(best, sym.get(best) + sym.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        for (String x : sym) {
            Integer id = ids.get(x);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : x.getBytes(StandardCharsets.UTF_8)) {
                    out.add(ids.get(String.format("<0x%02X>", b & 0xFF)));
                }
            }
        }
        return out;
    }

    static List<P> chatglm3StylePieces() {
        List<P> pieces = new ArrayList<>(List.of(new P("<unk>", 0, 2), new P("<s>", 0, 3), new P("</s>", 0, 3)));
        for (int b = 0; b < 256; b++) {
            pieces.add(new P(String.format("<0x%02X>", b), 0, 6));
        }
        String[] normal = {"\u2581", "a", "b", "c", "i", "s", "o", "p", "r", "y", "l", "你", "好", "\n", "ab", "bc", "abc",
            "\u2581a", "\u2581ab", "\u2581abc", "so", "sop", "op", "is", "iso", "\u2581i", "\u2581iso", "pr", "ro", "pro",
            "你好", "\u2581你", "\u2581你好", "yl", "pyl"};
        float score = -1;
        for (String t : normal) {
            pieces.add(new P(t, t.codePointCount(0, t.length()) == 1 ? -1000 : score--, 1));
        }
        pieces.add(new P("bca", -0.5f, 1)); // a high score for a piece reachable only as "bc"+"a"
        return pieces;
    }

    @Test
    void chatglm3StyleModelMatchesPlainSentencePieceBpeAndAddsChatglm3Specials(@TempDir Path dir) throws Exception {
        List<P> pieces = chatglm3StylePieces();
        int n = pieces.size();
        Files.write(dir.resolve("tokenizer.model"), modelProto(pieces, true, true, false));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"ChatGLMTokenizer\"}");
        Tokenizer tok = Tokenizers.fromHfDirectory(dir);
        // SPTokenizer: special tokens follow the pieces in this order.
        List<String> specials = List.of("[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>",
                "<|assistant|>", "<|observation|>");
        for (int i = 0; i < specials.size(); i++) {
            assertThat(tok.tokenId(specials.get(i))).as(specials.get(i)).isEqualTo(n + i);
            assertThat(tok.isSpecial(n + i)).isTrue();
        }
        assertThat(tok.vocabSize()).isEqualTo(n + specials.size());
        for (String text : List.of("abc", "abca", "bcab c", "isopropyl", "你好 ab", "x€y", "  a  b ", "so isop iso",
                "abcabcabc", "a\nb")) {
            assertThat(tok.encode(text, false)).as(text).containsExactly(ints(referenceBpe(text, pieces)));
            assertThat(tok.encode(text, true)).as(text).containsExactly(ints(referenceBpe(text, pieces)));
            assertThat(tok.decode(tok.encode(text, false))).isEqualTo(text);
        }
        // The chat template's prefix and role tokens are recognised; each text section gets its own dummy prefix
        // (SPTokenizer encodes every section separately). "sop" only stands alone, never inside "isopropyl".
        List<Integer> expected = new ArrayList<>(List.of(n + 1, n + 3, n + 6));
        expected.addAll(referenceBpe("\n 你好", pieces));
        expected.add(n + 7);
        int[] ids = tok.encode("[gMASK]sop<|user|>\n 你好<|assistant|>", true);
        assertThat(ids).containsExactly(ints(expected));
        assertThat(tok.encode("isopropyl sop", true)).containsExactly(ints(concat(referenceBpe("isopropyl ", pieces),
                List.of(n + 3))));
        assertThat(tok.encode("[gMASK]sop", false)).doesNotContain(n + 1, n + 3);
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Integer> concat(List<Integer> a, List<Integer> b) {
        List<Integer> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void removeExtraWhitespacesAndUnknownsWithoutByteFallback(@TempDir Path dir) throws Exception {
        List<P> pieces = new ArrayList<>(List.of(new P("<unk>", 0, 2), new P("<s>", 0, 3), new P("</s>", 0, 3),
                new P("\u2581", -1000, 1), new P("a", -1000, 1), new P("\u2581a", -1, 1)));
        Files.write(dir.resolve("tokenizer.model"), modelProto(pieces, false, true, true));
        Tokenizer tok = Tokenizers.fromHfDirectory(dir);
        // normalizer.cc: "  a   a  " → "a a" → "▁a▁a"; unknown characters become <unk>, a run of them one <unk>.
        assertThat(tok.encode("  a   a  ", false)).containsExactly(5, 5);
        assertThat(tok.encode("a xyz a", false)).containsExactly(5, 3, 0, 5);
    }

    @Test
    void corruptModelsAreNamedErrors(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tokenizer.model");
        byte[] good = modelProto(chatglm3StylePieces(), true, true, false);
        for (int cut : new int[] {1, 5, good.length / 2, good.length - 1}) {
            Files.write(model, java.util.Arrays.copyOf(good, cut));
            assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).as("cut at %d", cut)
                    .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.model");
        }
        Files.write(model, new Proto().varint(1 << 3 | 2).varint(Integer.MAX_VALUE).bytes());
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("runs past the end");
        Files.write(model, new byte[] {(byte) 0x0B}); // field 1, wire type 3 (groups)
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("unsupported wire type 3");
        Proto unigram = new Proto().bytesField(1, new Proto().stringField(1, "a").bytes())
                .bytesField(2, new Proto().intField(3, 1).bytes());
        Files.write(model, unigram.bytes());
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("model type 1");
        Proto badType = new Proto().bytesField(1, new Proto().stringField(1, "a").intField(3, 9).bytes());
        Files.write(model, badType.bytes());
        assertThatThrownBy(() -> Tokenizers.fromHfDirectory(dir)).hasMessageContaining("unknown type 9");
        // Deterministic single-byte corruption sweep: an error naming the file or a working tokenizer, never
        // another exception.
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 300; i++) {
            byte[] b = good.clone();
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            Files.write(model, b);
            try {
                Tokenizers.fromHfDirectory(dir).encode("abc 你好 isopropyl", true);
            } catch (ModelFormatException e) {
                assertThat(e.getMessage()).contains("tokenizer.model");
            }
        }
    }
}
