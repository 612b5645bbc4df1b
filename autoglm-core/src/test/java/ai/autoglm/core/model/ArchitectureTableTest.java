package ai.autoglm.core.model;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The architecture table: the per-layer tensor list of each built-in row against llama.cpp's
 * (src/llama-model.cpp load_tensors for LLM_ARCH_LLAMA, QWEN2, CHATGLM, GLM4, written out here by name), the
 * registry's refusals, and the config defaults read once for loading and converting.
 */
class ArchitectureTableTest {
    @TempDir
    Path tmp;

    private static ModelConfig config(Architecture a, boolean bias) {
        return new ModelConfig(a, 64, 2, 4, 2, 16, 96, 100, 256, 1e-5f, 10000, a.ggufRope(), 8, null, false, bias);
    }

    private static List<String> names(Architecture a, boolean bias, boolean fused) {
        return a.layerTensors(config(a, bias), fused).stream().map(t -> t.role().tensorName(0)).toList();
    }

    /**
     * The rows after llama.cpp's load_tensors for LLM_ARCH_QWEN3 (q/k norms), LLM_ARCH_QWEN3MOE (router, stacked
     * experts) and LLM_ARCH_GLM4_MOE (the dense lead layer, then router, exp_probs_b, stacked and shared experts, the
     * MLP norm named post_attention_norm), written out here by name, with the 3-D expert shapes.
     */
    @Test
    void qwen3AndMixtureOfExpertsRowsAreLlamaCpps() {
        ModelConfig qwen3 = new ModelConfig(Architecture.QWEN3, 64, 2, 6, 2, 16, 96, 100, 256, 1e-6f, 1e6, RopeStyle.NEOX, 16, null, false, false);
        assertThat(qwen3.qkNorm()).isTrue();
        assertThat(Architecture.QWEN3.layerTensors(qwen3, false).stream().map(t -> t.role().tensorName(0)).toList()).containsExactly(
                "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                "blk.0.attn_q_norm.weight", "blk.0.attn_k_norm.weight", "blk.0.attn_output.weight", "blk.0.ffn_norm.weight",
                "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight");

        MoeConfig qm = new MoeConfig(8, 2, 32, 0, 0, MoeConfig.Gating.SOFTMAX, true, 1.0, 1, 1, 0);
        ModelConfig q3moe = new ModelConfig(Architecture.QWEN3MOE, 64, 2, 4, 2, 16, 96, 100, 256, 1e-6f, 1e6, RopeStyle.NEOX, 16,
                null, false, false, true, qm);
        List<Architecture.LayerTensor> l1 = Architecture.QWEN3MOE.layerTensors(q3moe, false, 1);
        assertThat(l1.stream().map(t -> t.role().tensorName(1)).toList()).containsExactly(
                "blk.1.attn_norm.weight", "blk.1.attn_q.weight", "blk.1.attn_k.weight", "blk.1.attn_v.weight",
                "blk.1.attn_q_norm.weight", "blk.1.attn_k_norm.weight", "blk.1.attn_output.weight", "blk.1.ffn_norm.weight",
                "blk.1.ffn_gate_inp.weight", "blk.1.ffn_gate_exps.weight", "blk.1.ffn_down_exps.weight", "blk.1.ffn_up_exps.weight");
        assertThat(l1.get(9).shape()).containsExactly(64, 32, 8);   // ffn_gate_exps {n_embd, n_ff_exp, n_expert}
        assertThat(l1.get(10).shape()).containsExactly(32, 64, 8);  // ffn_down_exps {n_ff_exp, n_embd, n_expert}
        assertThat(l1.get(8).shape()).containsExactly(64, 8);       // ffn_gate_inp {n_embd, n_expert}
        assertThatThrownBy(() -> Architecture.QWEN3MOE.layerTensors(q3moe, false)).hasMessageContaining("mixture-of-experts");

        MoeConfig gm = new MoeConfig(8, 2, 32, 1, 1, MoeConfig.Gating.SIGMOID, true, 2.5, 1, 1, 1);
        ModelConfig glm = new ModelConfig(Architecture.GLM4MOE, 64, 3, 4, 2, 16, 96, 100, 256, 1e-5f, 1e4, RopeStyle.NEOX, 8,
                null, false, true, false, gm);
        assertThat(Architecture.GLM4MOE.layerTensors(glm, false, 0).stream().map(t -> t.role().tensorName(0)).toList()).containsExactly(
                "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                "blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.0.attn_v.bias", "blk.0.attn_output.weight",
                "blk.0.post_attention_norm.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight");
        assertThat(Architecture.GLM4MOE.layerTensors(glm, false, 2).stream().map(t -> t.role().tensorName(2)).toList()).containsExactly(
                "blk.2.attn_norm.weight", "blk.2.attn_q.weight", "blk.2.attn_k.weight", "blk.2.attn_v.weight",
                "blk.2.attn_q.bias", "blk.2.attn_k.bias", "blk.2.attn_v.bias", "blk.2.attn_output.weight",
                "blk.2.post_attention_norm.weight", "blk.2.ffn_gate_inp.weight", "blk.2.exp_probs_b.bias",
                "blk.2.ffn_gate_exps.weight", "blk.2.ffn_down_exps.weight", "blk.2.ffn_up_exps.weight",
                "blk.2.ffn_gate_shexp.weight", "blk.2.ffn_down_shexp.weight", "blk.2.ffn_up_shexp.weight");
        assertThat(Architecture.byHfClass("Glm4MoeForCausalLM")).isEqualTo(Architecture.GLM4MOE);
        assertThat(Architecture.byGgufName("qwen3moe")).isEqualTo(Architecture.QWEN3MOE);
    }

