package ai.autoglm.server.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A small least-recently-used map from a request field's JSON text to what was compiled from it (a JSON grammar,
 * a forced tool-call grammar). Grammars also hold the token masks they have computed, so a client that sends the
 * same schema or tools on every request (the usual case) pays for compiling and masking once, not per request.
 * Compilation runs outside the lock (two threads may compile the same text once each; both results are equal).
 */
final class CompiledCache<T> {
    private final Map<String, T> entries;

    CompiledCache(int capacity) {
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, T> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The value compiled from {@code key}, compiling it when absent; null results are not kept. */
    T get(String key, Supplier<T> compile) {
        synchronized (entries) {
            T known = entries.get(key);
            if (known != null) return known;
        }
        T value = compile.get();
        if (value != null) {
            synchronized (entries) {
                entries.put(key, value);
            }
        }
        return value;
    }
}
