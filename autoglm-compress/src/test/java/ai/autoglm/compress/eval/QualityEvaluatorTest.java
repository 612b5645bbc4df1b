package ai.autoglm.compress.eval;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The evaluator against a plain recomputation written here: every window's logits from one
 * {@code forward(..., allLogits=true)} over the whole window, then log-softmax, negative log-likelihood, KL divergence
 * and argmax in double precision, scoring positions {@code ctx/2 .. ctx-2} as llama-perplexity does. On the Java
 * kernels: the native ones take products of up to 12 rows (8-bit activations) and leave longer ones to the Java GEMM,
 * so with them a figure depends on how the rows were batched (an MoE expert's share of a window), by ~0.1% in
 * perplexity; this test is about the evaluator's arithmetic, the kernels have their own.
 */
class QualityEvaluatorTest {
    static final int CTX = 32;
    static final ModelFixtures.Spec SPEC = ModelFixtures.llama();

    @TempDir
    static Path dir;
    static LanguageModel f32, q8, q4;
    static String text;

    static KernelChoice.Mode kernelsBefore;

    @BeforeAll
    static void models() {
        kernelsBefore = KernelChoice.mode();
        KernelChoice.set(KernelChoice.Mode.JAVA);
        f32 = ModelLoader.load(ModelFixtures.writeGguf(SPEC, dir.resolve("f32.gguf"), GgmlType.F32));
        q8 = ModelLoader.load(ModelFixtures.writeGguf(SPEC, dir.resolve("q8.gguf"), GgmlType.Q8_0));
        q4 = ModelLoader.load(ModelFixtures.writeGguf(SPEC, dir.resolve("q4.gguf"), GgmlType.Q4_0));
        String[] words = {"hello", "world", "the", "wor", "ld", "lo", "her", "or", "tell", "well"};
        Random r = new Random(7);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 80; i++) b.append(i > 0 ? " " : "").append(words[r.nextInt(words.length)]);
        text = b.toString();
    }

    @AfterAll
    static void close() {
        KernelChoice.set(kernelsBefore);
        for (LanguageModel m : new LanguageModel[]{f32, q8, q4}) if (m != null) m.close();
    }

    static QualityEvaluator evaluator(int maxWindows) {
        return new QualityEvaluator(EvalSettings.defaults().withContext(CTX).withMaxWindows(maxWindows).withSpeedRepetitions(0), line -> { });
    }

    /** The reference: per-position nll of model and base, KL(base||model), top-1 equality, from whole-window logits. */
    record Reference(double ppl, double basePpl, double meanKld, double maxKld, double p99Kld, double top1, int count) {
    }

    static Reference reference(LanguageModel model, LanguageModel base, int maxWindows) {
        int[] prefix = model.tokenizer().prefixTokens();
        int[] body = model.tokenizer().encode(text, false);
        int[] tokens = new int[prefix.length + body.length];
        System.arraycopy(prefix, 0, tokens, 0, prefix.length);
        System.arraycopy(body, 0, tokens, prefix.length, body.length);
        int windows = Math.min(maxWindows, tokens.length / CTX);
        int vocab = model.config().vocabSize();
        double nll = 0, nllBase = 0;
        List<Double> klds = new ArrayList<>();
        int same = 0, count = 0;
        for (int w = 0; w < windows; w++) {
            int[] win = Arrays.copyOfRange(tokens, w * CTX, (w + 1) * CTX);
            System.arraycopy(prefix, 0, win, 0, prefix.length);
            float[] lq = model.forward(model.newState(CTX), win, 0, CTX, true);
            float[] lb = base.forward(base.newState(CTX), win, 0, CTX, true);
            for (int j = CTX / 2; j < CTX - 1; j++) {
                double[] q = logSoftmax(lq, j * vocab, vocab), p = logSoftmax(lb, j * vocab, vocab);
                nll -= q[win[j + 1]];
                nllBase -= p[win[j + 1]];
                double kl = 0;
                for (int i = 0; i < vocab; i++) kl += Math.exp(p[i]) * (p[i] - q[i]);
                klds.add(kl);
                if (argmax(q) == argmax(p)) same++;
                count++;
            }
        }
        double[] sorted = klds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double pos = 0.99 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        double p99 = sorted[lo] + (pos - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
        return new Reference(Math.exp(nll / count), Math.exp(nllBase / count),
                Arrays.stream(sorted).average().orElseThrow(), sorted[sorted.length - 1], p99, (double) same / count, count);
    }

    static double[] logSoftmax(float[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, v[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(v[off + i] - max);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = v[off + i] - max - Math.log(sum);
        return out;
    }

    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Test
    void matchesThePlainRecomputationForAQuantizedModelAgainstItsF32Base() {
        QualityReport r = evaluator(0).evaluate(q4, "q4", f32, "f32", text);
        Reference ref = reference(q4, f32, Integer.MAX_VALUE);
        assertThat(r.windows()).isGreaterThanOrEqualTo(3);
        assertThat(r.scoredTokens()).isEqualTo(ref.count()).isEqualTo((long) r.windows() * (CTX - 1 - CTX / 2));
        assertThat(r.perplexity()).isCloseTo(ref.ppl(), within(1e-6 * ref.ppl()));
        QualityReport.Comparison c = r.vsBase();
        assertThat(c.basePerplexity()).isCloseTo(ref.basePpl(), within(1e-6 * ref.basePpl()));
        assertThat(c.perplexityRatio()).isCloseTo(ref.ppl() / ref.basePpl(), within(1e-6));
        // The evaluator runs each window in row chunks, the reference in one forward: float sums round differently,
        // which moves logits by ~1e-6 and the divergences by a few parts per million.
        assertThat(c.meanKld()).isCloseTo(ref.meanKld(), within(1e-8 + 1e-4 * ref.meanKld()));
        assertThat(c.maxKld()).isCloseTo(ref.maxKld(), within(1e-8 + 1e-4 * ref.maxKld()));
        assertThat(c.p99Kld()).isCloseTo(ref.p99Kld(), within(1e-8 + 1e-4 * ref.p99Kld()));
        assertThat(c.top1Agreement()).isEqualTo(ref.top1());
        assertThat(c.meanKld()).isGreaterThan(0);
    }

    /** `eval` on a mixture-of-experts file (GLM-4.5 shape, Q8_0 against its F32 base): the same numbers as the plain recomputation. */
    @Test
    void mixtureOfExpertsModelMatchesThePlainRecomputation() {
        ai.autoglm.core.testing.MoeFixtures.Spec s = ai.autoglm.core.testing.MoeFixtures.glm45();
        try (LanguageModel base = ModelLoader.load(ai.autoglm.core.testing.MoeFixtures.writeGguf(s, dir.resolve("moe-f32.gguf"), GgmlType.F32));
             LanguageModel q = ModelLoader.load(ai.autoglm.core.testing.MoeFixtures.writeGguf(s, dir.resolve("moe-q8.gguf"), GgmlType.Q8_0))) {
            QualityReport r = evaluator(0).evaluate(q, "moe-q8", base, "moe-f32", text);
            Reference ref = reference(q, base, Integer.MAX_VALUE);
            assertThat(r.windows()).isGreaterThanOrEqualTo(3);
            assertThat(r.scoredTokens()).isEqualTo(ref.count());
            assertThat(r.perplexity()).isCloseTo(ref.ppl(), within(1e-5 * ref.ppl()));
            assertThat(r.vsBase().basePerplexity()).isCloseTo(ref.basePpl(), within(1e-5 * ref.basePpl()));
            assertThat(r.vsBase().meanKld()).isCloseTo(ref.meanKld(), within(1e-8 + 1e-3 * ref.meanKld())).isPositive();
            assertThat(r.vsBase().top1Agreement()).isEqualTo(ref.top1());
        }
    }

    @Test
    void aModelAgainstItselfHasNoDivergenceAndFullAgreement() {
        QualityReport r = evaluator(2).evaluate(f32, "f32", f32, "f32", text);
        QualityReport.Comparison c = r.vsBase();
        assertThat(r.windows()).isEqualTo(2);
        assertThat(c.meanKld()).isCloseTo(0, within(1e-12));
        assertThat(c.maxKld()).isCloseTo(0, within(1e-12));
        assertThat(c.top1Agreement()).isEqualTo(1.0);
        assertThat(c.perplexityRatio()).isCloseTo(1.0, within(1e-12));
        assertThat(r.perplexity()).isCloseTo(reference(f32, f32, 2).ppl(), within(1e-6 * r.perplexity()));
    }

    @Test
    void fourBitsDivergeMoreThanEightBits() {
        double kl8 = evaluator(0).evaluate(q8, "q8", f32, "f32", text).vsBase().meanKld();
        double kl4 = evaluator(0).evaluate(q4, "q4", f32, "f32", text).vsBase().meanKld();
        assertThat(kl8).isGreaterThan(0);
        assertThat(kl4).isGreaterThan(kl8);
    }

    @Test
    void withoutABaseOnlyPerplexityAndSpeed() {
        QualityReport r = new QualityEvaluator(new EvalSettings(CTX, 1, 8, 4, 1), line -> { }).evaluate(f32, "f32", null, null, text);
        assertThat(r.vsBase()).isNull();
        assertThat(r.perplexity()).isCloseTo(reference(f32, f32, 1).ppl(), within(1e-6 * r.perplexity()));
        assertThat(r.prefillTokensPerSecond()).isPositive().isFinite();
        assertThat(r.decodeTokensPerSecond()).isPositive().isFinite();
        assertThat(r.estimate().weightBytes()).isPositive();
        assertThat(QualityReportFormat.json(r).get("perplexity").asDouble()).isEqualTo(r.perplexity());
        assertThat(QualityReportFormat.table(r)).contains("perplexity", "tg tokens/s");
    }

    @Test
    void textShorterThanOneWindowIsAClearError() {
        assertThatThrownBy(() -> evaluator(0).evaluate(f32, "f32", null, null, "hello world"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fewer than one window of " + CTX);
    }

    @Test
    void aBaseWithAnotherVocabularyIsRefused() {
        LinkedHashMap<String, GgufValue> meta = ModelFixtures.ggufMetadata(SPEC);
        List<String> tokens = new ArrayList<>(ModelFixtures.TOKENS);
        java.util.Collections.swap(tokens, 'a', 'b');
        meta.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        GgufWriter g = new GgufWriter();
        meta.forEach(g::put);
        for (var e : ModelFixtures.ggufTensors(SPEC, ModelFixtures.hfWeights(SPEC)).entrySet()) {
            g.addTensor(e.getKey(), ModelFixtures.ggufShape(SPEC, e.getKey(), e.getValue()), e.getValue(), GgmlType.F32);
        }
        Path other = dir.resolve("other-vocab.gguf");
        g.write(other);
        try (LanguageModel m = ModelLoader.load(other)) {
            assertThatThrownBy(() -> evaluator(0).evaluate(m, "other", f32, "f32", text))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("do not share a tokenizer")
                    .hasMessageContaining("token " + (int) 'a');
        }
    }

    @Test
    void aWindowLongerThanTheModelsContextIsRefused() {
        QualityEvaluator e = new QualityEvaluator(EvalSettings.defaults().withContext(SPEC.context() * 2), line -> { });
        assertThatThrownBy(() -> e.evaluate(f32, "f32", null, null, text)).hasMessageContaining("exceeds the model's context length");
    }
}
