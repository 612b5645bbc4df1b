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
}
