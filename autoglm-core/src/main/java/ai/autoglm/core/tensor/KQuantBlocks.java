package ai.autoglm.core.tensor;

/**
 * The dot of the types without a kernel of their own (Q2_K, Q3_K): each block decoded by the type's scalar
 * {@link SegmentTensor#dequantizeBlock} into a scratch array, then a Vector API float dot with x (when the Vector API
 * is on; {@link SegmentTensor} calls this only on that path). Correct for every type the decoder is; a tenth or less
 * of a tuned kernel's speed.
 */
final class KQuantBlocks {
    private KQuantBlocks() {
    }

    static float dotByBlocks(SegmentTensor w, long firstBlock, int nBlocks, float[] x, int xOffset) {
        int bs = w.type().blockSize;
        float[] block = new float[bs];
        float sum = 0f;
        for (int b = 0; b < nBlocks; b++) {
            w.dequantizeBlock(firstBlock + b, block, 0);
            sum += VectorKernels.dotFloats(block, x, xOffset + b * bs, bs);
        }
        return sum;
    }
}
