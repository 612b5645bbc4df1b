package ai.autoglm.core.model;

/**
 * One LoRA update of a projection (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3:
 * {@code h = W0 x + B A x}, here with PEFT's {@code scaling}): output rows {@code [rowOffset, rowOffset + outputRows)}
 * of the projection get {@code scale * B (A x)} added. The offset lets an update of one of q, k, v land in a fused
 * {@code attn_qkv}; it is 0 otherwise.
 *
 * @param a          {@code rank x inputDim}, row-major (PEFT {@code lora_A.weight})
 * @param b          {@code outputRows x rank}, row-major (PEFT {@code lora_B.weight}), already in the GGUF row order
 * @param scale      {@code lora_alpha / r} (or {@code / sqrt(r)} with rsLoRA)
 */
public record LoraUpdate(float[] a, float[] b, int rank, int inputDim, int outputRows, float scale, int rowOffset) {
    public LoraUpdate {
        if (rank < 1 || inputDim < 1 || outputRows < 1 || rowOffset < 0) {
            throw new IllegalArgumentException("bad LoRA dimensions: rank " + rank + ", in " + inputDim + ", out " + outputRows);
        }
        if ((long) rank * inputDim != a.length || (long) outputRows * rank != b.length) {
            throw new IllegalArgumentException("LoRA A has " + a.length + " values, B " + b.length + "; expected "
                    + rank + "x" + inputDim + " and " + outputRows + "x" + rank);
        }
    }

    /** {@code scale * B A} ({@code outputRows x inputDim}, row-major) in double: what merging adds to the weight rows. */
    public double[] delta() {
        double[] d = new double[outputRows * inputDim];
        for (int o = 0; o < outputRows; o++) {
            for (int k = 0; k < rank; k++) {
                double bk = (double) scale * b[o * rank + k];
                if (bk == 0) continue;
                for (int i = 0; i < inputDim; i++) d[o * inputDim + i] += bk * a[k * inputDim + i];
            }
        }
        return d;
    }
}
