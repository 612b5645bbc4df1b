package ai.autoglm.train.qat;

import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;
import ai.autoglm.train.Parameter;
import ai.autoglm.train.WeightTransform;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Fake quantization for quantization-aware training (Jacob et al. 2018, "Quantization and Training of Neural
 * Networks for Efficient Integer-Arithmetic-Only Inference", section 3): the forward pass sees each weight
 * quantized to the GGML type the exported file will hold and dequantized again, so it computes exactly what the
 * quantized model will; gradients reach the F32 master weights unchanged (straight-through estimator, see
 * {@link ai.autoglm.train.TrainableTransformer#setWeightTransform}).
 *
 * <p>The rounding is core's {@link Quantizer} (a port of ggml's {@code quantize_row_*_ref}, byte-identical) and the
 * dequantization the engine's own tensor classes ({@link Tensors#view}), so training, the exported file and
 * inference agree bit for bit. Blocks never span rows, so tensors are quantized in parallel chunks of whole rows.
 */
public final class FakeQuantization implements WeightTransform {
    /** Rows per parallel chunk. */
    private static final int ROWS_PER_CHUNK = 16;
    private final TensorTypeRule rule;

    public FakeQuantization(TensorTypeRule rule) {
        this.rule = rule;
    }

    @Override
    public boolean appliesTo(Parameter p) {
        return rule.typeOf(p.name(), p.shape()) != GgmlType.F32;
    }

    @Override
    public void apply(Parameter p, float[] out) {
        GgmlType type = rule.typeOf(p.name(), p.shape());
        int rowLength = Math.toIntExact(p.shape()[0]), rows = p.size() / rowLength;
        float[] w = p.value();
        int chunks = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        Parallel.forRange(chunks, (long) ROWS_PER_CHUNK * rowLength * 16, (from, to) -> {
            for (int c = from; c < to; c++) {
                int start = c * ROWS_PER_CHUNK * rowLength, end = Math.min(rows, (c + 1) * ROWS_PER_CHUNK) * rowLength;
                roundTrip(type, Arrays.copyOfRange(w, start, end), out, start);
            }
        });
    }

    /** {@code values} quantized to {@code type} and dequantized into {@code out[offset..]}. */
    static void roundTrip(GgmlType type, float[] values, float[] out, int offset) {
        MemorySegment q = Quantizer.quantize(type, values);
        Tensors.view(type, q, values.length).copyTo(0, out, offset, values.length);
    }
}
