package ai.autoglm.core.generate;

import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Utf8StreamDecoder;

/**
 * The per-token half of generation, driven from outside: given the logits for the next position, pick the
 * token, apply the stop rules and turn its bytes into final text (holding back incomplete UTF-8 and possible
 * stop-string beginnings). {@link Generator} drives one stream with its own forward calls; a batching
 * scheduler drives many, one {@link #accept} per stream per step. Not thread-safe.
 */
public final class GenerationStream {
    /**
     * What one token produced.
     *
     * @param token        the sampled id (a stop token when {@code finish} is STOP and it ended generation)
     * @param counted      whether the token is part of the output (false for a stop token)
     * @param text         final text released by this step (possibly empty)
     * @param logprob      the model's log-probability of the token (NaN when the stream was made without logprobs)
     * @param topIds       the most likely ids at this position (empty unless top logprobs were asked for)
     * @param topLogprobs  their log-probabilities
     * @param finish       why generation ended with this step, or null when it goes on
     */
    public record Step(int token, boolean counted, String text, float logprob, int[] topIds, float[] topLogprobs,
                       FinishReason finish) {
    }

    private static final int[] NO_IDS = {};
    private static final float[] NO_LOGPROBS = {};

    private final LanguageModel model;
    private final Sequence sequence;
    private final GenerationRequest request;
    private final Sampler sampler;
    private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    private final StopSequenceMatcher stops;
    private final int maxTokens;
    private final boolean logprobs;
    private final int topLogprobs;
    private final boolean ignoreStopTokens;
    private int generated;
    private FinishReason finish;

    /**
     * @param topLogprobs      how many most likely alternatives each step reports (0 for none)
     * @param ignoreStopTokens keep generating past EOS / end-of-turn tokens (vLLM's {@code ignore_eos})
     * @throws ContextOverflowException when the prompt leaves no room in the sequence for a single new token
     */
    public GenerationStream(LanguageModel model, Sequence sequence, GenerationRequest request, int topLogprobs,
                            boolean ignoreStopTokens) {
        this(model, sequence, request, topLogprobs > 0, topLogprobs, ignoreStopTokens);
    }

    /**
     * @param logprobs whether each {@link Step#logprob} is computed (it costs a log-sum-exp over the vocabulary per
     *                 step); without it the step carries NaN
     */
    public GenerationStream(LanguageModel model, Sequence sequence, GenerationRequest request, boolean logprobs,
                            int topLogprobs, boolean ignoreStopTokens) {
        int promptLength = request.promptTokens().length;
        if (promptLength >= sequence.capacity()) throw new ContextOverflowException(promptLength, 1, sequence.capacity());
        this.model = model;
        this.sequence = sequence;
        this.request = request;
        this.sampler = new Sampler(request.sampling(), model.config().vocabSize());
        this.stops = new StopSequenceMatcher(request.stopStrings());
        // The answer is cut short ("length") where the context runs out before max tokens.
        this.maxTokens = Math.min(request.maxTokens(), sequence.capacity() - promptLength);
        this.logprobs = logprobs || topLogprobs > 0;
        this.topLogprobs = topLogprobs;
        this.ignoreStopTokens = ignoreStopTokens;
    }

    /**
     * Picks the next token from {@code logits} (the model's output after the sequence's last token). The request's
     * {@link LogitsProcessor}, if any, edits {@code logits} in place first (so logprobs are those of the constrained
     * distribution), follows each counted token, and ends generation with STOP once its output is complete. With
     * {@code ignoreStopTokens}, give the processor no end tokens, so that it never lets one through.
     */
    public Step accept(float[] logits) {
        if (finish != null) throw new IllegalStateException("generation already finished: " + finish);
        LogitsProcessor constraint = request.logitsProcessor();
        if (constraint != null) constraint.process(logits);
        int token = sampler.sample(logits, sequence.history(), sequence.historyLength());
        float logprob = logprobs ? sampler.lastLogprob() : Float.NaN;
        int[] topIds = NO_IDS;
        float[] top = NO_LOGPROBS;
        if (topLogprobs > 0) { // two arrays per token only when alternatives were asked for
            topIds = new int[topLogprobs];
            top = new float[topLogprobs];
            int n = sampler.topLogprobs(topLogprobs, topIds, top);
            if (n < topLogprobs) {
                topIds = java.util.Arrays.copyOf(topIds, n);
                top = java.util.Arrays.copyOf(top, n);
            }
        }
        if (!ignoreStopTokens && request.stopTokens().contains(token)) {
            finish = FinishReason.STOP;
            return new Step(token, false, finalText(), logprob, topIds, top, finish);
        }
        if (constraint != null) constraint.accept(token);
        sequence.append(token);
        generated++;
        Tokenizer tokenizer = model.tokenizer();
        String text = "";
        if (!tokenizer.isSpecial(token)) {
            text = stops.push(utf8.push(tokenizer.tokenBytes(token)));
            if (stops.stopped()) finish = FinishReason.STOP;
        }
        if (finish == null && constraint != null && constraint.isComplete()) finish = FinishReason.STOP;
        if (finish == null && generated == maxTokens) finish = FinishReason.LENGTH;
        if (finish != null) text += finalText();
        return new Step(token, true, text, logprob, topIds, top, finish);
    }

    /** At the end: what the UTF-8 decoder and the stop matcher still hold (nothing after a stop string). */
    private String finalText() {
        if (stops.stopped()) return "";
        String rest = stops.push(utf8.flush()) + stops.flush();
        if (stops.stopped()) finish = FinishReason.STOP;
        return rest;
    }

    /** Tokens generated so far (stop token not counted). */
    public int generated() {
        return generated;
    }

    /** Why it ended, or null while it goes on. */
    public FinishReason finish() {
        return finish;
    }

    public Sampler sampler() {
        return sampler;
    }
}
