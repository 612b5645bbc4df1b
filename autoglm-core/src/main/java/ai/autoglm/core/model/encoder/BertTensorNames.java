package ai.autoglm.core.model.encoder;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BERT tensor names: the Hugging Face {@code BertModel} module names (transformers modeling_bert.py) and the GGUF
 * names llama.cpp gives them ({@code MODEL_ARCH.BERT} in gguf-py constants.py; the HF sources are the BERT rows of
 * gguf-py tensor_mapping.py). The encoder reads weights by GGUF name only; this table is how the HF and ONNX
 * readers rename theirs.
 *
 * <p>HF names may carry a {@code bert.} prefix (BertForMaskedLM and friends save the encoder under it), which
 * convert_hf_to_gguf.py's BertModel strips too. Parameters outside this table (pooler, position_ids buffer, heads)
 * are not used for embeddings.
 */
public final class BertTensorNames {
    public static final String TOKEN_EMBD = "token_embd.weight";
    public static final String TOKEN_TYPES = "token_types.weight";
    public static final String POSITION_EMBD = "position_embd.weight";
    public static final String TOKEN_EMBD_NORM = "token_embd_norm";

    /** Per-block GGUF base names ({@code %d} = layer). */
    public static final String ATTN_Q = "blk.%d.attn_q";
    public static final String ATTN_K = "blk.%d.attn_k";
    public static final String ATTN_V = "blk.%d.attn_v";
    public static final String ATTN_OUT = "blk.%d.attn_output";
    public static final String ATTN_OUT_NORM = "blk.%d.attn_output_norm";
    public static final String FFN_UP = "blk.%d.ffn_up";
    public static final String FFN_DOWN = "blk.%d.ffn_down";
    public static final String LAYER_OUT_NORM = "blk.%d.layer_output_norm";

    private static final Map<String, String> GLOBAL = Map.of(
            "embeddings.word_embeddings", "token_embd",
            "embeddings.token_type_embeddings", "token_types",
            "embeddings.position_embeddings", "position_embd",
            "embeddings.LayerNorm", "token_embd_norm");

    private static final Map<String, String> BLOCK = new LinkedHashMap<>();

    static {
        BLOCK.put("attention.self.query", ATTN_Q);
        BLOCK.put("attention.self.key", ATTN_K);
        BLOCK.put("attention.self.value", ATTN_V);
        BLOCK.put("attention.output.dense", ATTN_OUT);
        BLOCK.put("attention.output.LayerNorm", ATTN_OUT_NORM);
        BLOCK.put("intermediate.dense", FFN_UP);
        BLOCK.put("output.dense", FFN_DOWN);
        BLOCK.put("output.LayerNorm", LAYER_OUT_NORM);
    }

    private static final Pattern BLOCK_NAME = Pattern.compile("encoder\\.layer\\.(0|[1-9][0-9]{0,4})\\.(.+)");

    private BertTensorNames() {
    }

    /** The GGUF name of a HF BERT parameter, or null when it is not one the encoder uses. */
    public static String toGguf(String hfName) {
        String name = hfName.startsWith("bert.") ? hfName.substring(5) : hfName;
        String suffix;
        if (name.endsWith(".weight")) suffix = ".weight";
        else if (name.endsWith(".bias")) suffix = ".bias";
        else if (name.endsWith(".gamma")) suffix = ".weight"; // old TF-converted LayerNorms (convert_hf_to_gguf.py)
        else if (name.endsWith(".beta")) suffix = ".bias";
        else return null;
        String base = name.substring(0, name.lastIndexOf('.'));
        String global = GLOBAL.get(base);
        if (global != null) return global + suffix;
        Matcher m = BLOCK_NAME.matcher(base);
        if (!m.matches()) return null;
        String block = BLOCK.get(m.group(2));
        return block == null ? null : block.formatted(Integer.parseInt(m.group(1))) + suffix;
    }

    /** {@code template} for layer {@code layer} with {@code suffix}, e.g. {@code blk.3.attn_q.weight}. */
    public static String block(String template, int layer, String suffix) {
        return template.formatted(layer) + suffix;
    }
}
