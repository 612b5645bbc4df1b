package ai.autoglm.core.model;

import ai.autoglm.core.tensor.FloatTensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An in-memory {@link WeightSource}: tensors built in code (tests, weights computed at load time,
 * training). Names are GGUF names, shapes GGUF order.
 */
public final class MapWeightSource implements WeightSource {
    private final Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private Runnable onClose = () -> { };
    private boolean closed;

    public MapWeightSource put(String name, FloatTensor tensor, long... shape) {
        long elements = 1;
        for (long s : shape) elements = Math.multiplyExact(elements, s);
        if (elements != tensor.size()) {
            throw new IllegalArgumentException(name + ": shape holds " + elements + " elements, tensor has " + tensor.size());
        }
        tensors.put(name, tensor);
        shapes.put(name, shape.clone());
        return this;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public FloatTensor tensor(String name) {
        return tensors.get(name);
    }

    @Override
    public long[] shape(String name) {
        long[] s = shapes.get(name);
        return s == null ? null : s.clone();
    }

    /** What {@link #close} releases (off-heap memory the tensors live in, a checkpoint still backing some of them). */
    public MapWeightSource onClose(Runnable release) {
        this.onClose = release;
        return this;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        onClose.run();
    }
}
