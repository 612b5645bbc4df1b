package ai.autoglm.core.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes SentencePiece {@code tokenizer.model} files (ModelProto) for tests. */
public final class SentencePieceProto {
    private SentencePieceProto() {
    }

    // ---- a minimal protobuf writer (wire format: varint tags, length-delimited messages, fixed32 floats) ----

    public static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        public Proto varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        public Proto intField(int field, long v) {
            return varint((long) field << 3).varint(v);
        }

        public Proto bytesField(int field, byte[] b) {
            varint(((long) field << 3) | 2).varint(b.length);
            out.writeBytes(b);
            return this;
        }

        public Proto stringField(int field, String s) {
            return bytesField(field, s.getBytes(StandardCharsets.UTF_8));
        }

        public Proto floatField(int field, float f) {
            varint(((long) field << 3) | 5);
            int bits = Float.floatToIntBits(f);
            for (int i = 0; i < 4; i++) {
                out.write((bits >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        public byte[] bytes() {
            return out.toByteArray();
        }
    }

    public record P(String piece, float score, int type) {
    }

    /** ModelProto bytes (field numbers from google/sentencepiece src/sentencepiece_model.proto). */
    public static byte[] modelProto(List<P> pieces, boolean byteFallback, boolean dummyPrefix, boolean removeExtra) {
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

    /** A small ChatGLM3-style vocabulary: unk/bos/eos, 256 byte pieces, some Latin and Chinese pieces scored for BPE. */
    public static List<P> chatglm3StylePieces() {
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

}
