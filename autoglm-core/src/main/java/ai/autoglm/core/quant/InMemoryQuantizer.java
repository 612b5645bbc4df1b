package ai.autoglm.core.quant;

import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Quantizer;
import ai.autoglm.core.tensor.Tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Quantizes a checkpoint's weights into memory at load time ({@code serve --quantize}): every tensor whose type
 * the {@link WeightTypeRule} changes is converted with core's {@link Quantizer} (ggml's reference quantizers, so
 * the bytes equal those of a file written with the same types) into off-heap memory, a group of rows at a time so
 * the heap never holds a whole F32 matrix. When every tensor is converted the checkpoint is closed at once (its
 * mapped pages are no longer part of the model); otherwise the unchanged tensors stay views of the checkpoint.
 */
public final class InMemoryQuantizer {
    /** Elements dequantized and quantized per step: bounds the heap used for one conversion to ~4 MiB + its output. */
    private static final int GROUP_ELEMENTS = 1 << 20;

    private InMemoryQuantizer() {
    }

    /**
     * Loads the model at {@code path} ({@link ModelLoader}) with its weights quantized to {@code target} in memory;
     * {@code target == null} loads it as stored.
     */
    public static LanguageModel load(Path path, GgmlType target) {
        return ModelLoader.load(path, LoadOptions.defaults().withWeights(transform(target)));
    }

    /** The weight transform for {@link ModelLoader}: quantize to {@code target}, or (null) leave the weights as stored. */
    public static BiFunction<ModelConfig, WeightSource, WeightSource> transform(GgmlType target) {
        return target == null ? (config, w) -> w : (config, w) -> quantize(config, w, target);
    }

    /** {@code source}'s weights with the types {@link WeightTypeRule#apply} gives for {@code target}; takes ownership of {@code source}. */
    public static WeightSource quantize(ModelConfig config, WeightSource source, GgmlType target) {
        return convert(source, WeightTypeRule.apply(config, TensorSpec.of(source), target));
    }

    /** {@code source}'s weights converted to the types of {@code plan} (same names and shapes); takes ownership of {@code source}. */
    public static WeightSource convert(WeightSource source, List<TensorSpec> plan) {
        Map<String, TensorSpec> current = new LinkedHashMap<>();
        for (TensorSpec t : TensorSpec.of(source)) current.put(t.name(), t);
        boolean allConverted = true;
        for (TensorSpec p : plan) {
            TensorSpec c = current.get(p.name());
            if (c == null) throw new IllegalArgumentException("plan names tensor " + p.name() + ", which the model does not have");
            if (c.elements() != p.elements()) throw new IllegalArgumentException("plan gives " + p.name() + " shape " + java.util.Arrays.toString(p.shape()) + ", the model has " + c);
            if (c.type() == p.type() && p.dims() >= 2) allConverted = false;
        }
        Arena arena = Arena.ofShared();
        MapWeightSource converted = new MapWeightSource();
        try {
            for (TensorSpec p : plan) {
                FloatTensor t = source.tensor(p.name());
                boolean copy = t.type() != p.type() || allConverted;
                converted.put(p.name(), copy ? convert(t, p, arena) : t, p.shape());
            }
        } catch (RuntimeException e) {
            arena.close();
            source.close();
            throw e;
        }
        if (allConverted) source.close();
        // Closing frees the converted tensors' memory and closes the checkpoint still backing the others.
        WeightSource backing = allConverted ? null : source;
        return converted.onClose(() -> {
            arena.close();
            if (backing != null) backing.close();
        });
    }

    /** {@code t} in {@code spec.type()}, row groups quantized one after another into one off-heap segment. */
    private static FloatTensor convert(FloatTensor t, TensorSpec spec, Arena arena) {
        GgmlType type = spec.type();
        long n = t.size();
        long rowLength = spec.shape()[0];
        if (rowLength % type.blockSize != 0) {
            throw new IllegalArgumentException(spec.name() + ": rows of " + rowLength + " are not whole " + type + " blocks of " + type.blockSize);
        }
        MemorySegment out = arena.allocate(type.bytesFor(n), 64);
        long rowsPerGroup = Math.max(1, GROUP_ELEMENTS / rowLength);
        long groupElements = rowsPerGroup * rowLength;
        float[] buf = new float[(int) Math.min(n, groupElements)];
        long byteOffset = 0;
        for (long start = 0; start < n; start += groupElements) {
            int count = (int) Math.min(groupElements, n - start);
            float[] values = count == buf.length ? buf : new float[count];
            t.copyTo(start, values, 0, count);
            MemorySegment q = Quantizer.quantize(type, values);
            MemorySegment.copy(q, 0, out, byteOffset, q.byteSize());
            byteOffset += q.byteSize();
        }
        return Tensors.view(type, out, n);
    }
}
