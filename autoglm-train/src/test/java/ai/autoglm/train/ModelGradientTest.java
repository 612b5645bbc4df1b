package ai.autoglm.train;

import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmReferenceForward;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The whole model's gradient (TrainableTransformer.forwardBackward, float) against central differences of the
 * mean cross-entropy computed by core's independent double-precision ReferenceForward over the same weights, on a
 * sample of entries of every parameter tensor. Also checks the training forward's logits against the reference.
 */
class ModelGradientTest {
    private static final int SEQ = 6;

    @Test
    void llamaLayout() {
        check(TrainTestModels.llama(ModelFixtures.VOCAB_SIZE), 11);
    }

    @Test
    void glmShapedLayoutWithFusedProjectionsPostNormsPartialRotaryAndTiedEmbeddings() {
        check(TrainTestModels.glmShaped(ModelFixtures.VOCAB_SIZE), 12);
    }

    @Test
    void glm4LayoutWithInterleavedPartialRotaryAgainstTheGlmReference() {
        ModelConfig c = TrainTestModels.glm4(ModelFixtures.VOCAB_SIZE);
        check(new TrainableTransformer(c, false), 13, (model, tokens, targets) -> {
            double total = 0;
            int counted = 0;
            for (int s = 0; s < tokens.length / SEQ; s++) {
                GlmReferenceForward ref = new GlmReferenceForward(TrainTestModels.glmSpec(c), GlmFixtures.Layout.GLM4_HF,
                        TrainTestModels.glmHfTensors(model, "Glm4ForCausalLM"), SEQ);
                double[][] logits = ref.run(java.util.Arrays.copyOfRange(tokens, s * SEQ, (s + 1) * SEQ));
                for (int t = 0; t < SEQ; t++) {
                    int y = targets[s * SEQ + t];
                    if (y < 0) continue;
                    total += crossEntropy(logits[t], y);
                    counted++;
                }
            }
            return total / counted;
        });
    }

    interface ReferenceLoss {
        double loss(TrainableTransformer model, int[] tokens, int[] targets);
    }

    private static void check(ModelConfig config, long seed) {
        check(new TrainableTransformer(config), seed, ModelGradientTest::referenceLoss);
    }

    private static void check(TrainableTransformer model, long seed, ReferenceLoss reference) {
        ModelConfig config = model.config();
        TrainTestModels.randomize(model, seed);
        Random r = new Random(seed);
        int[] tokens = new int[2 * SEQ], targets = new int[2 * SEQ];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(config.vocabSize());
            targets[i] = r.nextInt(config.vocabSize());
        }
        targets[3] = -1; // a position without a target counts for nothing

        model.parameters().zeroGradients();
        double loss = model.forwardBackward(tokens, targets, SEQ);
        assertThat(loss).isCloseTo(reference.loss(model, tokens, targets), within(1e-4));

        double worst = 0;
        for (Parameter p : model.parameters().all()) {
            float[] v = p.value();
            for (int sample = 0; sample < 4; sample++) {
                int i = r.nextInt(v.length);
                float saved = v[i];
                float plus = saved + 1e-3f, minus = saved - 1e-3f;
                v[i] = plus;
                double lp = reference.loss(model, tokens, targets);
                v[i] = minus;
                double lm = reference.loss(model, tokens, targets);
                v[i] = saved;
                double numeric = (lp - lm) / ((double) plus - minus);
                double analytic = p.grad()[i];
                assertThat(analytic).as(p.name() + "[" + i + "]").isCloseTo(numeric, within(2e-3 * Math.abs(numeric) + 2e-5));
                worst = Math.max(worst, Math.abs(analytic - numeric));
            }
        }
        assertThat(worst).isLessThan(1e-3);
    }

    private static double crossEntropy(double[] logits, int y) {
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) max = Math.max(max, z);
        double sum = 0;
        for (double z : logits) sum += Math.exp(z - max);
        return max + Math.log(sum) - logits[y];
    }

    /** Mean cross-entropy of the reference logits (double), sequences run separately from position 0. */
    private static double referenceLoss(TrainableTransformer model, int[] tokens, int[] targets) {
        ModelConfig c = model.config();
        Map<String, float[]> hf = TrainTestModels.hfWeights(model);
        double total = 0;
        int counted = 0;
        for (int s = 0; s < tokens.length / SEQ; s++) {
            ReferenceForward ref = new ReferenceForward(TrainTestModels.spec(c), hf, SEQ, c.rotaryDim());
            int[] seq = java.util.Arrays.copyOfRange(tokens, s * SEQ, (s + 1) * SEQ);
            double[][] logits = ref.run(seq);
            for (int t = 0; t < SEQ; t++) {
                int y = targets[s * SEQ + t];
                if (y < 0) continue;
                total += crossEntropy(logits[t], y);
                counted++;
            }
        }
        return total / counted;
    }
}
