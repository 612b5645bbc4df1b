package ai.autoglm.compress.imatrix;

import ai.autoglm.core.quant.ImportanceMatrix;
import ai.autoglm.core.quant.ModelQuantizer;
import ai.autoglm.core.quant.PlannedTensor;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.quant.QuantizationPlan;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.LlamaCppReference;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files written by {@code autoglm quantize} load in llama.cpp (node-llama-cpp's prebuilt library, its own loader and
 * dequantization) and give the same next-token distributions as our engine on the same file: fixture models (llama
 * with 256-wide rows so the K-quant mixes apply, a ChatGLM-layout model with fused qkv whose narrow rows exercise the
 * fall-backs), with and without an importance matrix, and the bundled trained default model (glm4, F16).
 *
 * <p>Metric and bound as core's LlamaCppForwardTest: per position the centered log-probability difference over the
 * vocabulary, RMS relative to our centered logits. Both engines use the very same dequantized weights; they differ in
 * that llama.cpp rounds each activation vector to 8 bits (Q8_0/Q8_1 blocks of 32 for *_0/*_1 weights, Q8_K blocks of
 * 256 for K-quants) before the dot products, a relative error delta of about (amax/sigma)/127/sqrt(12) per vector
 * (amax <= 3 sigma for 32 values, 4 sigma for 256); 9 such roundings per forward pass add to about 3 delta; the bound
 * is 2 * 3 * delta of the coarsest activation type the file's tensors use.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppQuantizedTest {
    @TempDir
    static Path tmp;

    /** BOS, "hello", " world", ",", " the", " w", "or", "l", "d", "!", "\n", <|im_start|>, "H" in the fixture vocabulary. */
    static final int[] PROMPT = {ModelFixtures.BOS_ID, 263, 266, 44, 267, 260, 261, 108, 100, 33, 10, ModelFixtures.FIRST_SPECIAL + 2, 72};
    static final String CALIBRATION = "hello world, the world! hello the world, hello world! ".repeat(20);

    record Case(String name, Path file, QuantizationPlan plan, int[] prompt) {
        @Override
        public String toString() {
            return name;
        }
    }

    private final List<Case> cases = new ArrayList<>();
    private final Map<String, LlamaCppReference.Handle<double[][][]>> reference = new TreeMap<>();
    private final Map<String, double[]> measured = new TreeMap<>();

    @BeforeAll
    void quantizeAndAskLlamaCpp() {
        Path llama = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(256, 4, 2, 512), tmp.resolve("llama-f32.gguf"), GgmlType.F32);
        ImportanceMatrix im = ImatrixCollector.collect(llama, CALIBRATION, "calibration", new ImatrixCollector.Settings(32, 0, -1, false), null);
        add("llama q8_0", llama, QuantPreset.Q8_0, null, PROMPT);
        add("llama q4_k", llama, QuantPreset.Q4_K_M, null, PROMPT);
        add("llama q4_k + imatrix", llama, QuantPreset.Q4_K_M, im, PROMPT);
        add("llama q4_0 + imatrix", llama, QuantPreset.Q4_0, im, PROMPT);
        add("llama q5_1 + imatrix", llama, QuantPreset.Q5_1, im, PROMPT);
        Path chatglm = GlmFixtures.writeGguf(GlmFixtures.glm4_9b(), GlmFixtures.Layout.CHATGLM_REMOTE, tmp.resolve("chatglm.gguf"));
        add("chatglm q4_k (fall-backs)", chatglm, QuantPreset.Q4_K_M, null, PROMPT);
        // The model this project trained and ships (tests run in autoglm-compress/).
        Path bundled = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf");
        int[] text;
        try (LanguageModel m = ModelLoader.load(bundled)) {
            text = concat(m.tokenizer().prefixTokens(), m.tokenizer().encode("床前明月光，疑是地上霜。The fortune says", false));
        }
        add("default model q8_0", bundled, QuantPreset.Q8_0, null, text);
        add("default model q4_k", bundled, QuantPreset.Q4_K_M, null, text);
        LlamaCppReference.Batch batch = new LlamaCppReference.Batch();
        for (Case c : cases) reference.put(c.name(), batch.nextTokenLogits(c.file(), List.of(c.prompt())));
        batch.run();
    }

    private void add(String name, Path source, QuantPreset preset, ImportanceMatrix im, int[] prompt) {
        Path out = tmp.resolve(name.replaceAll("[^a-z0-9_]+", "-") + ".gguf");
        QuantizationPlan plan = ModelQuantizer.quantizeFile(source, out, new QuantizationOptions(preset, List.of(), im != null), im, null, null);
        cases.add(new Case(name, out, plan, prompt));
    }

    List<Case> cases() {
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void llamaCppLoadsItAndAgreesWithOurEngine(Case c) {
        double[][] theirs = reference.get(c.name()).get()[0];
        float[] logits;
        int vocab;
        try (LanguageModel m = ModelLoader.load(c.file())) {
            vocab = m.config().vocabSize();
            logits = m.forward(m.newState(c.prompt().length), c.prompt(), 0, c.prompt().length, true);
        }
        assertThat(theirs).hasNumberOfRows(c.prompt().length);
        double worst = 0, worstKl = 0;
        for (int t = 0; t < c.prompt().length; t++) {
            assertThat(theirs[t]).as("llama.cpp vocabulary size").hasSize(vocab);
            double[] d = compare(logits, t * vocab, vocab, theirs[t]);
            worst = Math.max(worst, d[0]);
            worstKl = Math.max(worstKl, d[1]);
        }
        measured.put(c.name(), new double[]{worst, worstKl, bound(c.plan())});
        assertThat(worst).as("%s: relative logit error vs llama.cpp (KL %.2e)", c, worstKl).isLessThanOrEqualTo(bound(c.plan()));
    }

    @AfterAll
    void report() {
        measured.forEach((k, v) -> System.out.printf("%-28s rel %.3e  KL %.3e  (bound %.3e)%n", k, v[0], v[1], v[2]));
    }

    /** 2 * 3 * delta of the coarsest activation rounding among the file's tensor types. */
    static double bound(QuantizationPlan plan) {
        double delta = 0;
        for (PlannedTensor t : plan.tensors()) {
            double d = switch (t.targetType()) {
                case F32 -> 0;
                case F16 -> Math.pow(2, -11) / Math.sqrt(3);
                case BF16 -> Math.pow(2, -8) / Math.sqrt(3);
                case Q4_K, Q5_K, Q6_K -> 4.0 / 127 / Math.sqrt(12); // Q8_K activations
                default -> 3.0 / 127 / Math.sqrt(12);              // Q8_0 / Q8_1 activations
            };
            delta = Math.max(delta, d);
        }
        return 2 * 3 * delta;
    }

    /** {relative RMS of the centered logit difference, KL(ours || theirs)}. */
    static double[] compare(float[] logits, int off, int vocab, double[] theirs) {
        double meanD = 0, meanZ = 0;
        for (int i = 0; i < vocab; i++) {
            meanD += logits[off + i] - theirs[i];
            meanZ += logits[off + i];
        }
        meanD /= vocab;
        meanZ /= vocab;
        double err = 0, z = 0;
        for (int i = 0; i < vocab; i++) {
            double e = logits[off + i] - theirs[i] - meanD;
            err += e * e;
            z += (logits[off + i] - meanZ) * (logits[off + i] - meanZ);
        }
        double lseOurs = logSumExp(logits, off, vocab), lseTheirs = logSumExp(theirs);
        double kl = 0;
        for (int i = 0; i < vocab; i++) {
            double lpO = logits[off + i] - lseOurs, lpT = theirs[i] - lseTheirs;
            kl += Math.exp(lpO) * (lpO - lpT);
        }
        return new double[]{Math.sqrt(err / z), kl};
    }

    static double logSumExp(float[] z, int off, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, z[off + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(z[off + i] - max);
        return max + Math.log(sum);
    }

    static double logSumExp(double[] z) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : z) max = Math.max(max, v);
        for (double v : z) sum += Math.exp(v - max);
        return max + Math.log(sum);
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
