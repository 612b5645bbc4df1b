package ai.autoglm.train;

import ai.autoglm.core.model.ModelConfig;
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

    private static void check(ModelConfig config, long seed) {
        TrainableTransformer model = new TrainableTransformer(config);
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
        assertThat(loss).isCloseTo(referenceLoss(model, tokens, targets), within(1e-4));

        double worst = 0;
        for (Parameter p : model.parameters().all()) {
            float[] v = p.value();
            for (int sample = 0; sample < 4; sample++) {
                int i = r.nextInt(v.length);
                float saved = v[i];
                float plus = saved + 1e-3f, minus = saved - 1e-3f;
                v[i] = plus;
                double lp = referenceLoss(model, tokens, targets);
                v[i] = minus;
                double lm = referenceLoss(model, tokens, targets);
                v[i] = saved;
                double numeric = (lp - lm) / ((double) plus - minus);
                double analytic = p.grad()[i];
                assertThat(analytic).as(p.name() + "[" + i + "]").isCloseTo(numeric, within(2e-3 * Math.abs(numeric) + 2e-5));
                worst = Math.max(worst, Math.abs(analytic - numeric));
            }
        }
        assertThat(worst).isLessThan(1e-3);
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
                double max = Double.NEGATIVE_INFINITY;
                for (double z : logits[t]) max = Math.max(max, z);
                double sum = 0;
                for (double z : logits[t]) sum += Math.exp(z - max);
                total += max + Math.log(sum) - logits[t][y];
                counted++;
            }
        }
        return total / counted;
    }
}
