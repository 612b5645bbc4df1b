package ai.autoglm.core.model;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.tensor.NativeKernels;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quantized GGUF files through the engine (the tensor types' own dot kernels).
 *
 * <p><b>Against the reference on the dequantized weights</b> both sides use exactly the same weight values,
 * so only arithmetic differs: the engine sums in float. A float dot of n terms errs by at most about
 * n*u*sum|terms| (u = 2^-24, Higham 3.1), typically sqrt(n)*u*sum|terms|; with n <= 512 here and random
 * signs (sum|terms| ~ sqrt(n)*|sum| at worst for the rows that matter) that is below 3e-5 of a logit's scale,
 * so 1e-4 of the largest logit leaves room for the ~16 matmuls and the norms in between yet still fails
 * for any misread block (which moves logits by O(1)).
 *
 * <p><b>Against the F32 reference</b> the weights differ by the format's rounding. For a b-bit uniform
 * quantizer the error per element is uniform in +-step/2, RMS step/sqrt(12); with the block maximum of
 * 32 (or 16) Gaussians below ~3 sigma, step/sigma is 3/127 (Q8_0), 3/8 (Q4_0: scale = max/-8), 6/15 (Q4_1,
 * Q4_K: (max-min)/15), 3/16 (Q5_0), 6/31 (Q5_1, Q5_K), 3/32 (Q6_K: 16-element sub-blocks, scale max/-32);
 * F16 and BF16 round to 11 and 8 significant bits, relative RMS 2^-11/sqrt(3) and 2^-8/sqrt(3).
 * That per-element relative error eps is checked on the file's weights directly. Each quantized matmul
 * then adds output noise of relative size ~eps (for W x with random W, |dW x| / |W x| ~ |dW|_F / |W|_F),
 * and the K = 7 per layer * 2 layers + embedding + output = 16 of them add in quadrature through the
 * residual stream: RMS logit error <= sqrt(16) * eps, asserted on the RMS error relative to the RMS logit
 * with eps at its a-priori bound above (the measured errors sit near half of it: the final RMSNorm and the
 * softmax damp part of the noise).
 */
class QuantizedModelTest {
    @TempDir
    Path tmp;

    /** Dims that are whole K-quant super-blocks (256) so every type quantizes every matrix. */
    static final Spec SPEC = ModelFixtures.llama().withDims(256, 4, 2, 512).withSeed(77);

    static double formatRelativeRms(GgmlType t) {
        double sqrt12 = Math.sqrt(12);
        return switch (t) {
            case F16 -> Math.pow(2, -11) / Math.sqrt(3);
            case BF16 -> Math.pow(2, -8) / Math.sqrt(3);
            case Q8_0 -> 3.0 / 127 / sqrt12;
            case Q4_0 -> 3.0 / 8 / sqrt12;
            case Q4_1, Q4_K -> 6.0 / 15 / sqrt12;
            case Q5_0 -> 3.0 / 16 / sqrt12;
            case Q5_1, Q5_K -> 6.0 / 31 / sqrt12;
            case Q6_K -> 3.0 / 32 / sqrt12;
            default -> throw new IllegalArgumentException(t.name());
        };
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void quantizedGgufMatchesTheReference(GgmlType type) {
        Map<String, float[]> original = ModelFixtures.hfWeights(SPEC);
        Path file = ModelFixtures.writeGguf(SPEC, tmp.resolve(type + ".gguf"), type);
        int[] tokens = {5, 300 % ModelFixtures.VOCAB_SIZE, 17, 104, 101, 108, 108, 111};

        Map<String, float[]> dequantized = new LinkedHashMap<>();
        double errSq = 0, normSq = 0;
        try (GgufFile g = GgufFile.open(file)) {
            Map<String, float[]> ggufOriginal = ModelFixtures.ggufTensors(SPEC, original);
            for (var info : g.tensorInfos()) {
                FloatTensor t = g.tensor(info.name());
                float[] v = new float[Math.toIntExact(t.size())];
                for (int i = 0; i < v.length; i++) v[i] = t.getFloat(i);
                dequantized.put(info.name(), v);
                if (info.shape().length == 2) {
                    assertThat(info.type()).isEqualTo(type);
                    float[] o = ggufOriginal.get(info.name());
                    // Relative to each tensor's own scale: the embedding is N(0,1), matrices N(0,1/in).
                    double e = 0, n = 0;
                    for (int i = 0; i < v.length; i++) {
                        e += (v[i] - o[i]) * (double) (v[i] - o[i]);
                        n += o[i] * (double) o[i];
                    }
                    errSq += e / n;
                    normSq += 1;
                }
            }
        }
        double eps = Math.sqrt(errSq / normSq);
        double bound = formatRelativeRms(type);
        assertThat(eps).as("RMS relative rounding error of %s weights", type).isLessThanOrEqualTo(bound).isGreaterThan(0);

        double[][] refDeq = new ReferenceForward(SPEC, ModelFixtures.hfFromGguf(SPEC, dequantized), tokens.length).run(tokens);
        double[][] refF32 = new ReferenceForward(SPEC, original, tokens.length).run(tokens);
        KernelChoice.Mode before = KernelChoice.mode();
        try (LanguageModel m = ModelLoader.load(file)) {
            // The Java kernels: float arithmetic on the exact weights, so within float rounding of the reference.
            KernelChoice.set(KernelChoice.Mode.JAVA);
            float[] logits = m.forward(m.newState(16), tokens, 0, tokens.length, true);
            assertRowsClose(type + " vs reference on dequantized weights", logits, refDeq, 1e-4);
            if (NativeKernels.supports(type)) nativeKernelsWithinActivationRounding(type, m, tokens, refDeq);

            int vocab = m.config().vocabSize();
            for (int t = 0; t < tokens.length; t++) {
                double d = 0, r = 0;
                for (int i = 0; i < vocab; i++) {
                    double diff = logits[t * vocab + i] - refF32[t][i];
                    d += diff * diff;
                    r += refF32[t][i] * refF32[t][i];
                }
                double rel = Math.sqrt(d / r);
                assertThat(rel).as("%s vs F32 reference, position %d (eps %.2e)", type, t, eps).isLessThanOrEqualTo(4 * bound);
            }
        } finally {
            KernelChoice.set(before);
        }
    }

    /**
     * The native kernels quantize each matmul's input to 8 bits per block (as llama.cpp's Q8_0/Q8_K activations):
     * the error per element is uniform in +-step/2 with step = block max / 127, and for the block max of up to 256
     * near-Gaussian activations below ~4 sigma that is a relative RMS of at most 4/127/sqrt(12) per matmul input; the
     * 16 matmuls add in quadrature as above: RMS logit error against the reference on the same (dequantized)
     * weights <= sqrt(16) * 4/127/sqrt(12) = 0.036 of the RMS logit (measured, largest over the 8 positions: 0.012
     * for Q4_0 and Q8_0 with their 32-element activation blocks, 0.019 for the K-quants with 256-element ones).
     */
    private static void nativeKernelsWithinActivationRounding(GgmlType type, LanguageModel m, int[] tokens, double[][] refDeq) {
        KernelChoice.set(KernelChoice.Mode.NATIVE);
        float[] logits = m.forward(m.newState(16), tokens, 0, tokens.length, true);
        double bound = Math.sqrt(16) * 4.0 / 127 / Math.sqrt(12);
        int vocab = m.config().vocabSize();
        for (int t = 0; t < tokens.length; t++) {
            double d = 0, r = 0;
            for (int i = 0; i < vocab; i++) {
                double diff = logits[t * vocab + i] - refDeq[t][i];
                d += diff * diff;
                r += refDeq[t][i] * refDeq[t][i];
            }
            assertThat(Math.sqrt(d / r)).as("%s native kernels vs reference on dequantized weights, position %d", type, t)
                    .isLessThanOrEqualTo(bound).isGreaterThan(0);
        }
        KernelChoice.set(KernelChoice.Mode.JAVA);
    }
}
