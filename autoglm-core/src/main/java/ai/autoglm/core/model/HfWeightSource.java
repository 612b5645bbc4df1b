package ai.autoglm.core.model;

import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.model.HfRopeParameters;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.StackedTensor;
import ai.autoglm.core.format.ModelFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 *
 * <p>Per-expert tensors ({@code mlp.experts.{xid}.gate_proj.weight}) appear as the stacked 3-D tensor llama.cpp's
 * converter writes ({@code blk.N.ffn_gate_exps.weight}, shape {@code [dim, expertFfn, experts]}), a
 * {@link StackedTensor} over the mapped parts; {@link #expert} hands out each expert's own mapped tensor.
 */
public final class HfWeightSource implements WeightSource {
    private final HfCheckpoint checkpoint;
    private final HfToGgufNames naming;
    private final Map<String, String> ggufToHf;
    private final float[] ropeFreqs;
    /** Stacked expert tensors: the HF name of each expert, by expert id. */
    private final Map<String, List<String>> stacked;

    public HfWeightSource(HfCheckpoint checkpoint, HfToGgufNames naming) {
        this.checkpoint = checkpoint;
        this.naming = naming;
        Map<String, String> map = new LinkedHashMap<>();
        this.ropeFreqs = HfRopeParameters.llama3Factors(checkpoint.config());
        if (ropeFreqs != null) map.put(TensorRole.ROPE_FREQS.tensorName(), null);
        Map<String, TreeMap<Integer, String>> experts = new LinkedHashMap<>();
        for (String hf : checkpoint.tensorNames()) {
            String gguf = naming.toGguf(hf);
            if (gguf != null) {
                map.put(gguf, hf);
                continue;
            }
            HfToGgufNames.ExpertTensor e = naming.expertTensor(hf);
            if (e != null) experts.computeIfAbsent(e.ggufName(), k -> new TreeMap<>()).put(e.expert(), hf);
        }
        Map<String, List<String>> st = new LinkedHashMap<>();
        for (Map.Entry<String, TreeMap<Integer, String>> e : experts.entrySet()) {
            TreeMap<Integer, String> byId = e.getValue();
            if (byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
                throw new ModelFormatException(checkpoint.fileOf(byId.firstEntry().getValue()), "experts of " + e.getKey()
                        + " are not numbered 0.." + (byId.size() - 1) + ": " + byId.keySet());
            }
            st.put(e.getKey(), List.copyOf(byId.values()));
            map.put(e.getKey(), null);
        }
        this.stacked = Collections.unmodifiableMap(st);
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
        List<String> parts = stacked.get(name);
        if (parts != null) {
            List<FloatTensor> ts = new ArrayList<>(parts.size());
            for (String p : parts) ts.add(checkpoint.tensor(p));
            return new StackedTensor(ts);
        }
        String hf = ggufToHf.get(name);
        if (hf == null) return new ArrayFloatTensor(ropeFreqs.clone());
        return checkpoint.tensor(hf);
    }

    /** The checkpoint's own mapped tensor of that expert (zero copy). */
    @Override
    public FloatTensor expert(String name, int expert) {
        List<String> parts = stacked.get(name);
        if (parts == null) return WeightSource.super.expert(name, expert);
        if (expert < 0 || expert >= parts.size()) throw new IndexOutOfBoundsException("expert " + expert + " of " + parts.size() + " in " + name);
        return checkpoint.tensor(parts.get(expert));
    }

    /** The HF names of the experts of stacked tensor {@code name}, by expert id, or null. */
    public List<String> expertHfNames(String name) {
        return stacked.get(name);
    }

    /** GGUF order: the HF shape reversed, so {@code shape[0]} is the row length. */
    @Override
    public long[] shape(String name) {
        if (!ggufToHf.containsKey(name)) return null;
        List<String> parts = stacked.get(name);
        if (parts != null) {
            long[] one = checkpoint.shape(parts.getFirst());
            if (one.length != 2) throw new ModelFormatException(checkpoint.fileOf(parts.getFirst()), "expert tensor " + parts.getFirst() + " is not 2-D");
            for (String p : parts) {
                if (!java.util.Arrays.equals(checkpoint.shape(p), one)) {
                    throw new ModelFormatException(checkpoint.fileOf(p), "expert tensor " + p + " has shape " + java.util.Arrays.toString(checkpoint.shape(p))
                            + ", expert 0 has " + java.util.Arrays.toString(one));
                }
            }
            return new long[]{one[1], one[0], parts.size()};
        }
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
