package ai.autoglm.core.model;

/**
 * A short throwaway generation at load, so that a user's first tokens run compiled code: before C2 has compiled the
 * kernels, the first generated token of a fresh process cost ~4x the steady state with the native kernels and ~9x
 * with the Java ones (their Vector API code runs boxed until compiled), tokens 2-4 ~1.8x (bench --token-times,
 * bench/RESULTS.md "First tokens"). llama.cpp does the same at start (an empty warm-up decode in common_init_from_params).
 *
 * <p>One prefill of {@link #PREFILL_TOKENS} tokens (the GEMM paths: every type's prefill route starts at or below
 * that many tokens) and {@link #DECODE_STEPS} one-token steps (the decode kernels, the output layer), on a state of
 * its own that is closed at once: the model's other sequences, caches and outputs are untouched. Only
 * {@link TransformerModel}s are warmed (other {@link LanguageModel}s have no kernels to compile).
 * {@code -Dautoglm.warmUp=false} skips it (to measure the cold first tokens).
 */
public final class WarmUp {
    /** Prompt tokens of the warm-up: above every prefill route's threshold (native GEMMs from 8, Java panel GEMM from 13). */
    static final int PREFILL_TOKENS = 16;
    /** Single-token steps after it: with 4, tokens 1-3 of the next generation still ran 1.4-1.8x the steady time (C2 still compiling); with 8, see bench/RESULTS.md "First tokens". */
    static final int DECODE_STEPS = 8;

    private WarmUp() {
    }

    /** Whether load-time warm-up is on ({@code -Dautoglm.warmUp}, default true). */
    public static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("autoglm.warmUp", "true"));
    }

    /**
     * Runs the warm-up on {@code model} when it is enabled and the model is a transformer; returns the nanoseconds it
     * took (0 when skipped).
     */
    public static long run(LanguageModel model) {
        if (!enabled() || !(model instanceof TransformerModel m)) return 0;
        long start = System.nanoTime();
        int positions = Math.min(PREFILL_TOKENS + DECODE_STEPS, m.config().contextLength());
        int prefill = Math.max(1, positions - DECODE_STEPS);
        int vocab = m.config().vocabSize();
        int[] tokens = new int[positions];
        // Any valid ids do: the point is the code paths, not the text. Spread over the vocabulary, so the embedding
        // lookups are not all one row.
        for (int i = 0; i < positions; i++) tokens[i] = (int) ((i * 7919L + 1) % vocab);
        try (InferenceState s = m.newState(positions)) {
            m.forward(s, tokens, 0, prefill, false);
            for (int i = prefill; i < positions; i++) m.forward(s, tokens, i, 1, false);
        }
        return System.nanoTime() - start;
    }
}
