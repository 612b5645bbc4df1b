package ai.autoglm.train;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.HfToGgufNames;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.HfConfigKeys;
import ai.autoglm.core.model.HfLayout;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.tensor.GgmlType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a trained model the way transformers' {@code save_pretrained} lays it out (config.json,
 * model.safetensors in F32 under the HF tensor names of {@link HfToGgufNames}, the tokenizer files), so
 * {@code ModelLoader} and other tools read it; and a GGUF next to it through {@link HfToGgufConverter}, i.e.
 * exactly what {@code autoglm convert} (and llama.cpp's convert_hf_to_gguf.py) makes of that directory.
 *
 * <p>The parameters are trained in the HF layout of the architecture ({@link Architecture#hfRope()}: e.g.
 * rotate-half q/k rows for Llama), so the safetensors are the parameters as they are; the converter applies the
 * GGUF-side permutations.
 */
public final class ModelExport {
    /** Tokenizer files copied from the tokenizer directory when present. */
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
            "special_tokens_map.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelExport() {
    }

    /** Writes {@code outDir} (created if needed) as an HF model directory with the tokenizer from {@code tokenizerDir}. */
    public static void writeHfDirectory(TrainableTransformer model, Path tokenizerDir, Path outDir) {
        ModelConfig c = model.config();
        Architecture arch = c.architecture();
        if (c.ropeStyle() != arch.hfRope()) {
            throw new IllegalArgumentException("the model was trained with " + c.ropeStyle() + " rope pairs, the HF layout of "
                    + arch + " is " + arch.hfRope());
        }
        String hfClass = hfClass(model);
        HfToGgufNames names = HfToGgufNames.forArchitecture(hfClass);
        try {
            Files.createDirectories(outDir);
            SafetensorsWriter st = new SafetensorsWriter();
            for (Parameter p : model.parameters().all()) {
                String hf = names.toHf(p.name());
                if (hf == null) throw new IllegalArgumentException("no HF name for " + p.name() + " in " + hfClass);
                st.add(hf, TrainingCheckpoint.hfOrder(p.shape()), "F32", p.value());
            }
            st.putMetadata("format", "pt"); // what transformers' save_pretrained writes
            st.write(outDir.resolve("model.safetensors"));
            writeJson(outDir.resolve("config.json"), hfConfig(c, hfClass));
            for (String f : TOKENIZER_FILES) {
                Path src = tokenizerDir.resolve(f);
                if (Files.isRegularFile(src) && !src.toAbsolutePath().normalize().equals(outDir.resolve(f).toAbsolutePath().normalize())) {
                    AtomicWrites.writeBytes(outDir.resolve(f), Files.readAllBytes(src));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + outDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The HF class to write: the first of the architecture row's layouts with a transformers-native config (not
     * {@link HfConfigKeys#remoteCode()}: the remote-code ChatGLMModel's config has keys of its own) whose tensor-name
     * table names every parameter, e.g. GlmForCausalLM for a chatglm model with split q/k/v.
     */
    static String hfClass(TrainableTransformer model) {
        Architecture arch = model.config().architecture();
        for (HfLayout layout : arch.hfLayouts()) {
            HfToGgufNames names = HfToGgufNames.forArchitecture(layout.hfClass());
            if (names == null || layout.config().remoteCode()) continue;
            if (model.parameters().all().stream().allMatch(p -> names.toHf(p.name()) != null)) return layout.hfClass();
        }
        throw new IllegalArgumentException("no Hugging Face layout of " + arch + " holds these parameters"
                + (model.fusedQkv() ? " (fused q|k|v: train with split q/k/v)" : ""));
    }

    /** Converts the HF directory written by {@link #writeHfDirectory} to an F32 GGUF file. */
    public static void writeGguf(Path hfDir, Path gguf) {
        HfToGgufConverter.convert(hfDir, gguf, GgmlType.F32);
    }

    /**
     * config.json with the keys {@code ModelConfig.fromHfConfig} and the converter read: the layout's
     * {@link HfConfigKeys} (the first name of each; transformers' configuration_llama.py / configuration_glm4.py names
     * for the built-in rows), {@code model_type} from the layout, and the keys every transformers config shares;
     * {@code partial_rotary_factor} always, since GLM configs default it to 0.5.
     */
    static ObjectNode hfConfig(ModelConfig c, String hfClass) {
        HfLayout layout = Architecture.layoutOf(hfClass);
        if (layout == null) throw new IllegalArgumentException("no architecture row has the HF class " + hfClass);
        HfConfigKeys k = layout.config();
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(hfClass);
        o.put("model_type", layout.modelType());
        o.put("hidden_size", c.dim());
        o.put(k.layers().names().getFirst(), c.layers());
        o.put("num_attention_heads", c.heads());
        o.put(k.kvHeads().names().getFirst(), c.kvHeads());
        o.put(k.headDim().names().getFirst(), c.headDim());
        o.put(k.ffn().names().getFirst(), c.ffnDim());
        o.put(k.context().names().getFirst(), c.contextLength());
        o.put(k.rmsEps().names().getFirst(), c.rmsEps());
        o.put("rope_theta", c.ropeTheta());
        o.put("partial_rotary_factor", (double) c.rotaryDim() / c.headDim()); // explicit: GLM configs default to 0.5
        o.put(k.vocab().names().getFirst(), c.vocabSize());
        o.put("tie_word_embeddings", c.tiedEmbeddings());
        o.put(k.qkvBias().names().getFirst(), c.qkvBias());
        o.put("hidden_act", "silu");
        o.put("torch_dtype", "float32");
        return o;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        AtomicWrites.writeBytes(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
    }

}
