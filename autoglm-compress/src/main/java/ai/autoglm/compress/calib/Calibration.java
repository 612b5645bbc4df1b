package ai.autoglm.compress.calib;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;

/**
 * Runs calibration text through a model to collect {@link ActivationStatistics}: the text is tokenized by the model's
 * own tokenizer and run in independent windows (fresh KV cache each), as llama.cpp's imatrix tool runs its chunks.
 */
public final class Calibration {
    /** Window length when the model's context allows it (long enough for attention to matter, short enough to be quick). */
    public static final int DEFAULT_WINDOW = 256;

    private Calibration() {
    }

    /** Statistics of {@code model} over at most {@code maxTokens} tokens of {@code text}. */
    public static ActivationStatistics collect(GgufModel model, String text, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("calibration token budget must be positive, got " + maxTokens);
        ActivationStatistics stats = new ActivationStatistics();
        try (LanguageModel m = model.load(stats)) {
            int[] tokens = m.tokenizer().encode(text, false);
            if (tokens.length < 2) {
                throw new IllegalArgumentException("calibration text has " + tokens.length + " tokens; at least 2 are needed");
            }
            int total = Math.min(tokens.length, maxTokens);
            int window = Math.min(DEFAULT_WINDOW, m.config().contextLength());
            for (int start = 0; start < total; start += window) {
                int n = Math.min(window, total - start);
                InferenceState s = m.newState(n);
                m.forward(s, tokens, start, n, false);
            }
        }
        return stats;
    }
}
