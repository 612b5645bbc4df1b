package ai.autoglm.train;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The model's parameters by GGUF name, in a fixed order (the order optimizer state and checkpoints use). */
public final class ParameterSet {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();

    /** Adds {@code p} (e.g. extra trainable tensors next to a model's, such as distillation's hidden-state maps). */
    public Parameter add(Parameter p) {
        if (byName.putIfAbsent(p.name(), p) != null) throw new IllegalArgumentException("duplicate parameter " + p.name());
        return p;
    }

    /** The parameter, or null. */
    public Parameter get(String name) {
        return byName.get(name);
    }

    public Collection<Parameter> all() {
        return Collections.unmodifiableCollection(byName.values());
    }

    public long count() {
        long n = 0;
        for (Parameter p : byName.values()) n += p.size();
        return n;
    }

    public void zeroGradients() {
        for (Parameter p : byName.values()) Arrays.fill(p.grad(), 0f);
    }
}
