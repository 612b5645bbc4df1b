package ai.autoglm.core.tokenizer;

/**
 * UTF-8 decoding with U+FFFD for each "maximal subpart" of an ill-formed sequence (Unicode 15 §3.9,
 * "U+FFFD Substitution of Maximal Subparts"; the WHATWG Encoding standard's decoder, which transformers.js'
 * TextDecoder uses, and Rust's String::from_utf8_lossy, which HF tokenizers uses). The JDK's decoder differs
 * for encoded surrogates and some over-long forms, so decoded text and streamed text could disagree on the
 * number of U+FFFD; this one is used for both.
 */
final class Utf8 {
    private Utf8() {
    }

    static String decode(byte[] b) {
        return decode(b, 0, b.length);
    }

    static String decode(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int end = off + len;
        int i = off;
        while (i < end) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 2;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 3;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F;
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 4;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b0 & (0xFF >> (need + 1));
            int j = i + 1;
            boolean ok = true;
            for (int k = 1; k < need; k++, j++) {
                int c = j < end ? b[j] & 0xFF : -1;
                int l = k == 1 ? lo : 0x80;
                int h = k == 1 ? hi : 0xBF;
                if (c < l || c > h) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
            } else {
                sb.append('\uFFFD'); // one replacement for the bytes i..j-1, the maximal subpart
            }
            i = j;
        }
        return sb.toString();
    }
}
