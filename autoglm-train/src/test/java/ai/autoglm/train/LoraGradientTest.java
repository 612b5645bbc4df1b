package ai.autoglm.train;

import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ReferenceForward;
import ai.autoglm.train.lora.LoraLayer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * LoRA hooks in the whole model: the gradients of A and B from {@link TrainableTransformer#forwardBackward} with a
 * frozen base against central differences of the mean cross-entropy of core's double-precision ReferenceForward
 * over the HF weights with {@code W + s B A} merged in (computed here), and no gradient at all on the frozen weights.
 */
class LoraGradientTest {
    private static final int SEQ = 6;

    @Test
    void loraGradientsThroughTheFrozenModelMatchTheMergedReference() {
        ModelConfig c = TrainTestModels.llama(ModelFixtures.VOCAB_SIZE);
        TrainableTransformer model = new TrainableTransformer(c);
        TrainTestModels.randomize(model, 21);
        float scale = 2f;
        Random r = new Random(22);
        List<LoraLayer> layers = new ArrayList<>();
        SplitMix64 rng = new SplitMix64(23);
        for (int l = 0; l < c.layers(); l++) {
            for (String t : new String[]{"attn_q", "attn_v", "ffn_down"}) {
                String name = "blk." + l + "." + t + ".weight";
                long[] shape = model.parameters().get(name).shape();
                LoraLayer layer = new LoraLayer(name, (int) shape[0], (int) shape[1], 2, scale, rng);
                float[] b = layer.b().value(); // non-zero B, as after some training, so A has a gradient too
                for (int i = 0; i < b.length; i++) b[i] = (float) (0.3 * r.nextGaussian());
                model.addHook(name, layer);
                layers.add(layer);
            }
        }
        model.freezeBase(true);
        int[] tokens = new int[2 * SEQ], targets = new int[2 * SEQ];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(c.vocabSize());
            targets[i] = r.nextInt(c.vocabSize());
        }
        targets[2] = -1;
        model.parameters().zeroGradients();
        for (LoraLayer l : layers) {
            java.util.Arrays.fill(l.a().grad(), 0f);
            java.util.Arrays.fill(l.b().grad(), 0f);
        }
        double loss = model.forwardBackward(tokens, targets, SEQ);
        assertThat(loss).isCloseTo(referenceLoss(model, layers, scale, tokens, targets), within(1e-4));

        for (Parameter p : model.parameters().all()) {
            if (p.shape().length != 2 || p.name().equals("token_embd.weight")) continue;
            for (float g : p.grad()) assertThat(g).as("frozen " + p.name()).isZero();
        }
        for (LoraLayer l : layers) {
            for (Parameter p : List.of(l.a(), l.b())) {
                float[] v = p.value();
                for (int sample = 0; sample < 3; sample++) {
                    int i = r.nextInt(v.length);
                    float saved = v[i];
                    float plus = saved + 1e-3f, minus = saved - 1e-3f;
                    v[i] = plus;
                    double lp = referenceLoss(model, layers, scale, tokens, targets);
                    v[i] = minus;
                    double lm = referenceLoss(model, layers, scale, tokens, targets);
                    v[i] = saved;
                    double numeric = (lp - lm) / ((double) plus - minus);
                    assertThat((double) p.grad()[i]).as(p.name() + "[" + i + "]").isCloseTo(numeric, within(2e-3 * Math.abs(numeric) + 2e-5));
                }
            }
        }
    }

    /** ReferenceForward over the HF weights with {@code s * B A} added to each hooked weight, in double. */
    private static double referenceLoss(TrainableTransformer model, List<LoraLayer> layers, float scale, int[] tokens, int[] targets) {
        ModelConfig c = model.config();
        Map<String, float[]> hf = new LinkedHashMap<>(TrainTestModels.hfWeights(model));
        for (LoraLayer l : layers) {
            String[] parts = l.target().split("\\.");
            String hfName = "model.layers." + parts[1] + "." + switch (parts[2]) {
                case "attn_q" -> "self_attn.q_proj";
                case "attn_v" -> "self_attn.v_proj";
                case "ffn_down" -> "mlp.down_proj";
                default -> throw new IllegalStateException(parts[2]);
            } + ".weight";
            float[] w = hf.get(hfName).clone(), a = l.a().value(), b = l.b().value();
            int in = l.in(), rank = l.rank();
            for (int o = 0; o < l.out(); o++) {
                for (int i = 0; i < in; i++) {
                    double d = 0;
                    for (int k = 0; k < rank; k++) d += (double) b[o * rank + k] * a[k * in + i];
                    w[o * in + i] = (float) (w[o * in + i] + scale * d);
                }
            }
            hf.put(hfName, w);
        }
        double total = 0;
        int counted = 0;
        for (int s = 0; s < tokens.length / SEQ; s++) {
            double[][] logits = new ReferenceForward(TrainTestModels.spec(c), hf, SEQ, c.rotaryDim())
                    .run(java.util.Arrays.copyOfRange(tokens, s * SEQ, (s + 1) * SEQ));
            for (int t = 0; t < SEQ; t++) {
                int y = targets[s * SEQ + t];
                if (y < 0) continue;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (double z : logits[t]) max = Math.max(max, z);
                for (double z : logits[t]) sum += Math.exp(z - max);
                total += max + Math.log(sum) - logits[t][y];
                counted++;
            }
        }
        return total / counted;
    }
}
