package ai.autoglm.core.model;

/**
 * The q/k row permutation between Hugging Face's rotate-half rope layout and GGUF llama's interleaved one
 * ({@link HfLayout#permuteQK()}): the converter applies it when it writes a GGUF, LoRA adapters are mapped through it
 * in both directions. One copy, here beside the architecture table that says which layouts need it.
 */
public final class QkRowPermutation {

    private QkRowPermutation() {
    }

    /**
     * convert_hf_to_gguf.py {@code LlamaModel.permute}: {@code w.reshape(n_head, 2, rows / n_head / 2, *rest)
     * .swapaxes(1, 2).reshape(w.shape)}. Within each head, HF (rotate-half) keeps the first halves of the rotation pairs
     * in rows [0, d/2) and the second halves in [d/2, d); GGUF llama (interleaved rope) wants pair i in rows 2i, 2i+1.
     * So output row {@code h*d + 2*i + k} is input row {@code h*d + k*d/2 + i}. Works for 2-D weights and 1-D biases
     * ({@code rowLen} = 1).
     */
    public static float[] permute(float[] in, int rows, int rowLen, int heads) {
        int headRows = rows / heads, half = headRows / 2;
        float[] out = new float[in.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int k = 0; k < 2; k++) {
                    int dst = h * headRows + 2 * i + k;
                    int srcRow = h * headRows + k * half + i;
                    System.arraycopy(in, srcRow * rowLen, out, dst * rowLen, rowLen);
                }
            }
        }
        return out;
    }

    /** Inverse of {@link #permute}: output row {@code h*d + k*d/2 + i} is input row {@code h*d + 2*i + k}. */
    public static float[] unpermute(float[] in, int rows, int rowLen, int heads) {
        int headRows = rows / heads, half = headRows / 2;
        float[] out = new float[in.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int k = 0; k < 2; k++) {
                    System.arraycopy(in, (h * headRows + 2 * i + k) * rowLen, out, (h * headRows + k * half + i) * rowLen, rowLen);
                }
            }
        }
        return out;
    }
}
