package ai.autoglm.core.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping ("bytes_to_unicode" in openai/gpt-2 encoder.py, the HF
 * tokenizers ByteLevel pre-tokenizer/decoder and llama.cpp unicode.cpp unicode_byte_to_utf8_map): printable
 * Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order, so every byte string is a
 * string of visible characters and byte-level BPE vocabularies can be stored as text.
 */
public final class ByteLevel {
    /** byte (0..255) → the character standing for it. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** character → byte, or -1 for characters outside the mapping. Indexed by char value (all are < 0x200). */
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** Encodes raw bytes into the byte-level alphabet. */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * Decodes a vocabulary string of the byte-level alphabet back to bytes. A character outside the
     * alphabet (never in a well-formed vocabulary) is kept as its own UTF-8 bytes rather than dropped.
     */
    static byte[] decode(String token) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); ) {
            int cp = token.codePointAt(i);
            int b = cp < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[cp] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes(new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            i += Character.charCount(cp);
        }
        return out.toByteArray();
    }
}
