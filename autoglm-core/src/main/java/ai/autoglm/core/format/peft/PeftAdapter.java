package ai.autoglm.core.format.peft;

import ai.autoglm.core.format.AtomicFiles;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.safetensors.SafetensorsFile;
import ai.autoglm.core.format.safetensors.SafetensorsTensorInfo;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.tensor.FloatTensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A LoRA adapter in PEFT's on-disk format: a directory with {@code adapter_config.json} ({@link LoraConfig}) and
 * {@code adapter_model.safetensors}. peft {@code utils/save_and_load.py get_peft_model_state_dict} saves the
 * {@code lora_} entries of the PeftModel's state dict with the adapter name removed, so a module's tensors are
 * {@code base_model.model.<module>.lora_A.weight} ({@code [r, in_features]}, an {@code nn.Linear(in, r)}) and
 * {@code ...lora_B.weight} ({@code [out_features, r]}) (peft {@code tuners/lora/layer.py LoraLayer.update_layer}),
 * where {@code <module>} is the transformers module path, e.g. {@code model.layers.0.self_attn.q_proj}.
 *
 * <p>Modules are kept here by that HF module path; {@link LoraTargets} maps them onto a loaded model's GGUF tensors.
 */
public record PeftAdapter(LoraConfig config, Map<String, Module> modules) {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** peft PeftModel wraps the transformers model as {@code base_model} (LoraModel), which holds it as {@code model}. */
    public static final String KEY_PREFIX = "base_model.model.";
    /** Largest A or B we read into the heap (the biggest real adapters have matrices far below this). */
    private static final long MAX_ELEMENTS = 1L << 28;

    /** One adapted module: {@code A} is {@code rank x in}, {@code B} is {@code out x rank}, row-major F32. */
    public record Module(float[] a, float[] b, int rank, int in, int out) {
        public Module {
            if ((long) rank * in != a.length || (long) out * rank != b.length) {
                throw new IllegalArgumentException("A/B sizes do not match rank " + rank + ", in " + in + ", out " + out);
            }
        }
    }

    public PeftAdapter {
        modules = Collections.unmodifiableMap(new TreeMap<>(modules));
    }

    // ----------------------------------------------------------------------------------------------- read

