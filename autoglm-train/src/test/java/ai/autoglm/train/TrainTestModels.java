package ai.autoglm.train;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.RopeStyle;
import ai.autoglm.core.model.HfToGgufNames;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.ModelFixtures;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Tiny model configurations for the training tests, and the bridge to core's double-precision {@code ReferenceForward}. */
final class TrainTestModels {
    private TrainTestModels() {
    }

    /** Llama layout: split q/k/v without bias, split gate/up, full NEOX rotary (HF layout), GQA, untied. */
    static ModelConfig llama(int vocab) {
        return new ModelConfig(Architecture.LLAMA, 16, 2, 4, 2, 4, 24, vocab, 32, 1e-5f, 10000.0, RopeStyle.NEOX, 4, null, false, false);
    }

    /**
     * GLM-4-shaped: fused q|k|v with bias, fused gate|up, post-attention and post-MLP norms, rotary on half of each
     * head, tied embeddings. The rotary layout here is NEOX so that core's ReferenceForward can check it; the
     * interleaved (NORMAL) pairing is checked op by op in OpGradientTest.
     */
    static ModelConfig glmShaped(int vocab) {
        Architecture arch = new Architecture("llama", List.of("LlamaForCausalLM"), RopeStyle.NORMAL, RopeStyle.NEOX,
                true, true, true, true);
        return new ModelConfig(arch, 16, 2, 4, 2, 4, 24, vocab, 32, 1e-5f, 10000.0, RopeStyle.NEOX, 2, null, true, true);
    }

    /** GLM-4-0414 as trained for export: split q/k/v with bias, fused gate|up, post-norms, interleaved rotary on half of each head. */
    static ModelConfig glm4(int vocab) {
        return new ModelConfig(Architecture.GLM4, 16, 2, 4, 2, 4, 24, vocab, 32, 1e-5f, 10000.0, RopeStyle.NORMAL, 2, null, false, true);
    }

    /** The spec core's GlmReferenceForward reads for {@code c} (rotary = half of each head, theta = 10000 * ratio). */
    static GlmFixtures.Spec glmSpec(ModelConfig c) {
        if (c.rotaryDim() * 2 != c.headDim()) throw new IllegalArgumentException("GlmReferenceForward rotates half of each head");
        return new GlmFixtures.Spec("trained", c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.contextLength(),
                c.rmsEps(), c.ropeTheta() / 10000.0, c.qkvBias(), c.vocabSize(), c.architecture().postNorms(), 1);
    }

    /** The parameters under the HF names of {@code hfClass} (the production name table), for GlmReferenceForward. */
    static Map<String, GlmFixtures.Named> glmHfTensors(TrainableTransformer m, String hfClass) {
        HfToGgufNames names = HfToGgufNames.forArchitecture(hfClass);
        Map<String, GlmFixtures.Named> out = new LinkedHashMap<>();
        for (Parameter p : m.parameters().all()) out.put(names.toHf(p.name()), new GlmFixtures.Named(p.value(), TrainingCheckpoint.hfOrder(p.shape())));
        return out;
    }

    /** Weights of the size ModelFixtures uses (N(0, 1/in), norms near 1, biases 0.5), so gradients are far from zero. */
    static void randomize(TrainableTransformer m, long seed) {
        Random r = new Random(seed);
        for (Parameter p : m.parameters().all()) {
            float[] v = p.value();
            boolean norm = p.name().endsWith("norm.weight");
            double std = p.shape().length == 2 ? (p.name().equals("token_embd.weight") ? 1.0 : 1 / Math.sqrt(p.shape()[0])) : 0.5;
            for (int i = 0; i < v.length; i++) v[i] = (float) (norm ? 1 + 0.1 * r.nextGaussian() : std * r.nextGaussian());
        }
    }

