package ai.autoglm.compress.eval;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;

/**
 * Prompt processing and generation timings as llama-bench takes them (llama.cpp tools/llama-bench): pp = one
 * forward of the prompt from an empty context up to the greedy pick of the next token, tg = single-token forwards
 * from an empty context, each followed by a greedy pick; both optionally after a context already holding some tokens
 * (llama-bench's {@code -d, --n-depth}). Shared by {@code autoglm bench} and {@code autoglm eval}.
 */
public final class SpeedProbe {
    private SpeedProbe() {
    }

    /** Seconds for one forward of {@code tokens[0 .. count)} from an empty context, up to the greedy pick of the next token. */
    public static double prefillSeconds(LanguageModel m, InferenceState state, int[] tokens, int count) {
        return prefillSeconds(m, state, tokens, 0, count);
    }

    /**
     * Seconds for one forward of {@code tokens[depth .. depth + count)} after {@code depth} tokens already in the
     * context (llama-bench's {@code -d}: the context is filled first, unmeasured), up to the greedy pick.
     */
    public static double prefillSeconds(LanguageModel m, InferenceState state, int[] tokens, int depth, int count) {
        fill(m, state, tokens, depth);
        long s = System.nanoTime();
        argmax(m.forward(state, tokens, depth, count, false));
        return (System.nanoTime() - s) / 1e9;
    }

    /** Seconds for {@code count} single-token forwards of {@code tokens[0 .. count)} from an empty context, each followed by a greedy pick. */
    public static double decodeSeconds(LanguageModel m, InferenceState state, int[] tokens, int count) {
        return decodeSeconds(m, state, tokens, 0, count);
    }

    /** As {@link #decodeSeconds(LanguageModel, InferenceState, int[], int)} after {@code depth} tokens already in the context. */
    public static double decodeSeconds(LanguageModel m, InferenceState state, int[] tokens, int depth, int count) {
        fill(m, state, tokens, depth);
        long s = System.nanoTime();
        for (int i = depth; i < depth + count; i++) argmax(m.forward(state, tokens, i, 1, false));
        return (System.nanoTime() - s) / 1e9;
    }

    /**
     * As {@link #decodeSeconds(LanguageModel, InferenceState, int[], int, int)}, each token's forward and greedy pick
     * timed on its own: seconds per token, in order (for the JIT warm-up of a fresh process: {@code bench --token-times}).
     */
    public static double[] decodeTokenSeconds(LanguageModel m, InferenceState state, int[] tokens, int depth, int count) {
        fill(m, state, tokens, depth);
        double[] s = new double[count];
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            argmax(m.forward(state, tokens, depth + i, 1, false));
            s[i] = (System.nanoTime() - t0) / 1e9;
        }
        return s;
    }

    /** An empty context, then {@code tokens[0 .. depth)} in it (one forward, not timed). */
    private static void fill(LanguageModel m, InferenceState state, int[] tokens, int depth) {
        state.rewind(0);
        if (depth > 0) m.forward(state, tokens, 0, depth, false);
    }

    /** Index of the largest value, the first on ties. */
    public static int argmax(float[] logits) {
        return argmax(logits, 0, logits.length);
    }

    /** Index (relative to {@code offset}) of the largest of {@code v[offset .. offset+n)}, the first on ties. */
    public static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
        return best;
    }
}
