package ai.autoglm.core.model;

import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;

/** Every projection reaches the decorator once with its name and dimensions, and what it returns is what runs. */
class ProjectionDecoratorTest {

    @Test
    void decoratorSeesEveryProjectionOnceWithItsDimensions() {
        Spec s = ModelFixtures.llama();
        Map<String, int[]> seen = new LinkedHashMap<>();
        ProjectionDecorator record = (name, p) -> {
            assertThat(seen.put(name, new int[]{p.inputDim(), p.outputDim()})).as(name).isNull();
            return p;
        };
        MapWeightSource src = ModelFixtures.ggufLayout(s, ModelFixtures.hfWeights(s));
        ModelConfig c = ModelConfig.fromGguf(ModelFixtures.ggufMetadata(s), src);
        new TransformerModel(c, src, null, null, null, record);

        assertThat(seen).hasSize(7 * c.layers() + 1);
        for (int l = 0; l < c.layers(); l++) {
            assertThat(seen.get("blk." + l + ".attn_q.weight")).containsExactly(c.dim(), c.qDim());
            assertThat(seen.get("blk." + l + ".attn_k.weight")).containsExactly(c.dim(), c.kvDim());
            assertThat(seen.get("blk." + l + ".attn_output.weight")).containsExactly(c.qDim(), c.dim());
            assertThat(seen.get("blk." + l + ".ffn_down.weight")).containsExactly(c.ffnDim(), c.dim());
        }
        assertThat(seen.get("output.weight")).containsExactly(c.dim(), c.vocabSize());
    }

    @Test
    void replacedProjectionIsTheOneThatRuns() {
        Spec s = ModelFixtures.llama();
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        // Reference: the same model with layer 0's MLP output projection zeroed.
        Map<String, float[]> zeroed = new HashMap<>(w);
        String hfDown = "model.layers.0.mlp.down_proj.weight";
        zeroed.put(hfDown, new float[w.get(hfDown).length]);
        int[] tokens = TransformerModelTest.prompt(6, 7);
        double[][] ref = new ReferenceForward(s, zeroed, tokens.length).run(tokens);

        ProjectionDecorator zeroDown = (name, p) -> !name.equals("blk.0.ffn_down.weight") ? p : new Projection() {
            public int inputDim() {
                return p.inputDim();
            }

            public int outputDim() {
                return p.outputDim();
            }

            public void apply(float[] x, int xOff, float[] out, int outOff, int n) {
                Arrays.fill(out, outOff, outOff + n * p.outputDim(), 0f);
            }
        };
        MapWeightSource src = ModelFixtures.ggufLayout(s, w);
        ModelConfig c = ModelConfig.fromGguf(ModelFixtures.ggufMetadata(s), src);
        TransformerModel m = new TransformerModel(c, src, null, null, null, zeroDown);
        assertRowsClose("zeroed ffn_down via decorator", m.forward(m.newState(16), tokens, 0, tokens.length, true), ref, TransformerModelTest.TOL);
    }
}
