package ai.autoglm.train;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.safetensors.SafetensorsFile;
import ai.autoglm.core.format.safetensors.SafetensorsTensorInfo;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.RopeStyle;
import ai.autoglm.core.tensor.FloatTensor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The complete state of a pretraining run in one safetensors file, written atomically (SafetensorsWriter goes
 * through AtomicFiles): every parameter ({@code param.NAME}) and its AdamW moments ({@code adam_m.NAME},
 * {@code adam_v.NAME}) in F32, and in {@code __metadata__} the step, the batch generator's state (which is the
 * position in the data: windows are drawn from it), the model configuration and the training options. All
 * floats go through exact representations (F32 tensors, {@code Float/Double.toString}), so a resumed run is
 * bit-identical to an uninterrupted one.
 */
public final class TrainingCheckpoint {
    static final String FORMAT = "autoglm-train-checkpoint/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingCheckpoint() {
    }

    public static void save(Pretrainer run, Path file) {
        SafetensorsWriter w = new SafetensorsWriter();
        TrainableTransformer model = run.model();
        AdamW opt = run.optimizer();
        for (Parameter p : model.parameters().all()) {
            long[] shape = hfOrder(p.shape());
            w.add("param." + p.name(), shape, "F32", p.value());
            w.add("adam_m." + p.name(), shape, "F32", opt.firstMoment(p.name()));
            w.add("adam_v." + p.name(), shape, "F32", opt.secondMoment(p.name()));
        }
        w.putMetadata("format", FORMAT);
        w.putMetadata("step", Long.toString(opt.step()));
        w.putMetadata("data_rng_state", Long.toString(run.dataRng().state()));
        w.putMetadata("config", configJson(model.config()).put("fused_qkv", model.fusedQkv()).toString());
        w.putMetadata("options", optionsJson(run.options()).toString());
        w.putMetadata("train_tokens", Long.toString(run.data().train().length));
        w.putMetadata("train_tokens_hash", Integer.toString(java.util.Arrays.hashCode(run.data().train())));
        w.write(file);
    }

    /** Restores a run saved by {@link #save} over {@code data} (the same tokens it was trained on). */
    public static Pretrainer resume(Path file, TokenDataset data) {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, String> md = st.metadata();
            if (!FORMAT.equals(md.get("format"))) {
                throw new ModelFormatException(file, "not a training checkpoint (metadata format is " + md.get("format") + ", expected " + FORMAT + ")");
            }
            if (!Integer.toString(data.train().length).equals(md.get("train_tokens"))
                    || !Integer.toString(java.util.Arrays.hashCode(data.train())).equals(md.get("train_tokens_hash"))) {
                throw new IllegalArgumentException(file + ": the corpus (or tokenizer) differs from the one this checkpoint was trained on ("
                        + data.train().length + " training tokens now, " + md.get("train_tokens") + " then); resuming needs the same data");
            }
            JsonNode configNode = json(file, md, "config");
            ModelConfig config = parseConfig(file, configNode);
            TrainingOptions options = parseOptions(file, json(file, md, "options"));
            if (configNode.path("fused_qkv").asBoolean(false) && !config.architecture().fusedQkv()) {
                throw new ModelFormatException(file, "fused_qkv is set but " + config.architecture() + " has no fused q|k|v");
            }
            TrainableTransformer model = new TrainableTransformer(config, configNode.path("fused_qkv").asBoolean(false));
            Pretrainer run = new Pretrainer(model, data, options, new SplitMix64(parseLong(file, md, "data_rng_state")));
            for (Parameter p : model.parameters().all()) {
                read(st, file, "param." + p.name(), p.shape(), p.value());
                read(st, file, "adam_m." + p.name(), p.shape(), run.optimizer().firstMoment(p.name()));
                read(st, file, "adam_v." + p.name(), p.shape(), run.optimizer().secondMoment(p.name()));
            }
            run.optimizer().restore(parseLong(file, md, "step"));
            return run;
        }
    }

    private static void read(SafetensorsFile st, Path file, String name, long[] ggufShape, float[] into) {
        SafetensorsTensorInfo info = st.info(name);
        if (info == null) throw new ModelFormatException(file, "missing tensor " + name);
        if (!"F32".equals(info.dtype()) || !Arrays.equals(info.shape(), hfOrder(ggufShape))) {
            throw new ModelFormatException(file, "tensor " + name + " is " + info.dtype() + " " + Arrays.toString(info.shape())
                    + ", expected F32 " + Arrays.toString(hfOrder(ggufShape)));
        }
        FloatTensor t = st.tensor(name);
        t.copyTo(0, into, 0, into.length);
    }

    /** GGUF shape order (row length first) to the safetensors/HF order (row length last). */
    static long[] hfOrder(long[] ggufShape) {
        long[] s = new long[ggufShape.length];
        for (int i = 0; i < s.length; i++) s[i] = ggufShape[s.length - 1 - i];
        return s;
    }

    // ------------------------------------------------------------------------------------------ metadata

    static ObjectNode configJson(ModelConfig c) {
        if (c.ropeScaling() != null) throw new IllegalArgumentException("training with rope scaling is not supported");
        ObjectNode o = JSON.createObjectNode();
        o.put("architecture", c.architecture().ggufName());
        o.put("dim", c.dim());
        o.put("layers", c.layers());
        o.put("heads", c.heads());
        o.put("kv_heads", c.kvHeads());
        o.put("head_dim", c.headDim());
        o.put("ffn", c.ffnDim());
        o.put("vocab", c.vocabSize());
        o.put("context", c.contextLength());
        o.put("rms_eps", Float.toString(c.rmsEps()));
        o.put("rope_theta", Double.toString(c.ropeTheta()));
        o.put("rope_style", c.ropeStyle().name());
        o.put("rotary_dim", c.rotaryDim());
        o.put("tied_embeddings", c.tiedEmbeddings());
        o.put("qkv_bias", c.qkvBias());
        return o;
    }

    static ModelConfig parseConfig(Path file, JsonNode o) {
        try {
            Architecture arch = Architecture.byGgufName(o.path("architecture").asText());
            if (arch == null) throw new ModelFormatException(file, "unknown architecture '" + o.path("architecture").asText() + "' in the checkpoint");
            return new ModelConfig(arch, req(o, "dim").asInt(), req(o, "layers").asInt(), req(o, "heads").asInt(),
                    req(o, "kv_heads").asInt(), req(o, "head_dim").asInt(), req(o, "ffn").asInt(), req(o, "vocab").asInt(),
                    req(o, "context").asInt(), Float.parseFloat(req(o, "rms_eps").asText()), Double.parseDouble(req(o, "rope_theta").asText()),
                    RopeStyle.valueOf(req(o, "rope_style").asText()), req(o, "rotary_dim").asInt(), null,
                    req(o, "tied_embeddings").asBoolean(), req(o, "qkv_bias").asBoolean()).validate(file);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "bad model configuration in the checkpoint: " + e.getMessage(), e);
        }
    }

    static ObjectNode optionsJson(TrainingOptions t) {
        ObjectNode o = JSON.createObjectNode();
        o.put("steps", t.steps());
        o.put("batch", t.batch());
        o.put("seq_len", t.seqLen());
        o.put("max_lr", Double.toString(t.maxLr()));
        o.put("min_lr", Double.toString(t.minLr()));
        o.put("warmup_steps", t.warmupSteps());
        o.put("weight_decay", Double.toString(t.weightDecay()));
        o.put("beta1", Double.toString(t.beta1()));
        o.put("beta2", Double.toString(t.beta2()));
        o.put("adam_eps", Double.toString(t.adamEps()));
        o.put("grad_clip", Double.toString(t.gradClip()));
        o.put("seed", t.seed());
        return o;
    }

    static TrainingOptions parseOptions(Path file, JsonNode o) {
        try {
            return new TrainingOptions(req(o, "steps").asInt(), req(o, "batch").asInt(), req(o, "seq_len").asInt(),
                    d(o, "max_lr"), d(o, "min_lr"), req(o, "warmup_steps").asInt(), d(o, "weight_decay"), d(o, "beta1"),
                    d(o, "beta2"), d(o, "adam_eps"), d(o, "grad_clip"), req(o, "seed").asLong());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "bad training options in the checkpoint: " + e.getMessage(), e);
        }
    }

    private static double d(JsonNode o, String key) {
        return Double.parseDouble(req(o, key).asText());
    }

    private static JsonNode req(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing " + key);
        return v;
    }

    private static JsonNode json(Path file, Map<String, String> md, String key) {
        String s = md.get(key);
        if (s == null) throw new ModelFormatException(file, "checkpoint metadata has no " + key);
        try {
            return JSON.readTree(s);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "checkpoint metadata " + key + " is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static long parseLong(Path file, Map<String, String> md, String key) {
        try {
            return Long.parseLong(md.getOrDefault(key, ""));
        } catch (NumberFormatException e) {
            throw new ModelFormatException(file, "checkpoint metadata " + key + " is not an integer: " + md.get(key));
        }
    }
}
