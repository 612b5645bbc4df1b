package ai.autoglm.compress;

import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A {@link WeightSource} made from another one by edits: tensors replaced or added as F32 values (with the type they
 * should be stored in), removed, or passed through under another name. Untouched tensors stay views of the base (for a
 * GGUF file, the mapped bytes), so an edit costs memory only for what it changes, and {@link GgufModelWriter} copies
 * the untouched ones byte for byte. Names and shapes follow {@link WeightSource}: GGUF names, GGUF shape order.
 * Closing it does not close the base (several edits may share one opened file).
 */
public final class EditedWeights implements WeightSource {

    /** Where one tensor comes from. */
    private sealed interface Entry permits FromBase, Values {
    }

    private record FromBase(String baseName) implements Entry {
    }

    private record Values(float[] values, long[] shape, GgmlType type) implements Entry {
    }

    private final WeightSource base;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private EditedWeights(WeightSource base) {
        this.base = base;
    }

    /** Every tensor of {@code base}, unchanged; edit from there. */
    public static EditedWeights of(WeightSource base) {
        EditedWeights e = new EditedWeights(base);
        for (String n : base.names()) e.entries.put(n, new FromBase(n));
        return e;
    }

    /** No tensors yet; {@link #passThrough} and {@link #put} add them in order (used when names change, e.g. layer dropping). */
    public static EditedWeights empty(WeightSource base) {
        return new EditedWeights(base);
    }

    /**
     * Sets tensor {@code name} to {@code values} of {@code shape} (GGUF order), to be stored as {@code type} (the
     * writer falls back to a type whose block fits when the row length does not). Keeps the position of a replaced tensor.
     */
    public EditedWeights put(String name, float[] values, long[] shape, GgmlType type) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        if (n != values.length) throw new IllegalArgumentException(name + ": shape holds " + n + " elements, got " + values.length);
        entries.put(name, new Values(values, shape.clone(), type));
        return this;
    }

    /** Serves base tensor {@code baseName} unchanged as {@code name}. */
    public EditedWeights passThrough(String name, String baseName) {
        if (base.shape(baseName) == null) throw new IllegalArgumentException("no tensor " + baseName);
        entries.put(name, new FromBase(baseName));
        return this;
    }

    public EditedWeights remove(String name) {
        entries.remove(name);
        return this;
    }

    /**
     * The type {@code name} should be written in: the one given to {@link #put}, else the base tensor's (through any
     * chain of edits, so an edit of an edit keeps the first edit's intent).
     */
    public GgmlType storageType(String name) {
        Entry e = entries.get(name);
        if (e == null) return null;
        return switch (e) {
            case Values v -> v.type();
            case FromBase f -> storageType(base, f.baseName());
        };
    }

    /** The type {@code name} of {@code weights} should be stored in. */
    public static GgmlType storageType(WeightSource weights, String name) {
        if (weights instanceof EditedWeights e) return e.storageType(name);
        FloatTensor t = weights.tensor(name);
        return t == null ? null : t.type();
    }

    /** The values of tensor {@code name} as floats (dequantized when the base stores it quantized). */
    public static float[] floats(WeightSource weights, String name) {
        FloatTensor t = weights.tensor(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        if (t instanceof ArrayFloatTensor a) return a.values().clone();
        float[] out = new float[Math.toIntExact(t.size())];
        t.copyTo(0, out, 0, out.length);
        return out;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    @Override
    public FloatTensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) return null;
        return switch (e) {
            case Values v -> new ArrayFloatTensor(v.values());
            case FromBase f -> base.tensor(f.baseName());
        };
    }

    @Override
    public long[] shape(String name) {
        Entry e = entries.get(name);
        if (e == null) return null;
        return switch (e) {
            case Values v -> v.shape().clone();
            case FromBase f -> base.shape(f.baseName());
        };
    }

    @Override
    public void close() {
    }
}
