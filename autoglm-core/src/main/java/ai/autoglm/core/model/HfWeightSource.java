package ai.autoglm.core.model;

import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.model.HfRopeParameters;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.tensor.FloatTensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face checkpoint seen under GGUF tensor names and GGUF shape order, so the model code knows one naming.
 * Tensors are the checkpoint's memory-mapped views (zero copy); HF tensors without a row in {@link HfToGgufNames}
 * (e.g. {@code rotary_emb.inv_freq}) are not listed.
 *
 * <p>Unlike llama.cpp's converter, Q and K of {@code llama} are NOT permuted here (permuting would need a copy): HF
 * checkpoints keep the rotate-half (NEOX) pair layout, so the model code must use NEOX-style RoPE for llama weights
 * that come from this source, and the interleaved ("normal") style only for GGUF llama files, whose converter permuted
 * the rows (convert_hf_to_gguf.py LlamaModel.permute). Qwen2 is NEOX in both.
 *
 * <p>For a config with Llama 3.1 RoPE scaling ({@code rope_type: "llama3"}), {@code rope_freqs.weight} is provided as a
 * computed F32 tensor, as in a converted GGUF ({@link HfRopeParameters#llama3Factors}).
 */
public final class HfWeightSource implements WeightSource {
    private final HfCheckpoint checkpoint;
    private final HfToGgufNames naming;
    private final Map<String, String> ggufToHf;
    private final float[] ropeFreqs;

    public HfWeightSource(HfCheckpoint checkpoint, HfToGgufNames naming) {
        this.checkpoint = checkpoint;
        this.naming = naming;
        Map<String, String> map = new LinkedHashMap<>();
        this.ropeFreqs = HfRopeParameters.llama3Factors(checkpoint.config());
        if (ropeFreqs != null) map.put(TensorRole.ROPE_FREQS.tensorName(), null);
        for (String hf : checkpoint.tensorNames()) {
            String gguf = naming.toGguf(hf);
            if (gguf != null) map.put(gguf, hf);
        }
        this.ggufToHf = Collections.unmodifiableMap(map);
    }

    /** Opens the checkpoint in {@code dir} and picks the name table from its config.json. */
    public static HfWeightSource open(Path dir) {
        HfCheckpoint ck = HfCheckpoint.open(dir);
        try {
            return new HfWeightSource(ck, HfToGgufNames.forConfig(dir.resolve(HfCheckpoint.CONFIG), ck.config()));
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    public HfCheckpoint checkpoint() {
        return checkpoint;
    }

    public HfToGgufNames naming() {
        return naming;
    }

    /** The HF name behind a GGUF name, or null (also for computed tensors). */
    public String hfName(String ggufName) {
        return ggufToHf.get(ggufName);
    }

    @Override
    public Set<String> names() {
        return ggufToHf.keySet();
    }

    @Override
    public FloatTensor tensor(String name) {
        if (!ggufToHf.containsKey(name)) return null;
        String hf = ggufToHf.get(name);
        if (hf == null) return new ArrayFloatTensor(ropeFreqs.clone());
        return checkpoint.tensor(hf);
    }

    /** GGUF order: the HF shape reversed, so {@code shape[0]} is the row length. */
    @Override
    public long[] shape(String name) {
        if (!ggufToHf.containsKey(name)) return null;
        String hf = ggufToHf.get(name);
        if (hf == null) return new long[]{ropeFreqs.length};
        long[] s = checkpoint.shape(hf);
        long[] r = new long[s.length];
        for (int i = 0; i < s.length; i++) r[i] = s[s.length - 1 - i];
        return r;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
