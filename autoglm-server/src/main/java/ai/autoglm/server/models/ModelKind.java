package ai.autoglm.server.models;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.hf.HfCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a model file can do: generate text (chat and completions) or embed it. Read from the file's own description
 * at start-up, so that a request for the wrong kind is refused without loading the model: ONNX files and the jars
 * that carry them ({@code langchain4j-embeddings-*}) are encoders; a Hugging Face directory whose config.json says
 * {@code model_type: "bert"}, or a GGUF whose {@code general.architecture} is {@code bert} (llama.cpp's name for
 * BERT-family embedding models), is an encoder; everything else is a decoder for {@code ModelLoader}.
 */
public enum ModelKind {
    GENERATIVE, EMBEDDING;

    public static ModelKind detect(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (Files.isDirectory(path)) {
            Path config = path.resolve("config.json");
            if (!Files.isRegularFile(config)) return GENERATIVE; // ModelLoader names what is missing
            return "bert".equals(HfCheckpoint.readJson(config).path("model_type").asText()) ? EMBEDDING : GENERATIVE;
        }
        if (name.endsWith(".onnx") || name.endsWith(".jar") || name.endsWith(".zip")) return EMBEDDING;
        if (name.endsWith(".gguf")) {
            try (GgufFile gguf = GgufFile.open(path)) {
                return "bert".equals(gguf.getString("general.architecture", "")) ? EMBEDDING : GENERATIVE;
            } catch (ModelFormatException e) {
                return GENERATIVE; // the loader reports the broken file on first use, as for any model
            }
        }
        return GENERATIVE;
    }
}
