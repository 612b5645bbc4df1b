package ai.autoglm.core.quant;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.MoeFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `compress`/`quantize` of an MoE file with per-group types (routed experts, shared expert, attention) by
 * {@code --tensor-type} regexes: the written file has each group in its type, every expert's block rows are the
 * Quantizer's blocks of that expert's F32 rows (checked against the source expert by expert), and it loads and runs.
 */
class MoeQuantizeFileTest {
    @TempDir
    Path tmp;

    @Test
    void expertSharedAndAttentionGroupsGetTheirOwnTypes() {
        MoeFixtures.Spec s = MoeFixtures.glm45();
        Path src = MoeFixtures.writeGguf(s, tmp.resolve("f32.gguf"));
        Path out = tmp.resolve("mixed.gguf");
        QuantizationOptions options = new QuantizationOptions(QuantPreset.Q8_0, List.of(
                TensorTypeOverride.parse("ffn_.*_exps=q4_0"), TensorTypeOverride.parse("ffn_.*_shexp=q5_0")), false);
        ModelQuantizer.quantizeFile(src, out, options, null, null, (i, n, t, imat, ns) -> { });
        try (GgufFile f32 = GgufFile.open(src); GgufFile q = GgufFile.open(out)) {
            assertThat(q.tensorInfo("blk.1.ffn_gate_exps.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(q.tensorInfo("blk.1.ffn_gate_exps.weight").shape()).containsExactly(s.dim(), s.expertFfn(), s.experts());
            assertThat(q.tensorInfo("blk.1.ffn_down_shexp.weight").type()).isEqualTo(GgmlType.Q5_0);
            assertThat(q.tensorInfo("blk.1.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(q.tensorInfo("blk.1.ffn_gate_inp.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(q.tensorInfo("blk.1.exp_probs_b.bias").type()).isEqualTo(GgmlType.F32);
            // expert 5 of the written stacked tensor = Q4_0 of expert 5's F32 rows
            int per = s.dim() * s.expertFfn();
            FloatTensor srcT = f32.tensor("blk.2.ffn_up_exps.weight"), qT = q.tensor("blk.2.ffn_up_exps.weight");
            float[] rows = new float[per];
            srcT.copyTo(5L * per, rows, 0, per);
            FloatTensor expected = ai.autoglm.core.tensor.Tensors.view(GgmlType.Q4_0, ai.autoglm.core.tensor.Quantizer.quantize(GgmlType.Q4_0, rows), per);
            for (int i = 0; i < per; i++) assertThat(qT.getFloat(5L * per + i)).isEqualTo(expected.getFloat(i));
        }
        try (LanguageModel m = ModelLoader.load(out)) {
            float[] l = m.forward(m.newState(8), new int[]{1, 2, 3, 4}, 0, 4, false);
            for (float v : l) assertThat(Float.isFinite(v)).isTrue();
        }
    }
}