    /** The spec core's ReferenceForward reads (its vocabulary is the fixture tokenizer's, ModelFixtures.VOCAB_SIZE). */
    static ModelFixtures.Spec spec(ModelConfig c) {
        return new ModelFixtures.Spec("llama", c.dim(), c.layers(), c.heads(), c.kvHeads(), c.ffnDim(), c.contextLength(),
                c.rmsEps(), c.ropeTheta(), c.tiedEmbeddings(), c.qkvBias(), null, 1);
    }

    /**
     * The parameters under the HF names ReferenceForward reads (modeling_llama.py / modeling_glm4.py module names),
     * fused tensors split into their parts: q|k|v rows, gate|up rows.
     */
    static Map<String, float[]> hfWeights(TrainableTransformer m) {
        ModelConfig c = m.config();
        Map<String, float[]> out = new LinkedHashMap<>();
        int dim = c.dim(), q = c.qDim(), kv = c.kvDim(), ffn = c.ffnDim();
        for (Parameter p : m.parameters().all()) {
            String n = p.name();
            float[] v = p.value();
            if (n.equals("token_embd.weight")) out.put("model.embed_tokens.weight", v);
            else if (n.equals("output_norm.weight")) out.put("model.norm.weight", v);
            else if (n.equals("output.weight")) out.put("lm_head.weight", v);
            else {
                String[] parts = n.split("\\.", 3); // blk, L, rest
                String pre = "model.layers." + parts[1] + ".";
                switch (parts[2]) {
                    case "attn_norm.weight" -> out.put(pre + "input_layernorm.weight", v);
                    case "attn_q.weight" -> out.put(pre + "self_attn.q_proj.weight", v);
                    case "attn_k.weight" -> out.put(pre + "self_attn.k_proj.weight", v);
                    case "attn_v.weight" -> out.put(pre + "self_attn.v_proj.weight", v);
                    case "attn_q.bias" -> out.put(pre + "self_attn.q_proj.bias", v);
                    case "attn_k.bias" -> out.put(pre + "self_attn.k_proj.bias", v);
                    case "attn_v.bias" -> out.put(pre + "self_attn.v_proj.bias", v);
                    case "attn_qkv.weight" -> {
                        out.put(pre + "self_attn.q_proj.weight", slice(v, 0, q * dim));
                        out.put(pre + "self_attn.k_proj.weight", slice(v, q * dim, kv * dim));
                        out.put(pre + "self_attn.v_proj.weight", slice(v, (q + kv) * dim, kv * dim));
                    }
                    case "attn_qkv.bias" -> {
                        out.put(pre + "self_attn.q_proj.bias", slice(v, 0, q));
                        out.put(pre + "self_attn.k_proj.bias", slice(v, q, kv));
                        out.put(pre + "self_attn.v_proj.bias", slice(v, q + kv, kv));
                    }
                    case "attn_output.weight" -> out.put(pre + "self_attn.o_proj.weight", v);
                    case "post_attention_norm.weight" -> out.put(pre + "post_self_attn_layernorm.weight", v);
                    case "ffn_norm.weight" -> out.put(pre + "post_attention_layernorm.weight", v);
                    case "ffn_gate.weight" -> out.put(pre + "mlp.gate_proj.weight", v);
                    case "ffn_up.weight" -> {
                        if (c.architecture().fusedGateUp()) {
                            out.put(pre + "mlp.gate_proj.weight", slice(v, 0, ffn * dim));
                            out.put(pre + "mlp.up_proj.weight", slice(v, ffn * dim, ffn * dim));
                        } else {
                            out.put(pre + "mlp.up_proj.weight", v);
                        }
                    }
                    case "ffn_down.weight" -> out.put(pre + "mlp.down_proj.weight", v);
                    case "post_ffw_norm.weight" -> out.put(pre + "post_mlp_layernorm.weight", v);
                    default -> throw new IllegalArgumentException("no HF name for " + n);
                }
            }
        }
        return out;
    }

    private static float[] slice(float[] v, int from, int n) {
        float[] s = new float[n];
        System.arraycopy(v, from, s, 0, n);
        return s;
    }
}
