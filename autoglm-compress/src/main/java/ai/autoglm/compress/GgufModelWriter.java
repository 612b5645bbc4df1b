package ai.autoglm.compress;

import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.SegmentTensor;

import java.nio.file.Path;

/**
 * Writes a {@link GgufModel} as GGUF v3 through core's {@link GgufWriter} (atomic: temp file, then rename). Tensors
 * passed through unchanged keep their bytes; edited ones are converted from F32 to their {@link EditedWeights#storageType}
 * or, when their new row length is not a whole number of that type's blocks (a pruned FFN of 120 channels cannot be
 * Q4_K), to {@link #fallbackType}.
 */
public final class GgufModelWriter {
    private GgufModelWriter() {
    }

    public static void write(GgufModel model, Path out) {
        GgufWriter w = new GgufWriter();
        model.metadata().forEach(w::put);
        WeightSource weights = model.weights();
        for (String name : weights.names()) {
            FloatTensor t = weights.tensor(name);
            long[] shape = weights.shape(name);
            GgmlType wanted = EditedWeights.storageType(weights, name);
            if (t instanceof SegmentTensor seg && t.type() == wanted) {
                w.addTensor(name, shape, t.type(), seg.segment());
            } else {
                w.addTensor(name, shape, EditedWeights.floats(weights, name), fallbackType(wanted, shape[0]));
            }
        }
        w.write(out);
    }

    /**
     * {@code wanted} when a row of {@code rowLength} is whole blocks of it (and the writer can produce it); otherwise the
     * closest type that fits: Q8_0 for a quantized type when rows are multiples of 32, else F16 for 16-bit and quantized
     * types, else F32.
     */
    public static GgmlType fallbackType(GgmlType wanted, long rowLength) {
        if (wanted == null) return GgmlType.F32;
        boolean writable = switch (wanted) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
        if (writable && rowLength % wanted.blockSize == 0) return wanted;
        if (wanted.blockSize > 1 && rowLength % GgmlType.Q8_0.blockSize == 0) return GgmlType.Q8_0;
        return wanted == GgmlType.F32 ? GgmlType.F32 : GgmlType.F16;
    }
}
