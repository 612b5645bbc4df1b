package ai.autoglm.compress.eval;

/**
 * How {@link QualityEvaluator} measures.
 *
 * @param context            tokens per window (llama-perplexity's {@code -c}); 0 = min(512, the model's context),
 *                           512 being llama-perplexity's default
 * @param maxWindows         at most this many windows ({@code --chunks}); 0 or less = every whole window of the text
 * @param promptTokens       tokens of the pp (prefill) measurement, at most the window
 * @param genTokens          tokens of the tg (decode) measurement, at most the window
 * @param speedRepetitions   measured pp/tg repetitions after one warm-up; 0 skips the speed measurement
 */
public record EvalSettings(int context, int maxWindows, int promptTokens, int genTokens, int speedRepetitions) {
    public static final int DEFAULT_CONTEXT = 512;

    public EvalSettings {
        if (context < 0) throw new IllegalArgumentException("context must be >= 0, got " + context);
        if (promptTokens < 1 || genTokens < 1) throw new IllegalArgumentException("pp and tg token counts must be positive");
        if (speedRepetitions < 0) throw new IllegalArgumentException("speed repetitions must be >= 0, got " + speedRepetitions);
    }

    /** The model's default window, every window, pp 128 / tg 32 tokens (llama-bench's pp512/tg128 scaled to small windows), 2 repetitions. */
    public static EvalSettings defaults() {
        return new EvalSettings(0, 0, 128, 32, 2);
    }

    public EvalSettings withContext(int c) {
        return new EvalSettings(c, maxWindows, promptTokens, genTokens, speedRepetitions);
    }

    public EvalSettings withMaxWindows(int w) {
        return new EvalSettings(context, w, promptTokens, genTokens, speedRepetitions);
    }

    public EvalSettings withSpeedRepetitions(int r) {
        return new EvalSettings(context, maxWindows, promptTokens, genTokens, r);
    }
}
