package ai.autoglm.core.model;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The expected pairs are written out from llama.cpp gguf-py tensor_mapping.py / constants.py, row by row. */
class HfToGgufNamesTest {

    private static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("model.embed_tokens.weight", "token_embd.weight"),
            Map.entry("model.norm.weight", "output_norm.weight"),
            Map.entry("lm_head.weight", "output.weight"),
            Map.entry("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"),
            Map.entry("model.layers.17.self_attn.q_proj.weight", "blk.17.attn_q.weight"),
            Map.entry("model.layers.17.self_attn.q_proj.bias", "blk.17.attn_q.bias"),
            Map.entry("model.layers.2.self_attn.k_proj.weight", "blk.2.attn_k.weight"),
            Map.entry("model.layers.2.self_attn.k_proj.bias", "blk.2.attn_k.bias"),
            Map.entry("model.layers.2.self_attn.v_proj.weight", "blk.2.attn_v.weight"),
            Map.entry("model.layers.2.self_attn.v_proj.bias", "blk.2.attn_v.bias"),
            Map.entry("model.layers.31.self_attn.o_proj.weight", "blk.31.attn_output.weight"),
            Map.entry("model.layers.5.post_attention_layernorm.weight", "blk.5.ffn_norm.weight"),
            Map.entry("model.layers.5.mlp.gate_proj.weight", "blk.5.ffn_gate.weight"),
            Map.entry("model.layers.5.mlp.up_proj.weight", "blk.5.ffn_up.weight"),
            Map.entry("model.layers.5.mlp.down_proj.weight", "blk.5.ffn_down.weight"));

    @Test
    void llamaAndQwen2MapLikeTensorMapping() {
        for (String arch : new String[]{"LlamaForCausalLM", "Qwen2ForCausalLM"}) {
            HfToGgufNames n = HfToGgufNames.forArchitecture(arch);
            assertThat(n).isNotNull();
            EXPECTED.forEach((hf, gguf) -> {
                assertThat(n.toGguf(hf)).as(arch + " " + hf).isEqualTo(gguf);
                assertThat(n.toHf(gguf)).as(arch + " " + gguf).isEqualTo(hf);
            });
        }
        assertThat(HfToGgufNames.forArchitecture("LlamaForCausalLM").ggufArchitecture()).isEqualTo("llama");
        assertThat(HfToGgufNames.forArchitecture("Qwen2ForCausalLM").ggufArchitecture()).isEqualTo("qwen2");
        assertThat(HfToGgufNames.forArchitecture("LlamaForCausalLM").architecture().permuteQK()).isTrue();
        assertThat(HfToGgufNames.forArchitecture("Qwen2ForCausalLM").architecture().permuteQK()).isFalse();
        assertThat(HfToGgufNames.forArchitecture("GPT2LMHeadModel")).isNull();
    }

    @Test
    void unmappedNamesGiveNull() {
        HfToGgufNames n = HfToGgufNames.forArchitecture("LlamaForCausalLM");
        assertThat(n.toGguf("model.layers.0.self_attn.rotary_emb.inv_freq")).isNull();
        assertThat(n.toGguf("model.layers.x.mlp.up_proj.weight")).isNull();
        assertThat(n.toGguf("model.layers.01.mlp.up_proj.weight")).isNull();
        assertThat(n.toGguf("model.layers..mlp.up_proj.weight")).isNull();
        assertThat(n.toGguf("model.layers.0.mlp.up_proj.scales")).isNull();
        assertThat(n.toGguf("model.embed_tokens.weightx")).isNull();
        assertThat(n.toHf("blk.a.attn_q.weight")).isNull();
        assertThat(n.toHf("rope_freqs.weight")).isNull();
    }

    /** Qwen3-MoE / GLM-4.5 names as tensor_mapping.py maps them; per-expert tensors are experts of the stacked tensor. */
    @org.junit.jupiter.api.Test
    void mixtureOfExpertsNamesMapLikeTensorMapping() {
        HfToGgufNames g = HfToGgufNames.forArchitecture("Glm4MoeForCausalLM");
        assertThat(g.ggufArchitecture()).isEqualTo("glm4moe");
        assertThat(g.toGguf("model.layers.3.mlp.gate.weight")).isEqualTo("blk.3.ffn_gate_inp.weight");
        assertThat(g.toGguf("model.layers.3.mlp.gate.e_score_correction_bias")).isEqualTo("blk.3.exp_probs_b.bias");
        assertThat(g.toHf("blk.3.exp_probs_b.bias")).isEqualTo("model.layers.3.mlp.gate.e_score_correction_bias");
        assertThat(g.toGguf("model.layers.3.post_attention_layernorm.weight")).isEqualTo("blk.3.post_attention_norm.weight");
        assertThat(g.toGguf("model.layers.3.mlp.shared_experts.down_proj.weight")).isEqualTo("blk.3.ffn_down_shexp.weight");
        assertThat(g.toGguf("model.layers.0.mlp.gate_proj.weight")).isEqualTo("blk.0.ffn_gate.weight");
        assertThat(g.toGguf("model.layers.46.eh_proj.weight")).isEqualTo("blk.46.nextn.eh_proj.weight");
        assertThat(g.toGguf("model.layers.46.shared_head.norm.weight")).isEqualTo("blk.46.nextn.shared_head_norm.weight");
        assertThat(g.toGguf("model.layers.3.mlp.experts.17.up_proj.weight")).isNull();
        HfToGgufNames.ExpertTensor e = g.expertTensor("model.layers.3.mlp.experts.17.up_proj.weight");
        assertThat(e.ggufName()).isEqualTo("blk.3.ffn_up_exps.weight");
        assertThat(e.expert()).isEqualTo(17);
        assertThat(g.expertTensor("model.layers.3.mlp.experts.017.up_proj.weight")).isNull();
        assertThat(g.expertTensor("model.layers.3.mlp.gate.weight")).isNull();
        assertThat(g.expertHfName(ai.autoglm.core.model.TensorRole.FFN_DOWN_EXPS, 3, 5)).isEqualTo("model.layers.3.mlp.experts.5.down_proj.weight");
        assertThat(g.toHf("blk.3.ffn_up_exps.weight")).isNull();
        HfToGgufNames q = HfToGgufNames.forArchitecture("Qwen3ForCausalLM");
        assertThat(q.toGguf("model.layers.2.self_attn.k_norm.weight")).isEqualTo("blk.2.attn_k_norm.weight");
        assertThat(q.toGguf("model.layers.2.post_attention_layernorm.weight")).isEqualTo("blk.2.ffn_norm.weight");
    }
}
