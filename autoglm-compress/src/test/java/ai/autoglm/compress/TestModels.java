package ai.autoglm.compress;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.model.Projection;
import ai.autoglm.core.model.ProjectionDecorator;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.ModelFixtures;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Random-weight fixture models as {@link GgufModel}s, and a masking decorator that is the reference for structured pruning. */
public final class TestModels {
    private TestModels() {
    }

    /** Llama, GQA 4 heads over 2 KV heads, dim 64, ffn 160, 2 layers, split gate/up. */
    public static GgufModel llama() {
        ModelFixtures.Spec s = ModelFixtures.llama();
        return GgufModel.of(null, ModelFixtures.ggufMetadata(s), ModelFixtures.ggufLayout(s, ModelFixtures.hfWeights(s)));
    }

    /** GLM in the remote-code GGUF layout: fused q|k|v with bias, fused gate|up. */
    public static GgufModel chatglm() {
        return glm(GlmFixtures.glm4_9b(), GlmFixtures.Layout.CHATGLM_REMOTE);
    }

    /** GLM-4-0414: split q/k/v, fused gate|up, post-attention and post-MLP norms. */
    public static GgufModel glm4() {
        return glm(GlmFixtures.glm4_0414(), GlmFixtures.Layout.GLM4_HF);
    }

    private static GgufModel glm(GlmFixtures.Spec s, GlmFixtures.Layout layout) {
        MapWeightSource w = new MapWeightSource();
        GlmFixtures.ggufTensors(s, layout, GlmFixtures.weights(s)).forEach((name, t) -> w.put(name, new ArrayFloatTensor(t.values()), t.shape()));
        return GgufModel.of(null, GlmFixtures.ggufMetadata(s, layout), w);
    }

    /** Calibration text in the fixtures' byte-level vocabulary. */
    public static final String CALIBRATION = "hello world, the quick brown fox jumps over the lazy dog. 床前明月光，疑是地上霜。"
            + " All that glitters is not gold; the world is hello again and again.";

    /** Token ids used to compare logits (plain bytes, in every fixture's vocabulary). */
    public static final int[] TOKENS = {104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 10, 84, 104, 101};

    /** The logits after every token of {@link #TOKENS}. */
    public static float[] logits(LanguageModel m) {
        try (m) {
            InferenceState s = m.newState(TOKENS.length);
            return m.forward(s, TOKENS, 0, TOKENS.length, true).clone();
        }
    }

    public static void assertClose(float[] actual, float[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        double maxAbs = 0;
        for (float v : expected) maxAbs = Math.max(maxAbs, Math.abs(v));
        for (int i = 0; i < actual.length; i++) {
            assertThat((double) actual[i]).as("logit %d", i).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(tol * Math.max(1, maxAbs)));
        }
    }

    /**
     * The reference for structured pruning: the unpruned model with the removed heads' / channels' inputs of the
     * following projection zeroed (so they add nothing to the residual stream), and whole projections' outputs zeroed
     * for skipped layers. It shares no code with the shrinking.
     */
    public static final class Mask implements ProjectionDecorator {
        private final Map<String, boolean[]> zeroInputs = new HashMap<>();
        private final Set<String> zeroOutputs = new HashSet<>();

        /** Zero input columns {@code cols} of projection {@code name}. */
        public Mask zeroInputs(String name, int dim, Iterable<Integer> cols) {
            boolean[] z = zeroInputs.computeIfAbsent(name, k -> new boolean[dim]);
            for (int c : cols) z[c] = true;
            return this;
        }

        /** Projection {@code name} outputs zeros. */
        public Mask zeroOutput(String name) {
            zeroOutputs.add(name);
            return this;
        }

        @Override
        public Projection decorate(String name, Projection p) {
            boolean[] z = zeroInputs.get(name);
            boolean silent = zeroOutputs.contains(name);
            if (z == null && !silent) return p;
            return new Projection() {
                public int inputDim() {
                    return p.inputDim();
                }

                public int outputDim() {
                    return p.outputDim();
                }

                public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
                    if (silent) {
                        java.util.Arrays.fill(out, outOff, outOff + n * p.outputDim(), 0f);
                        return;
                    }
                    int d = p.inputDim();
                    float[] masked = java.util.Arrays.copyOfRange(x, xOff, xOff + n * d);
                    for (int t = 0; t < n; t++) for (int j = 0; j < d; j++) if (z[j]) masked[t * d + j] = 0f;
                    p.apply(masked, 0, out, outOff, n);
                }
            };
        }
    }

}
