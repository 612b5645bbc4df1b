package ai.autoglm.core.model;

import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.format.ModelFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Between a PEFT adapter's HF module names and a loaded model's GGUF tensors.
 *
 * <p>Names go through core's per-architecture tables ({@link HfToGgufNames}): every HF layout registered for the
 * model's GGUF architecture is tried, so an adapter trained on {@code GlmForCausalLM} ({@code self_attn.q_proj}) and
 * one trained on the remote-code {@code ChatGLMModel} ({@code self_attention.query_key_value}) both find their tensors
 * in a {@code chatglm} GGUF.
 *
 * <p>Row order: llama.cpp's converter permutes the q/k rows of {@code llama} (convert_hf_to_gguf.py
 * {@code LlamaModel.permute}, {@link QkRowPermutation#permute}): {@code W_gguf = P W_hf} for a row permutation
 * {@code P}. The update {@code B A} must land on the same rows: {@code P (B A) = (P B) A}, so B's rows are permuted
 * with the same heads (q: n_head, k: n_head_kv) and A is untouched. This applies exactly when the loaded weights use
 * the interleaved rope while the HF checkpoint uses rotate-half ({@link ModelConfig#ropeStyle()} NORMAL,
 * {@code hfRope} NEOX), i.e. GGUF llama; an HF llama directory is loaded unpermuted and qwen2/GLM are never permuted.
 *
 * <p>Fused tensors: a module that is itself fused in HF ({@code query_key_value}, {@code gate_up_proj},
 * {@code dense_h_to_4h}) maps onto the fused GGUF tensor whole. An update of {@code q_proj}/{@code k_proj}/{@code v_proj}
 * on a model whose file fuses them into {@code attn_qkv} (llama.cpp's chatglm files) lands on the q, k or v rows of it
 * ({@link LoraUpdate#rowOffset()}). Separate {@code gate_proj}/{@code up_proj} updates onto a fused gate|up tensor are
 * refused: no supported HF layout of a fused-MLP architecture has them.
 */
public final class LoraTargets {
    private LoraTargets() {
    }

    /** The HF name tables of the model's architecture row (one per HF layout). */
    static List<HfToGgufNames> tables(ModelConfig config) {
        List<HfToGgufNames> out = new ArrayList<>();
        for (String cls : config.architecture().hfClasses()) {
            HfToGgufNames t = HfToGgufNames.forArchitecture(cls);
            if (t != null) out.add(t);
        }
        return out;
    }

    /** Heads whose pairs llama.cpp interleaved in this GGUF tensor's rows, or 0 when its rows are in HF order. */
    public static int permutedHeads(ModelConfig config, String ggufTensor) {
        if (config.ropeStyle() != RopeStyle.NORMAL || config.architecture().hfRope() != RopeStyle.NEOX) return 0;
        if (ggufTensor.endsWith(".attn_q.weight")) return config.heads();
        if (ggufTensor.endsWith(".attn_k.weight")) return config.kvHeads();
        return 0;
    }

    /**
     * The updates per GGUF tensor name of the model (including {@code output.weight} when the output is tied to the
     * embedding), checked against the tensors' shapes.
     */
    public static Map<String, List<LoraUpdate>> resolve(PeftAdapter adapter, ModelConfig config, WeightSource weights, Path adapterDir) {
        List<HfToGgufNames> tables = tables(config);
        Map<String, List<LoraUpdate>> out = new LinkedHashMap<>();
        for (Map.Entry<String, PeftAdapter.Module> e : adapter.modules().entrySet()) {
            String module = e.getKey();
            PeftAdapter.Module m = e.getValue();
            String gguf = null;
            for (HfToGgufNames t : tables) {
                gguf = t.toGguf(module + ".weight");
                if (gguf != null) break;
            }
            if (gguf == null || !gguf.startsWith("blk.") && !gguf.equals(TensorRole.OUTPUT.tensorName())) {
                throw new ModelFormatException(adapterDir, "adapter module " + module + " has no projection in a "
                        + config.architecture().ggufName() + " model (HF layouts: "
                        + tables.stream().map(t -> t.architecture().hfClass()).toList() + ")");
            }
            float[] b = m.b();
            int heads = permutedHeads(config, gguf);
            if (heads > 0) {
                if (m.out() % (2 * heads) != 0) {
                    throw new ModelFormatException(adapterDir, "module " + module + ": lora_B has " + m.out() + " rows, not " + heads + " heads of pairs");
                }
                b = QkRowPermutation.permute(b, m.out(), m.rank(), heads);
            }
            String target = gguf;
            int offset = 0;
            long[] shape = shapeOf(weights, config, target);
            if (shape == null) {
                String fusedQkv = fusedQkvName(gguf);
                if (fusedQkv != null && weights.tensor(fusedQkv) != null) {
                    target = fusedQkv;
                    shape = weights.shape(fusedQkv);
                    offset = gguf.endsWith(".attn_q.weight") ? 0 : gguf.endsWith(".attn_k.weight") ? config.qDim() : config.qDim() + config.kvDim();
                } else {
                    throw new ModelFormatException(adapterDir, "adapter module " + module + " targets " + gguf + ", which this model does not have"
                            + (gguf.contains("ffn_gate") || gguf.contains("ffn_up") ? " (its gate and up are one fused tensor: train the adapter on the fused module)" : ""));
                }
            }
            long rows = shape.length > 1 ? shape[1] : 1;
            boolean remapped = !target.equals(gguf);
            boolean fits = shape.length == 2 && shape[0] == m.in() && (remapped ? offset + m.out() <= rows : m.out() == rows);
            if (!fits) {
                throw new ModelFormatException(adapterDir, "adapter module " + module + " is [" + m.out() + " x " + m.in() + "] but " + target
                        + " is [" + rows + " x " + shape[0] + "] (rows x inputs)" + (offset > 0 ? " from row " + offset : ""));
            }
            float scale = (float) adapter.config().scaleOf(module);
            out.computeIfAbsent(target, k -> new ArrayList<>()).add(new LoraUpdate(m.a(), b, m.rank(), m.in(), m.out(), scale, offset));
        }
        return out;
    }

    /** Shape of a model tensor (GGUF order), the embedding's for a tied output, or null when absent. */
    private static long[] shapeOf(WeightSource weights, ModelConfig config, String name) {
        if (weights.tensor(name) != null) return weights.shape(name);
        if (name.equals(TensorRole.OUTPUT.tensorName()) && config.tiedEmbeddings()) return weights.shape(TensorRole.TOKEN_EMBD.tensorName());
        return null;
    }

    private static String fusedQkvName(String gguf) {
        for (String part : new String[]{".attn_q.weight", ".attn_k.weight", ".attn_v.weight"}) {
            if (gguf.endsWith(part)) return gguf.substring(0, gguf.length() - part.length()) + ".attn_qkv.weight";
        }
        return null;
    }

    // ------------------------------------------------------------------------------------- GGUF -> PEFT

    /**
     * The adapter for updates given per GGUF tensor (rows in the loaded model's order, whole tensors): HF module names
     * from the first HF layout of the architecture that names every tensor, B's rows put back into HF order (the
     * inverse of the q/k permutation above). {@code scale} is not stored in the matrices: the config's alpha and r carry it.
     */
    public static PeftAdapter toPeft(Map<String, PeftAdapter.Module> byGgufTensor, ModelConfig config, LoraConfig loraConfig) {
        for (HfToGgufNames table : tables(config)) {
            Map<String, PeftAdapter.Module> modules = new LinkedHashMap<>();
            for (Map.Entry<String, PeftAdapter.Module> e : byGgufTensor.entrySet()) {
                String hf = table.toHf(e.getKey());
                if (hf == null || !hf.endsWith(".weight")) break;
                PeftAdapter.Module m = e.getValue();
                int heads = permutedHeads(config, e.getKey());
                float[] b = heads > 0 ? QkRowPermutation.unpermute(m.b(), m.out(), m.rank(), heads) : m.b();
                modules.put(hf.substring(0, hf.length() - ".weight".length()), new PeftAdapter.Module(m.a(), b, m.rank(), m.in(), m.out()));
            }
            if (modules.size() == byGgufTensor.size()) {
                List<String> targets = modules.keySet().stream().map(k -> k.substring(k.lastIndexOf('.') + 1)).distinct().sorted().toList();
                LoraConfig cfg = new LoraConfig(loraConfig.r(), loraConfig.loraAlpha(), targets, loraConfig.loraDropout(), loraConfig.bias(),
                        false, loraConfig.useRslora(), false, loraConfig.baseModelNameOrPath(), loraConfig.taskType(), "LORA",
                        loraConfig.rankPattern(), loraConfig.alphaPattern(), List.of());
                return new PeftAdapter(cfg, modules);
            }
        }
        throw new IllegalArgumentException("no HF layout of " + config.architecture().ggufName() + " names all of " + byGgufTensor.keySet());
    }
}
