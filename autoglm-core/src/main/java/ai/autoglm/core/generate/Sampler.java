package ai.autoglm.core.generate;

import ai.autoglm.core.tensor.LogitKernels;
import ai.autoglm.core.tensor.VectorSupport;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Chooses the next token from a vector of logits, as llama.cpp's default sampler chain does
 * ({@code common/sampling.cpp}, {@code src/llama-sampling.cpp}):
 * <pre>penalties → top-k → top-p → min-p → temperature → sample</pre>
 * <ul>
 *   <li>penalties ({@code llama_sampler_penalties_apply}): for each token seen c &gt; 0 times among the last N of
 *       the history, a positive logit is divided by the repetition penalty and a non-positive one multiplied
 *       (CTRL / HF {@code RepetitionPenaltyLogitsProcessor}), then {@code logit -= c * frequency + presence}
 *       (OpenAI's definition);</li>
 *   <li>top-k keeps the k highest logits; top-p the shortest prefix (by descending probability at temperature 1)
 *       whose probability reaches p, the token that crosses p included; min-p the tokens whose logit is at least
 *       {@code max + ln(minP)}, i.e. probability at least minP times the top one;</li>
 *   <li>temperature divides the logits; the token is then drawn from their softmax. Temperature 0 is greedy:
 *       the argmax of the penalised logits (lowest id on ties), no filters and no random draw.</li>
 * </ul>
 * The random generator is {@code L64X128MixRandom} seeded from the settings (or a random seed, see
 * {@link #seed()}), so a run with the same seed, logits and history is reproducible.
 *
 * <p>After each {@link #sample} the chosen token's log-probability and the top-N log-probabilities are available
 * for OpenAI-style {@code logprobs}; they are those of the model's own distribution, the log-softmax of the raw
 * logits before penalties, filters and temperature (what OpenAI reports).
 *
 * <p>All buffers are allocated once for the vocabulary size; sampling allocates nothing. Not thread-safe: one
 * sampler per generation stream.
 */
public final class Sampler {

    private final SamplerSettings settings;
    private final int vocabSize;
    private final long seed;
    private final RandomGenerator random;

    private final float[] raw;       // the logits as given (for logprobs)
    private final float[] work;      // penalised logits
    private final long[] order;      // candidates: (descending logit key << 32) | id
    private final int[] counts;      // occurrences of each token in the penalty window
    private final int[] touched;     // ids with counts > 0, to reset them cheaply
    private final double[] weights;  // final unnormalised probabilities of the kept candidates
    private int candidateCount;
    private double weightSum;
    private float rawMax;
    private double rawLogSumExp;
    private boolean logSumExpValid;  // computed on the first logprob asked for at a position: greedy serving never pays it
    private int lastToken = -1;

    public Sampler(SamplerSettings settings, int vocabSize) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabSize must be > 0, got " + vocabSize);
        this.vocabSize = vocabSize;
        this.seed = settings.seed() != null ? settings.seed() : new SecureRandom().nextLong();
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        this.raw = new float[vocabSize];
        this.work = new float[vocabSize];
        this.order = new long[vocabSize];
        this.counts = new int[vocabSize];
        this.touched = new int[vocabSize];
        this.weights = new double[vocabSize];
    }

    public SamplerSettings settings() {
        return settings;
    }

    /** The seed in use (the settings' one, or the random one drawn when it was null). */
    public long seed() {
        return seed;
    }

    /**
     * Chooses the next token.
     *
     * @param logits        the model's logits for the next position (at least vocabSize values; not modified)
     * @param history       the tokens so far (prompt and generated), oldest first
     * @param historyLength how many entries of {@code history} are valid
     * @return the chosen token id
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        prepare(logits, history, historyLength);
        int chosen;
        if (candidateCount == 1) {
            chosen = (int) order[0];
        } else {
            double u = random.nextDouble() * weightSum;
            // rounding at the top end lands on the last candidate that has weight: a -infinity logit (a token a
            // LogitsProcessor forbade) has weight 0 and must never be chosen
            int last = candidateCount - 1;
            while (last > 0 && weights[last] == 0) last--;
            chosen = (int) order[last];
            double acc = 0;
            for (int i = 0; i < candidateCount; i++) {
                acc += weights[i];
                if (u < acc) {
                    chosen = (int) order[i];
                    break;
                }
            }
        }
        lastToken = chosen;
        return chosen;
    }

    /**
     * The distribution {@link #sample} draws from for these inputs, written into {@code probabilities}
     * (vocabSize entries, 0 for every filtered-out token); consumes no randomness.
     */
    public void distribution(float[] logits, int[] history, int historyLength, float[] probabilities) {
        prepare(logits, history, historyLength);
        Arrays.fill(probabilities, 0, vocabSize, 0f);
        for (int i = 0; i < candidateCount; i++) {
            probabilities[(int) order[i]] = (float) (weights[i] / weightSum);
        }
    }

    /** The id chosen by the last {@link #sample}, or -1. */
    public int lastToken() {
        return lastToken;
    }

    /** The model's log-probability of the token chosen by the last {@link #sample}. */
    public float lastLogprob() {
        if (lastToken < 0) throw new IllegalStateException("no token sampled yet");
        return logprob(lastToken);
    }

    /** The model's log-probability of {@code tokenId} at the last sampled position. */
    public float logprob(int tokenId) {
        Objects.checkIndex(tokenId, vocabSize);
        if (!logSumExpValid) {
            double sum = 0;
            if (VectorSupport.ENABLED) {
                sum = LogitKernels.sumExp(raw, vocabSize, rawMax); // the scalar loop cost a millisecond per step per slot at 128K entries (bench/RESULTS.md)
            } else {
                for (int i = 0; i < vocabSize; i++) sum += Math.exp(raw[i] - rawMax);
            }
            rawLogSumExp = Math.log(sum);
            logSumExpValid = true;
        }
        return (float) (raw[tokenId] - rawMax - rawLogSumExp);
    }

    /**
     * The {@code n} most likely tokens of the model's distribution at the last sampled position, most likely first
     * (lowest id first on ties), written into {@code ids} and {@code logprobs}; returns how many were written
     * ({@code min(n, vocabSize)}). Cost O(vocabSize * n): meant for the small n of OpenAI's top_logprobs (&lt;= 20).
     */
    public int topLogprobs(int n, int[] ids, float[] logprobs) {
        int count = Math.min(n, vocabSize);
        if (count <= 0) return 0;
        int filled = 0;
        for (int id = 0; id < vocabSize; id++) {
            float v = raw[id];
            if (filled == count && !(v > raw[ids[count - 1]])) continue;
            int pos = filled < count ? filled++ : count - 1;
            while (pos > 0 && v > raw[ids[pos - 1]]) {
                ids[pos] = ids[pos - 1];
                pos--;
            }
            ids[pos] = id;
        }
        for (int i = 0; i < count; i++) logprobs[i] = logprob(ids[i]);
        return count;
    }

    // ---- the chain ----

    private void prepare(float[] logits, int[] history, int historyLength) {
        if (logits.length < vocabSize) {
            throw new IllegalArgumentException("logits has " + logits.length + " values, vocabulary has " + vocabSize);
        }
        if (historyLength < 0 || historyLength > (history == null ? 0 : history.length)) {
            throw new IllegalArgumentException("historyLength " + historyLength + " out of range");
        }
        float max = Float.NEGATIVE_INFINITY;
        if (VectorSupport.ENABLED) {
            max = LogitKernels.copyWithoutNaN(logits, raw, work, vocabSize);
        } else {
            for (int i = 0; i < vocabSize; i++) {
                float v = logits[i];
                if (Float.isNaN(v)) v = Float.NEGATIVE_INFINITY; // a NaN logit can never be chosen
                raw[i] = v;
                work[i] = v;
                if (v > max) max = v;
            }
        }
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("all logits are -infinity or NaN");
        rawMax = max;
        logSumExpValid = false;

        applyPenalties(history, historyLength);

        if (settings.isGreedy()) {
            int best = 0;
            for (int i = 1; i < vocabSize; i++) if (work[i] > work[best]) best = i;
            order[0] = best;
            weights[0] = 1;
            weightSum = 1;
            candidateCount = 1;
            return;
        }
        selectCandidates();
        applyTemperature();
    }

    private void applyPenalties(int[] history, int historyLength) {
        float rep = settings.repetitionPenalty();
        float presence = settings.presencePenalty();
        float frequency = settings.frequencyPenalty();
        int lastN = settings.penaltyLastN();
        if (lastN == 0 || historyLength == 0 || (rep == 1f && presence == 0f && frequency == 0f)) return;
        int from = lastN < 0 ? 0 : Math.max(0, historyLength - lastN);
        int distinct = 0;
        for (int i = from; i < historyLength; i++) {
            int t = history[i];
            if (t < 0 || t >= vocabSize) continue; // not a vocabulary token: nothing to penalise
            if (counts[t]++ == 0) touched[distinct++] = t;
        }
        for (int k = 0; k < distinct; k++) {
            int t = touched[k];
            int c = counts[t];
            counts[t] = 0;
            float v = work[t];
            v = v <= 0 ? v * rep : v / rep;
            work[t] = v - (c * frequency + presence);
        }
    }

    /** Sortable key of a float, larger floats giving smaller keys (so that ascending long order is descending logits). */
    private static long descendingKey(float f, int id) {
        int bits = Float.floatToIntBits(f == 0f ? 0f : f); // -0.0 and 0.0 alike
        int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~sortable << 32) | (id & 0xffffffffL);
    }

    private float logitOf(long entry) {
        return work[(int) entry];
    }

    /** Fills order[0..candidateCount) with the tokens top-k, top-p and min-p keep, in descending logit order. */
    private void selectCandidates() {
        int k = settings.topK();
        float topP = settings.topP();
        float minP = settings.minP();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) if (work[i] > max) max = work[i];

        int m;               // candidates gathered in order[0..m)
        double normalizer;   // sum of exp(logit - max) over the top-k set (the set top-p normalises over)
        if (k > 0 && k < vocabSize) {
            m = selectTopK(k);
            normalizer = 0;
            for (int i = 0; i < m; i++) normalizer += Math.exp(logitOf(order[i]) - max);
        } else {
            normalizer = 0;
            for (int i = 0; i < vocabSize; i++) normalizer += Math.exp(work[i] - max);
            if (topP >= 1f && minP <= 0f) {
                // no filter needs an order: sample over the whole vocabulary as it is
                for (int i = 0; i < vocabSize; i++) order[i] = i;
                candidateCount = vocabSize;
                return;
            }
            // min-p keeps a prefix of the sorted tokens (logit >= max + ln minP), and so does top-p; the result is
            // the shorter prefix, so tokens below the min-p bound need not be sorted at all
            double floor = minP > 0f ? max + Math.log(minP) : Double.NEGATIVE_INFINITY;
            m = 0;
            for (int i = 0; i < vocabSize; i++) if (work[i] >= floor) order[m++] = descendingKey(work[i], i);
            Arrays.sort(order, 0, m);
        }
        if (topP < 1f) {
            double cumulative = 0;
            for (int i = 0; i < m; i++) {
                cumulative += Math.exp(logitOf(order[i]) - max) / normalizer;
                if (cumulative >= topP) {
                    m = i + 1;
                    break;
                }
            }
        }
        if (minP > 0f) {
            double floor = max + Math.log(minP);
            int keep = 1;
            while (keep < m && logitOf(order[keep]) >= floor) keep++;
            m = keep;
        }
        candidateCount = m;
    }

    /** The k best entries into order[0..k), sorted; a bounded max-heap over the keys, O(n log k). */
    private int selectTopK(int k) {
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            long key = descendingKey(work[i], i);
            if (size < k) {
                order[size] = key;
                siftUp(size++);
            } else if (key < order[0]) {
                order[0] = key;
                siftDown(0, size);
            }
        }
        Arrays.sort(order, 0, size);
        return size;
    }

    private void siftUp(int i) {
        long v = order[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (order[parent] >= v) break;
            order[i] = order[parent];
            i = parent;
        }
        order[i] = v;
    }

    private void siftDown(int i, int size) {
        long v = order[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && order[child + 1] > order[child]) child++;
            if (order[child] <= v) break;
            order[i] = order[child];
            i = child;
        }
        order[i] = v;
    }

    /** Softmax of logit / temperature over the kept candidates (unnormalised weights and their sum). */
    private void applyTemperature() {
        double inv = 1.0 / settings.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < candidateCount; i++) max = Math.max(max, logitOf(order[i]));
        double sum = 0;
        for (int i = 0; i < candidateCount; i++) {
            double w = Math.exp((logitOf(order[i]) - max) * inv);
            weights[i] = w;
            sum += w;
        }
        weightSum = sum;
    }
}
