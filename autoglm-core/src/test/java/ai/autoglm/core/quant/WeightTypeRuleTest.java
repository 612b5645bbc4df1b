package ai.autoglm.core.quant;

import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The load-time types of the bundled model (F16, glm4, 4 layers, dim 256, ffn 704), checked against llama.cpp's
 * rules read directly (src/llama-quant.cpp): norms and biases keep their type, the output head is Q6_K for 4-bit
 * targets, q4_k is Q4_K_M (attn_v and ffn_down Q6_K in the layers use_more_bits picks: with 4 layers, i >= 7*4/8 = 3
 * or (i - 4/8) % 3 == 2, so layers 2 and 3), rows of 704 are not
 * whole 256-blocks (Q4_K -> Q5_0, Q6_K -> Q8_0 fallbacks).
 */
class WeightTypeRuleTest {
    static ModelConfig config;
    static List<TensorSpec> stored;

    @BeforeAll
    static void read() {
        try (LanguageModel m = ModelLoader.load(Path.of("..", "models", "default", "model.gguf"))) {
            config = m.config();
            stored = TensorSpec.of(((TransformerModel) m).weights());
        }
    }

    static Map<String, GgmlType> types(GgmlType target) {
        return WeightTypeRule.apply(config, stored, target).stream().collect(Collectors.toMap(TensorSpec::name, TensorSpec::type));
    }

    @Test
    void unquantizedTargetsConvertEveryMatrixAndKeepVectorsF32() {
        Map<String, GgmlType> t = types(GgmlType.F16);
        assertThat(t.get("output.weight")).isEqualTo(GgmlType.F16);
        assertThat(t.get("blk.0.ffn_down.weight")).isEqualTo(GgmlType.F16);
        assertThat(t.get("blk.0.attn_norm.weight")).isEqualTo(GgmlType.F32);
        assertThat(t.get("blk.0.attn_q.bias")).isEqualTo(GgmlType.F32);
    }

    @Test
    void q4_0() {
        Map<String, GgmlType> t = types(GgmlType.Q4_0);
        assertThat(t.get("output.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(t.get("token_embd.weight")).isEqualTo(GgmlType.Q4_0);
        assertThat(t.get("blk.1.ffn_down.weight")).isEqualTo(GgmlType.Q4_0);
        assertThat(t.get("blk.0.attn_norm.weight")).isEqualTo(GgmlType.F32);
    }

    @Test
    void q8_0KeepsTheOutputInQ8_0() {
        assertThat(types(GgmlType.Q8_0).get("output.weight")).isEqualTo(GgmlType.Q8_0);
    }

    @Test
    void q4_kIsQ4_K_MWithFallbacks() {
        Map<String, GgmlType> t = types(GgmlType.Q4_K);
        assertThat(t.get("output.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(t.get("blk.0.attn_v.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(t.get("blk.2.attn_v.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(t.get("blk.3.attn_v.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(t.get("blk.1.ffn_down.weight")).isEqualTo(GgmlType.Q5_0);
        assertThat(t.get("blk.2.ffn_down.weight")).isEqualTo(GgmlType.Q8_0);
        assertThat(t.get("blk.1.ffn_up.weight")).isEqualTo(GgmlType.Q4_K);
    }
}
