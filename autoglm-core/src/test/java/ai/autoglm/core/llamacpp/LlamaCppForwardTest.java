package ai.autoglm.core.llamacpp;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.LlamaCppReference;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.MoeFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
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
 * Our forward pass against llama.cpp's on the same GGUF files: the fixture models (Llama, Llama with tied
 * embeddings, Llama 3.1 rope scaling, Qwen2) written by our GgufWriter in every tensor type we support, and
 * HF checkpoints converted by our HfToGgufConverter. llama.cpp reads each file by itself (its own loader,
 * metadata interpretation, rope, GQA, biases, dequantization), so a misnamed tensor, a wrong permutation, a
 * misread key or a different block layout shows as an O(1) difference in the next-token distributions.
 *
 * <p>Metric: the distributions after every prefix of a 13-token prompt; per position, {@code d = log p_ours -
 * log p_llama} over the whole vocabulary, centered (a common shift of the logits changes no probability), and
 * its RMS relative to the RMS of our centered logits: the relative logit error, comparable across types. KL
 * divergence and the largest |d| over tokens with p > 1e-6 are reported alongside.
 *
 * <p>Bounds. Both engines use the very same weight values (llama.cpp dequantizes the blocks we wrote); they
 * differ in the activations. llama.cpp's CPU matmul converts the activation row to the weight type's
 * {@code vec_dot_type} before the dot (ggml-cpu type_traits_cpu): F32 stays F32; F16 weights take F16
 * activations, BF16 take BF16, Q8_0/Q4_0/Q5_0 take Q8_0 and Q4_1/Q5_1 take Q8_1 (8 bits per 32-block,
 * scale amax/127), K-quants take Q8_K (8 bits per 256-block). We multiply with float activations. The relative
 * RMS rounding error delta of one activation vector is then 2^-11/sqrt(3) (F16), 2^-8/sqrt(3) (BF16),
 * (amax/sigma)/127/sqrt(12) with amax <= 3 sigma for 32 Gaussians (Q8_0/Q8_1) and <= 4 sigma for 256 (Q8_K).
 * For a random matrix W the output error |W dx|/|W x| ~ delta. Each layer rounds 4 distinct activation
 * vectors (attention input, shared by q/k/v; attention output; FFN input, shared by gate/up; FFN hidden) and
 * the output head one more: 9 independent errors adding in quadrature through the residual stream, a
 * relative logit error of about 3 delta. The bound is 2 * 3 * delta (the margin covers the correlation
 * between q/k/v or gate/up sharing one rounding). F32 has no activation rounding (and the reference runs
 * with an F32 KV cache): only float summation order differs, ~1e-6; bound 1e-5.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppForwardTest {
    @TempDir
    static Path tmp;

    /** Ids of the fixture vocabulary: BOS, "hello", " world", ",", " the", " w", "or", "l", "d", "!", "\n", <|im_start|>, "H". */
    static final int[] PROMPT = {ModelFixtures.BOS_ID, 263, 266, 44, 267, 260, 261, 108, 100, 33, 10,
            ModelFixtures.FIRST_SPECIAL + 2, 72};

    static final Map<String, Spec> SPECS = Map.of(
            "llama", ModelFixtures.llama(),
            "llama-tied", ModelFixtures.llamaTied(),
            "llama3-scaled", ModelFixtures.llama3Scaled(),
            "qwen2", ModelFixtures.qwen2());
    static final List<GgmlType> WRITTEN = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    static final List<GgmlType> CONVERTED = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0);

    /** One comparison: llama.cpp on {@code gguf} against our engine on {@code ours} (the same file or the HF source). */
    record Case(String name, GgmlType type, Path gguf, Path ours) {
        @Override
        public String toString() {
            return name;
        }
    }

    private final List<Case> cases = new ArrayList<>();
    private final Map<String, LlamaCppReference.Handle<double[][][]>> reference = new TreeMap<>();
    private final Map<String, double[]> measured = new TreeMap<>();

    @BeforeAll
    void writeModelsAndAskLlamaCpp() {
        for (var e : SPECS.entrySet()) {
            for (GgmlType type : WRITTEN) {
                // K-quant rows are 256-element super-blocks.
                Spec spec = type.blockSize == 256 ? e.getValue().withDims(256, 4, 2, 512) : e.getValue();
                Path file = ModelFixtures.writeGguf(spec, tmp.resolve(e.getKey() + "-" + type + ".gguf"), type);
                cases.add(new Case(e.getKey() + " written " + type, type, file, file));
            }
            for (GgmlType type : CONVERTED) {
                // Our side runs the HF directory itself where the conversion is lossless (safetensors already in the
                // output type), so the converter is checked too; Q8_0 is lossy, there our side loads the converted file.
                String dtype = switch (type) { case F16 -> "F16"; case BF16 -> "BF16"; default -> "F32"; };
                Path hf = ModelFixtures.writeHf(e.getValue(), tmp.resolve(e.getKey() + "-hf-" + dtype), dtype);
                Path file = tmp.resolve(e.getKey() + "-converted-" + type + ".gguf");
                HfToGgufConverter.convert(hf, file, type);
                cases.add(new Case(e.getKey() + " converted " + type, type, file, type == GgmlType.Q8_0 ? file : hf));
            }
        }
        // The GLM architectures (llama.cpp's chatglm and glm4) and the model this project trained and ships.
        cases.add(new Case("chatglm (glm-4-9b layout) written F32", GgmlType.F32, GlmFixtures.writeGguf(GlmFixtures.glm4_9b(),
                GlmFixtures.Layout.CHATGLM_REMOTE, tmp.resolve("chatglm.gguf")), tmp.resolve("chatglm.gguf")));
        cases.add(new Case("glm4 (0414 layout) written F32", GgmlType.F32, GlmFixtures.writeGguf(GlmFixtures.glm4_0414(),
                GlmFixtures.Layout.GLM4_HF, tmp.resolve("glm4.gguf")), tmp.resolve("glm4.gguf")));
        // Qwen3 (q/k norms) and the mixture-of-experts architectures (llama.cpp's qwen3, qwen3moe, glm4moe: stacked
        // experts, softmax / sigmoid routing with the selection bias, shared expert, leading dense layer, MTP block):
        // written as llama.cpp's converter writes them, in F32 and Q8_0 (expert slices of quantized blocks), and
        // converted from the HF checkpoint by our converter (our side runs the HF directory).
        for (var e : Map.of("qwen3", MoeFixtures.qwen3(), "qwen3moe", MoeFixtures.qwen3Moe(), "glm4moe", MoeFixtures.glm45()).entrySet()) {
            for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0)) {
                Path file = MoeFixtures.writeGguf(e.getValue(), tmp.resolve(e.getKey() + "-" + type + ".gguf"), type);
                cases.add(new Case(e.getKey() + " written " + type, type, file, file));
            }
            Path hf = MoeFixtures.writeHf(e.getValue(), tmp.resolve(e.getKey() + "-hf"));
            Path converted = tmp.resolve(e.getKey() + "-converted.gguf");
            HfToGgufConverter.convert(hf, converted, GgmlType.F32);
            cases.add(new Case(e.getKey() + " converted F32", GgmlType.F32, converted, hf));
        }
        Path bundled = Path.of("").toAbsolutePath().getParent().resolve("models/default/model.gguf"); // tests run in autoglm-core/
        cases.add(new Case("bundled default model F16", GgmlType.F16, bundled, bundled));
        LlamaCppReference.Batch batch = new LlamaCppReference.Batch();
        for (Case c : cases) reference.put(c.name(), batch.nextTokenLogits(c.gguf(), List.of(PROMPT)));
        batch.run();
    }

    List<Case> cases() {
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nextTokenDistributionsMatchLlamaCpp(Case c) {
        double[][] theirs = reference.get(c.name()).get()[0];
        float[] logits;
        int vocab;
        try (LanguageModel m = ModelLoader.load(c.ours())) {
            vocab = m.config().vocabSize();
            logits = m.forward(m.newState(PROMPT.length), PROMPT, 0, PROMPT.length, true);
        }
        assertThat(theirs).hasNumberOfRows(PROMPT.length);
        double worstRel = 0, worstKl = 0, worstLogp = 0;
        for (int t = 0; t < PROMPT.length; t++) {
            assertThat(theirs[t]).as("llama.cpp vocabulary size").hasSize(vocab);
            Comparison d = compare(logits, t * vocab, vocab, theirs[t]);
            worstRel = Math.max(worstRel, d.relativeLogitError());
            worstKl = Math.max(worstKl, d.kl());
            worstLogp = Math.max(worstLogp, d.maxLogpDiff());
        }
        measured.put(c.name(), new double[]{worstRel, worstKl, worstLogp});
        assertThat(worstRel).as("%s: relative logit error vs llama.cpp (KL %.2e, max |dlog p| %.2e)", c, worstKl, worstLogp)
                .isLessThanOrEqualTo(bound(c.type()));
    }

    @AfterAll
    void report() {
        measured.forEach((k, v) -> System.out.printf("%-32s rel %.3e  KL %.3e  max|dlogp| %.3e%n", k, v[0], v[1], v[2]));
    }

    /** 2 * 3 * delta(activation rounding of the weight type's vec_dot_type), see the class comment. */
    static double bound(GgmlType weights) {
        double sqrt12 = Math.sqrt(12);
        double delta = switch (weights) {
            case F32 -> 0;
            case F16 -> Math.pow(2, -11) / Math.sqrt(3);
            case BF16 -> Math.pow(2, -8) / Math.sqrt(3);
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 -> 3.0 / 127 / sqrt12;
            case Q4_K, Q5_K, Q6_K -> 4.0 / 127 / sqrt12;
            default -> throw new IllegalArgumentException(weights.name());
        };
        return delta == 0 ? 1e-5 : 2 * 3 * delta;
    }

    record Comparison(double relativeLogitError, double kl, double maxLogpDiff) {
    }

    /** Our logits row against llama.cpp's (known up to a constant), all in double. */
    static Comparison compare(float[] logits, int off, int vocab, double[] theirs) {
        double[] ours = new double[vocab];
        for (int i = 0; i < vocab; i++) ours[i] = logits[off + i];
        double[] lpOurs = logSoftmax(ours), lpTheirs = logSoftmax(theirs);
        double meanD = 0, meanZ = 0, kl = 0, maxLogp = 0;
        for (int i = 0; i < vocab; i++) {
            meanD += ours[i] - theirs[i];
            meanZ += ours[i];
            double pOurs = Math.exp(lpOurs[i]);
            kl += pOurs * (lpOurs[i] - lpTheirs[i]);
            if (pOurs > 1e-6) maxLogp = Math.max(maxLogp, Math.abs(lpOurs[i] - lpTheirs[i]));
        }
        meanD /= vocab;
        meanZ /= vocab;
        double errSq = 0, zSq = 0;
        for (int i = 0; i < vocab; i++) {
            double e = ours[i] - theirs[i] - meanD;
            errSq += e * e;
            zSq += (ours[i] - meanZ) * (ours[i] - meanZ);
        }
        return new Comparison(Math.sqrt(errSq / zSq), kl, maxLogp);
    }

    static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        for (double v : z) sum += Math.exp(v - max);
        double logZ = max + Math.log(sum);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) out[i] = z[i] - logZ;
        return out;
    }
}
