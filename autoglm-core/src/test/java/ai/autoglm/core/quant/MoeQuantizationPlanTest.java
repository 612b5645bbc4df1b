package ai.autoglm.core.quant;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static ai.autoglm.core.tensor.GgmlType.F16;
import static ai.autoglm.core.tensor.GgmlType.F32;
import static ai.autoglm.core.tensor.GgmlType.Q4_K;
import static ai.autoglm.core.tensor.GgmlType.Q6_K;
import static ai.autoglm.core.tensor.GgmlType.Q8_0;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama-quantize's type rules (src/llama-quant.cpp llama_tensor_get_type_impl) on a GLM-4.5-shaped MoE tensor list,
 * the expectations worked out by hand from the C++: the router ({@code ffn_gate_inp}) is never quantized and the
 * selection bias is not a weight; an 8-expert model gets attn_v and attn_k in Q8_0 ({@code n_expert == 8}); for
 * ffn_down, layer_info parses the layer from the name when {@code n_expert > 1} and counts every ffn_down tensor
 * (dense, stacked experts, shared expert) as n_ffn_down, so use_more_bits(i, n) picks the layers by that count.
 */
class MoeQuantizationPlanTest {

    /** blk.0 dense, blk.1..3 routed (8 experts) with a shared expert, as glm4moe GGUFs hold them; rows of 256. */
    static ModelShape glmShape(int experts) {
        List<TensorDescriptor> t = new ArrayList<>();
        int d = 256, f = 512, ef = 256;
        t.add(new TensorDescriptor("token_embd.weight", new long[]{d, 1000}, F16));
        for (int l = 0; l < 4; l++) {
            String b = "blk." + l + ".";
            t.add(new TensorDescriptor(b + "attn_norm.weight", new long[]{d}, F32));
            t.add(new TensorDescriptor(b + "attn_q.weight", new long[]{d, d}, F16));
            t.add(new TensorDescriptor(b + "attn_k.weight", new long[]{d, d / 2}, F16));
            t.add(new TensorDescriptor(b + "attn_v.weight", new long[]{d, d / 2}, F16));
            t.add(new TensorDescriptor(b + "attn_output.weight", new long[]{d, d}, F16));
            t.add(new TensorDescriptor(b + "post_attention_norm.weight", new long[]{d}, F32));
            if (l == 0) {
                t.add(new TensorDescriptor(b + "ffn_gate.weight", new long[]{d, f}, F16));
                t.add(new TensorDescriptor(b + "ffn_up.weight", new long[]{d, f}, F16));
                t.add(new TensorDescriptor(b + "ffn_down.weight", new long[]{f, d}, F16));
            } else {
                t.add(new TensorDescriptor(b + "ffn_gate_inp.weight", new long[]{d, experts}, F32));
                t.add(new TensorDescriptor(b + "exp_probs_b.bias", new long[]{experts}, F32));
                t.add(new TensorDescriptor(b + "ffn_gate_exps.weight", new long[]{d, ef, experts}, F16));
                t.add(new TensorDescriptor(b + "ffn_down_exps.weight", new long[]{ef, d, experts}, F16));
                t.add(new TensorDescriptor(b + "ffn_up_exps.weight", new long[]{d, ef, experts}, F16));
                t.add(new TensorDescriptor(b + "ffn_gate_shexp.weight", new long[]{d, ef}, F16));
                t.add(new TensorDescriptor(b + "ffn_down_shexp.weight", new long[]{ef, d}, F16));
                t.add(new TensorDescriptor(b + "ffn_up_shexp.weight", new long[]{d, ef}, F16));
            }
        }
        t.add(new TensorDescriptor("output_norm.weight", new long[]{d}, F32));
        t.add(new TensorDescriptor("output.weight", new long[]{d, 1000}, F16));
        return new ModelShape("glm4moe", 4, 2, 1, experts, t);
    }

    @Test
    void expertTensorsFollowLlamaQuantizeRules() {
        QuantizationPlan p = QuantizationPlanner.plan(glmShape(8), QuantizationOptions.of(QuantPreset.Q4_K_M));
        assertThat(p.find("blk.1.ffn_gate_inp.weight").targetType()).isEqualTo(F32);
        assertThat(p.find("blk.1.exp_probs_b.bias").targetType()).isEqualTo(F32);
        for (int l = 0; l < 4; l++) {
            assertThat(p.find("blk." + l + ".attn_v.weight").targetType()).isEqualTo(Q8_0);
            assertThat(p.find("blk." + l + ".attn_k.weight").targetType()).isEqualTo(Q8_0);
        }
        // n_ffn_down = 1 dense + 3 x (exps + shexp) = 7: use_more_bits(i, 7) holds for i = 2, 5, 6 (i % 3 == 2 or i >= 6)
        assertThat(p.find("blk.2.ffn_down_exps.weight").targetType()).isEqualTo(Q6_K);
        assertThat(p.find("blk.2.ffn_down_shexp.weight").targetType()).isEqualTo(Q6_K);
        assertThat(p.find("blk.1.ffn_down_exps.weight").targetType()).isEqualTo(Q4_K);
        assertThat(p.find("blk.3.ffn_down_exps.weight").targetType()).isEqualTo(Q4_K);
        assertThat(p.find("blk.0.ffn_down.weight").targetType()).isEqualTo(Q4_K);
        assertThat(p.find("blk.1.ffn_gate_exps.weight").targetType()).isEqualTo(Q4_K);
        assertThat(p.find("blk.1.ffn_up_shexp.weight").targetType()).isEqualTo(Q4_K);
    }

    @Test
    void otherExpertCountsKeepTheDenseAttentionRules() {
        QuantizationPlan p = QuantizationPlanner.plan(glmShape(16), QuantizationOptions.of(QuantPreset.Q4_K_M));
        assertThat(p.find("blk.1.attn_k.weight").targetType()).isEqualTo(Q4_K);
        // attn_v: use_more_bits(i, 4) for i = 0 (< 4/8 = 0? no), i >= 3, (i - 0) % 3 == 2: layers 2 and 3
        assertThat(p.find("blk.1.attn_v.weight").targetType()).isEqualTo(Q4_K);
        assertThat(p.find("blk.3.attn_v.weight").targetType()).isEqualTo(Q6_K);
    }
}
