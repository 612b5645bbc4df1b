package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/**
 * The mixture-of-experts hyper-parameters of a model, as llama.cpp's hparams keep them (llama-hparams.h
 * {@code n_expert}, {@code n_expert_used}, {@code n_expert_shared}, {@code n_ff_exp}, {@code n_layer_dense_lead},
 * {@code expert_weights_scale}, {@code expert_weights_norm}, {@code expert_gating_func}, {@code n_expert_groups},
 * {@code n_group_used}, {@code nextn_predict_layers}); read from the GGUF keys of the same names
 * ({@link ai.autoglm.core.format.gguf.GgufKeys}) or from the HF config keys of the architecture's gating family.
 *
 * @param experts      routed experts per MoE layer
 * @param used         experts selected per token (top-k)
 * @param expertFfn    intermediate size of one routed expert
 * @param shared       shared experts (one MLP of {@code expertFfn * shared}); 0 for none
 * @param leadingDense the first layers with a dense MLP instead ({@code first_k_dense_replace})
 * @param gating       softmax (Qwen3-MoE) or sigmoid (GLM-4.5) of the router logits
 * @param normTopk     selected weights divided by their sum ({@code norm_topk_prob})
 * @param scale        selected weights multiplied by this ({@code routed_scaling_factor})
 * @param groups       expert groups of the grouped top-k ({@code n_group}); 1 for plain top-k
 * @param groupsUsed   groups kept per token ({@code topk_group})
 * @param nextnLayers  multi-token-prediction blocks stored after the last layer, read and never run
 */
public record MoeConfig(int experts, int used, int expertFfn, int shared, int leadingDense, Gating gating,
                        boolean normTopk, double scale, int groups, int groupsUsed, int nextnLayers) {

    /** How router logits become probabilities (llama.cpp llama_expert_gating_func_type). */
    public enum Gating {
        SOFTMAX(1), SIGMOID(2);

        /** The GGUF {@code expert_gating_func} value. */
        public final int ggufId;

        Gating(int ggufId) {
            this.ggufId = ggufId;
        }

        public static Gating ofGguf(int id) {
            for (Gating g : values()) if (g.ggufId == id) return g;
            return null;
        }
    }

    /** Whether layer {@code l} (of the layers that run) has routed experts. */
    public boolean moeLayer(int l) {
        return l >= leadingDense;
    }

    /** Intermediate size of the shared-expert MLP. */
    public int sharedFfn() {
        return expertFfn * shared;
    }

    public MoeConfig validate(Path file, int layers) {
        if (experts < 1 || experts > 1 << 12) throw new ModelFormatException(file, "expert count " + experts + " is out of range (1..4096)");
        if (used < 1 || used > experts) throw new ModelFormatException(file, "experts used per token " + used + " must be in 1.." + experts);
        if (expertFfn < 1 || expertFfn > ModelConfig.MAX_FFN) throw new ModelFormatException(file, "expert feed-forward length " + expertFfn + " is out of range");
        if (shared < 0 || shared > 64) throw new ModelFormatException(file, "shared expert count " + shared + " is out of range (0..64)");
        if (leadingDense < 0 || leadingDense > layers) throw new ModelFormatException(file, "leading dense block count " + leadingDense + " exceeds the " + layers + " layers");
        if (!(scale > 0) || !Double.isFinite(scale)) throw new ModelFormatException(file, "expert weights scale " + scale + " is not positive");
        if (groups < 1 || experts % groups != 0) throw new ModelFormatException(file, "expert group count " + groups + " does not divide the " + experts + " experts");
        if (groupsUsed < 1 || groupsUsed > groups) throw new ModelFormatException(file, "expert groups used " + groupsUsed + " must be in 1.." + groups);
        if (groups > 1 && experts / groups < 2) throw new ModelFormatException(file, "expert groups of fewer than 2 experts are not supported (group score = sum of the top 2)");
        if (groups > 1 && used > groupsUsed * (experts / groups)) throw new ModelFormatException(file, "experts used " + used + " exceed the experts of the " + groupsUsed + " groups kept");
        if (nextnLayers < 0) throw new ModelFormatException(file, "nextn predict layers " + nextnLayers + " is negative");
        return this;
    }

    /**
     * From an HF config.json: the keys of transformers' Qwen3MoeConfig (configuration_qwen3_moe.py: {@code num_experts},
     * {@code num_experts_per_tok}, {@code moe_intermediate_size}, {@code norm_topk_prob} default false) for softmax
     * gating, of Glm4MoeConfig (configuration_glm4_moe.py: {@code n_routed_experts}, {@code num_experts_per_tok},
     * {@code moe_intermediate_size}, {@code n_shared_experts} 1, {@code first_k_dense_replace} 1,
     * {@code routed_scaling_factor} 1.0, {@code norm_topk_prob} true, {@code n_group} 1, {@code topk_group} 1,
     * {@code num_nextn_predict_layers} 0) for sigmoid gating.
     */
    public static MoeConfig fromHf(Path file, JsonNode c, Gating gating, int layers) {
        if (gating == Gating.SOFTMAX) {
            if (c.path("decoder_sparse_step").asInt(1) != 1) throw new ModelFormatException(file, "decoder_sparse_step other than 1 is not supported");
            if (c.path("mlp_only_layers").size() > 0) throw new ModelFormatException(file, "mlp_only_layers (dense layers among MoE layers) is not supported");
            return new MoeConfig(req(file, c, "num_experts"), req(file, c, "num_experts_per_tok"), req(file, c, "moe_intermediate_size"),
                    0, 0, gating, c.path("norm_topk_prob").asBoolean(false), 1.0, 1, 1, 0).validate(file, layers);
        }
        return new MoeConfig(req(file, c, "n_routed_experts"), req(file, c, "num_experts_per_tok"), req(file, c, "moe_intermediate_size"),
                c.path("n_shared_experts").asInt(1), c.path("first_k_dense_replace").asInt(1), gating,
                c.path("norm_topk_prob").asBoolean(true), c.path("routed_scaling_factor").asDouble(1.0),
                c.path("n_group").asInt(1), c.path("topk_group").asInt(1), c.path("num_nextn_predict_layers").asInt(0))
                .validate(file, layers);
    }

    private static int req(Path file, JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) throw new ModelFormatException(file, "needs an integer \"" + key + "\", got " + v);
        return v.intValue();
    }
}
