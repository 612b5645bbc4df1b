package ai.autoglm.compress.eval;

import ai.autoglm.core.memory.MemoryEstimate;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.ProcessKind;
import ai.autoglm.core.memory.ProcessMemory;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.TransformerModel;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Measures a model's quality on a text the way llama.cpp's {@code llama-perplexity} does
 * (tools/perplexity/perplexity.cpp, {@code perplexity} and {@code kl_divergence}):
 * <ol>
 *   <li>the text is tokenized once with the tokenizer's special prefix ({@code common_tokenize(..., add_special=true)});</li>
 *   <li>it is cut into non-overlapping windows of {@code context} tokens ({@code n_chunk = tokens / n_ctx}); each
 *       window is evaluated from an empty KV cache, with its first tokens replaced by the prefix (llama.cpp puts BOS at
 *       the start of every chunk; GLM's prefix is {@code [gMASK]<sop>});</li>
 *   <li>only the second half of each window is scored ({@code first = n_ctx/2}: the logits after tokens
 *       {@code first .. n_ctx-2} against the tokens that follow them), so every scored prediction has at least half a
 *       window of context;</li>
 *   <li>perplexity = exp(mean negative log-likelihood); with a base model, on the same tokens, mean / p99 / max
 *       KL(base || model) and top-1 agreement ({@link TokenScores}).</li>
 * </ol>
 * Then pp and tg speed ({@link SpeedProbe}) and the process's peak resident memory. The compression search calls
 * {@link #evaluate} once per trial; the evaluator holds no state between calls.
 */
public final class QualityEvaluator {
    private final EvalSettings settings;
    private final Consumer<String> progress;

    /** @param progress receives one line per window (the CLI prints it on stderr); may be a no-op */
    public QualityEvaluator(EvalSettings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** The tokens llama-perplexity evaluates for {@code text}: the tokenizer's prefix, then the text with special tokens not parsed. */
    public static int[] tokenize(LanguageModel m, String text) {
        int[] prefix = m.tokenizer().prefixTokens();
        int[] body = m.tokenizer().encode(text, false);
        int[] all = Arrays.copyOf(prefix, prefix.length + body.length);
        System.arraycopy(body, 0, all, prefix.length, body.length);
        return all;
    }

    /** The window length for {@code m}: the setting, or min(512, the model's context). */
    public int contextFor(LanguageModel m) {
        int c = settings.context() > 0 ? settings.context() : Math.min(EvalSettings.DEFAULT_CONTEXT, m.config().contextLength());
        if (c < 4) throw new IllegalArgumentException("--ctx must be at least 4 (half of each window is context, half is scored), got " + c);
        if (c > m.config().contextLength()) {
            throw new IllegalArgumentException("--ctx " + c + " exceeds the model's context length " + m.config().contextLength());
        }
        return c;
    }

    /**
     * Evaluates {@code model} (named {@code modelName} in the report) on {@code text}, against {@code base} when it is
     * not null (the two must share a tokenizer: {@link SharedVocabulary}).
     *
     * @throws IllegalArgumentException when the text is shorter than one window, or the vocabularies differ
     */
    public QualityReport evaluate(LanguageModel model, String modelName, LanguageModel base, String baseName, String text) {
        if (base != null) SharedVocabulary.check(base, baseName, model, modelName);
        int ctx = contextFor(model);
        if (base != null) contextFor(base);
        int[] tokens = tokenize(model, text);
        int available = tokens.length / ctx;
        if (available == 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "the text tokenizes to %d tokens, fewer than one window of %d (--ctx): give a longer text or a smaller --ctx",
                    tokens.length, ctx));
        }
        int windows = settings.maxWindows() > 0 ? Math.min(settings.maxWindows(), available) : available;
        int vocab = model.config().vocabSize();
        int first = ctx / 2;
        int[] prefix = model.tokenizer().prefixTokens();
        InferenceState state = model.newState(ctx);
        InferenceState baseState = base != null ? base.newState(ctx) : null;
        TokenScores scores = new TokenScores();
        long start = System.nanoTime();
        for (int w = 0; w < windows; w++) {
            int[] win = Arrays.copyOfRange(tokens, w * ctx, (w + 1) * ctx);
            System.arraycopy(prefix, 0, win, 0, Math.min(prefix.length, first));
            scoreWindow(model, state, base, baseState, win, first, vocab, scores);
            double[] ppl = scores.perplexity();
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "window %d/%d: ppl %.4f", w + 1, windows, ppl[0]));
            if (base != null) line.append(String.format(Locale.ROOT, ", mean KLD %.6f, same top %.2f%%", scores.meanKld()[0], 100 * scores.sameTop()[0]));
            double elapsed = (System.nanoTime() - start) / 1e9;
            line.append(String.format(Locale.ROOT, " (%.1f s, about %.0f s left)", elapsed, elapsed / (w + 1) * (windows - w - 1)));
            progress.accept(line.toString());
        }
        double pp = Double.NaN, tg = Double.NaN;
        if (settings.speedRepetitions() > 0) {
            int[] win = Arrays.copyOf(tokens, ctx);
            System.arraycopy(prefix, 0, win, 0, Math.min(prefix.length, first));
            int ppTokens = Math.min(settings.promptTokens(), ctx), tgTokens = Math.min(settings.genTokens(), ctx);
            SpeedProbe.prefillSeconds(model, state, win, ppTokens); // warm-up, as llama-bench
            SpeedProbe.decodeSeconds(model, state, win, tgTokens);
            double ppSeconds = 0, tgSeconds = 0;
            for (int r = 0; r < settings.speedRepetitions(); r++) {
                ppSeconds += SpeedProbe.prefillSeconds(model, state, win, ppTokens);
                tgSeconds += SpeedProbe.decodeSeconds(model, state, win, tgTokens);
            }
            pp = ppTokens * settings.speedRepetitions() / ppSeconds;
            tg = tgTokens * settings.speedRepetitions() / tgSeconds;
        }
        double[] ppl = scores.perplexity();
        QualityReport.Comparison cmp = null;
        if (base != null) {
            double[] b = scores.basePerplexity(), ratio = scores.perplexityRatio(), kld = scores.meanKld(), top = scores.sameTop();
            cmp = new QualityReport.Comparison(b[0], b[1], ratio[0], ratio[1], kld[0], kld[1],
                    scores.kldPercentile(0.99), scores.kldPercentile(1.0), top[0], top[1]);
        }
        MemoryEstimate estimate = model instanceof TransformerModel tm
                ? MemoryModel.forSingleSequence(ProcessKind.CLI, model.config(), TensorSpec.of(tm.weights()), ctx, tm.kvCacheTypes()) : null;
        return new QualityReport(modelName, base != null ? baseName : null, ctx, windows, scores.count(), ppl[0], ppl[1], cmp,
                pp, tg, ProcessMemory.peakResidentBytes(), estimate);
    }

    /**
     * One window from an empty cache: the first half only fills the cache; the logits after tokens
     * {@code first .. ctx-2} are scored against the next token, in chunks of rows so that only a few rows of logits
     * exist at once (the last token is never run: nothing in the window follows it).
     */
    private static void scoreWindow(LanguageModel model, InferenceState state, LanguageModel base, InferenceState baseState,
                                    int[] win, int first, int vocab, TokenScores scores) {
        int ctx = win.length;
        state.rewind(0);
        model.forward(state, win, 0, first, false);
        if (base != null) {
            baseState.rewind(0);
            base.forward(baseState, win, 0, first, false);
        }
        int chunk = MemoryModel.MAX_BATCH;
        for (int j = first; j < ctx - 1; j += chunk) {
            int n = Math.min(chunk, ctx - 1 - j);
            float[] logits = model.forward(state, win, j, n, true);
            float[] baseLogits = base != null ? base.forward(baseState, win, j, n, true) : null;
            for (int r = 0; r < n; r++) scores.add(logits, r * vocab, baseLogits, r * vocab, vocab, win[j + r + 1]);
        }
    }
}