    @Test
    void perLayerTensorsAreLlamaCppsPerArchitecture() {
        assertThat(names(Architecture.LLAMA, false, false)).containsExactly("blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.0.ffn_norm.weight",
                "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight");
        assertThat(names(Architecture.QWEN2, true, false)).containsExactly("blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.0.attn_v.bias",
                "blk.0.attn_output.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                "blk.0.ffn_down.weight");
        assertThat(names(Architecture.CHATGLM, true, true)).containsExactly("blk.0.attn_norm.weight", "blk.0.attn_qkv.weight",
                "blk.0.attn_qkv.bias", "blk.0.attn_output.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_up.weight",
                "blk.0.ffn_down.weight");
        assertThat(names(Architecture.GLM4, false, false)).containsExactly("blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.0.post_attention_norm.weight",
                "blk.0.ffn_norm.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight", "blk.0.post_ffw_norm.weight");
        // shapes as GGUF orders them: {row length, rows}; fused gate|up has 2*ffn rows, fused q|k|v q + 2 kv rows
        Architecture.LayerTensor up = Architecture.CHATGLM.layerTensors(config(Architecture.CHATGLM, true), true).get(5);
        assertThat(up).isEqualTo(new Architecture.LayerTensor(TensorRole.FFN_UP, 64, 192));
        Architecture.LayerTensor qkv = Architecture.CHATGLM.layerTensors(config(Architecture.CHATGLM, true), true).get(1);
        assertThat(qkv).isEqualTo(new Architecture.LayerTensor(TensorRole.ATTN_QKV, 64, 64 + 2 * 32));
        assertThatThrownBy(() -> Architecture.LLAMA.layerTensors(config(Architecture.LLAMA, false), true))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void registryKeepsNamesUnique() {
        Architecture clash = new Architecture("llama", RopeStyle.NORMAL, RopeStyle.NEOX, false, false, false, false, List.of());
        assertThatThrownBy(() -> Architecture.register(clash)).hasMessageContaining("llama");
        Architecture classClash = new Architecture("other", List.of("Qwen2ForCausalLM"), RopeStyle.NEOX, RopeStyle.NEOX,
                false, false, true, false);
        assertThatThrownBy(() -> Architecture.register(classClash)).hasMessageContaining("Qwen2ForCausalLM");
        assertThatThrownBy(() -> Architecture.unregister(Architecture.LLAMA)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Architecture.ALL).startsWith(Architecture.LLAMA, Architecture.QWEN2, Architecture.CHATGLM, Architecture.GLM4);
    }

    /**
     * A GlmForCausalLM config.json without num_key_value_heads, max_position_embeddings and rms_norm_eps: loading the
     * directory and converting it take GlmConfig's defaults (configuration_glm.py: 2, 131072, 1.5625e-7) from the same
     * row, so both give one model (before the table, the converter wrote the head count and the hidden size instead).
     */
    @Test
    void loaderAndConverterTakeTheSameDefaults() throws Exception {
        GlmFixtures.Spec s = GlmFixtures.glm4_9b();
        Path hf = GlmFixtures.writeHf(s, GlmFixtures.Layout.GLM_HF, tmp.resolve("hf"));
        ObjectMapper om = new ObjectMapper();
        ObjectNode c = (ObjectNode) om.readTree(hf.resolve("config.json").toFile());
        c.remove(List.of("num_key_value_heads", "max_position_embeddings", "rms_norm_eps"));
        om.writeValue(hf.resolve("config.json").toFile(), c);
        Path gguf = tmp.resolve("m.gguf");
        HfToGgufConverter.convert(hf, gguf, GgmlType.F32);

        int[] tokens = {GlmFixtures.GMASK_ID, GlmFixtures.SOP_ID, 5, 9, 13, 2};
        float[][] logits = new float[2][];
        ModelConfig[] configs = new ModelConfig[2];
        Path[] paths = {hf, gguf};
        for (int i = 0; i < 2; i++) {
            try (LanguageModel m = ModelLoader.load(paths[i])) {
                configs[i] = m.config();
                logits[i] = m.forward(m.newState(tokens.length), tokens, 0, tokens.length, true).clone();
            }
        }
        for (ModelConfig mc : configs) {
            assertThat(mc.kvHeads()).isEqualTo(2);
            assertThat(mc.contextLength()).isEqualTo(131072);
            assertThat(mc.rmsEps()).isEqualTo(1.5625e-7f);
        }
        for (int i = 0; i < logits[0].length; i++) {
            assertThat(logits[1][i]).as("logit " + i).isCloseTo(logits[0][i], within(1e-4f * Math.max(1, Math.abs(logits[0][i]))));
        }
    }
}