    /** Reads the adapter directory; every unsupported feature is one error naming the file and what was found. */
    public static PeftAdapter read(Path dir) {
        if (!Files.isDirectory(dir)) throw new ModelFormatException(dir, "not a directory (a PEFT adapter is a directory with " + LoraConfig.FILE_NAME + " and " + WEIGHTS_FILE + ")");
        Path cfgFile = dir.resolve(LoraConfig.FILE_NAME);
        if (!Files.isRegularFile(cfgFile)) throw new ModelFormatException(dir, "has no " + LoraConfig.FILE_NAME);
        LoraConfig cfg;
        try {
            if (Files.size(cfgFile) > (1 << 20)) throw new ModelFormatException(cfgFile, "implausibly large for an adapter config");
            JsonNode root = new ObjectMapper().readTree(ai.autoglm.core.format.LoadedFiles.readAllBytes(cfgFile));
            cfg = LoraConfig.parse(cfgFile, root);
        } catch (IOException e) {
            throw new ModelFormatException(cfgFile, "not valid JSON: " + e.getMessage(), e);
        }
        if (cfg.useDora()) throw new ModelFormatException(cfgFile, "use_dora is true: DoRA adapters are not supported (plain LoRA only)");
        if (cfg.fanInFanOut()) {
            throw new ModelFormatException(cfgFile, "fan_in_fan_out is true (a GPT-2 Conv1D base); the supported models store Linear weights as [out, in]");
        }
        if (!cfg.modulesToSave().isEmpty()) {
            throw new ModelFormatException(cfgFile, "modules_to_save " + cfg.modulesToSave() + " holds whole trained modules; only LoRA matrices are supported");
        }
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            String hint = Files.exists(dir.resolve("adapter_model.bin"))
                    ? " (only adapter_model.bin, a PyTorch pickle, is there: save with safe_serialization=True)" : "";
            throw new ModelFormatException(dir, "has no " + WEIGHTS_FILE + hint);
        }
        Map<String, float[]> as = new LinkedHashMap<>(), bs = new LinkedHashMap<>();
        Map<String, long[]> aShapes = new LinkedHashMap<>(), bShapes = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(weights)) {
            for (SafetensorsTensorInfo info : st.tensors().values()) {
                String key = info.name();
                String name = key.startsWith(KEY_PREFIX) ? key.substring(KEY_PREFIX.length()) : key;
                boolean isA;
                int at;
                if ((at = loraKey(name, "lora_A")) >= 0) isA = true;
                else if ((at = loraKey(name, "lora_B")) >= 0) isA = false;
                else if (name.contains("lora_embedding_")) throw new ModelFormatException(weights, "tensor " + key + ": LoRA on embeddings is not supported");
                else if (name.contains("lora_magnitude_vector")) throw new ModelFormatException(weights, "tensor " + key + ": DoRA magnitudes are not supported");
                else if (name.endsWith(".bias")) throw new ModelFormatException(weights, "tensor " + key + ": trained biases (bias=\"" + cfg.bias() + "\") are not supported");
                else throw new ModelFormatException(weights, "tensor " + key + " is not a LoRA matrix (expected <module>.lora_A.weight / lora_B.weight)");
                String module = name.substring(0, at);
                long[] shape = info.shape();
                if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
                    throw new ModelFormatException(weights, "tensor " + key + " has shape " + Arrays.toString(shape) + ", expected 2 dimensions");
                }
                if (info.elements() > MAX_ELEMENTS) throw new ModelFormatException(weights, "tensor " + key + " is implausibly large (" + info.elements() + " values)");
                FloatTensor t = st.tensor(key);
                float[] v = new float[(int) info.elements()];
                t.copyTo(0, v, 0, v.length);
                if ((isA ? as : bs).put(module, v) != null) throw new ModelFormatException(weights, "module " + module + " has two " + (isA ? "lora_A" : "lora_B") + " tensors");
                (isA ? aShapes : bShapes).put(module, shape);
            }
        }
        Map<String, Module> modules = new LinkedHashMap<>();
        for (String module : as.keySet()) {
            if (!bs.containsKey(module)) throw new ModelFormatException(weights, "module " + module + " has lora_A but no lora_B");
            long[] sa = aShapes.get(module), sb = bShapes.get(module);
            int rank = (int) sa[0];
            if (sb[1] != rank) {
                throw new ModelFormatException(weights, "module " + module + ": lora_A is " + Arrays.toString(sa) + " but lora_B is "
                        + Arrays.toString(sb) + " (expected [out, " + rank + "])");
            }
            if (rank != cfg.rankOf(module)) {
                throw new ModelFormatException(weights, "module " + module + " has rank " + rank + " but " + LoraConfig.FILE_NAME + " says r = " + cfg.rankOf(module));
            }
            modules.put(module, new Module(as.get(module), bs.get(module), rank, (int) sa[1], (int) sb[0]));
        }
        for (String module : bs.keySet()) {
            if (!as.containsKey(module)) throw new ModelFormatException(weights, "module " + module + " has lora_B but no lora_A");
        }
        if (modules.isEmpty()) throw new ModelFormatException(weights, "holds no LoRA matrices");
        return new PeftAdapter(cfg, modules);
    }

    /**
     * Where {@code .kind.weight} (or {@code .kind.<adapter name>.weight}, as a state dict that kept the adapter name
     * has it) starts in {@code name}, or -1.
     */
    private static int loraKey(String name, String kind) {
        String mark = "." + kind + ".";
        int at = name.lastIndexOf(mark);
        if (at <= 0 || !name.endsWith(".weight")) return -1;
        String rest = name.substring(at + mark.length());
        return rest.equals("weight") || (rest.indexOf('.') == rest.length() - ".weight".length() && rest.length() > ".weight".length()) ? at : -1;
    }

    // ---------------------------------------------------------------------------------------------- write

    /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} (F32) into {@code dir}, each atomically. */
    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        SafetensorsWriter w = new SafetensorsWriter();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            Module m = e.getValue();
            w.add(KEY_PREFIX + e.getKey() + ".lora_A.weight", new long[]{m.rank(), m.in()}, "F32", m.a());
            w.add(KEY_PREFIX + e.getKey() + ".lora_B.weight", new long[]{m.out(), m.rank()}, "F32", m.b());
        }
        w.putMetadata("format", "pt"); // safetensors.torch.save_file writes it; peft's loader expects a pt file
        w.write(dir.resolve(WEIGHTS_FILE));
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        byte[] json;
        try {
            json = (mapper.writeValueAsString(config.toJson(mapper)) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.write(dir.resolve(LoraConfig.FILE_NAME), ch -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(json);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }
}
