package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;

import java.nio.file.Path;
import java.util.Map;

/** Loads the tokenizer that belongs to a model, from either of the two places models keep it. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * From a Hugging Face model directory: {@code tokenizer.json} (required) and {@code tokenizer_config.json}
     * (bos/eos token strings and add_bos_token; optional).
     *
     * @throws ModelFormatException naming the file and the problem for missing, corrupt or unsupported files
     */
    public static Tokenizer fromHfDirectory(Path dir) {
        return HfTokenizerLoader.load(dir);
    }

    /** From one {@code tokenizer.json} file, whatever its name (no tokenizer_config.json is read). */
    public static Tokenizer fromTokenizerJson(Path tokenizerJson) {
        return HfTokenizerLoader.loadFile(tokenizerJson);
    }

    /** From {@code tokenizer.json} content in memory (e.g. a jar entry); {@code name} appears in error messages. */
    public static Tokenizer fromTokenizerJson(Path name, byte[] json) {
        return HfTokenizerLoader.loadBytes(name, json);
    }

    /**
     * From GGUF metadata ({@code tokenizer.ggml.*}).
     *
     * @throws ModelFormatException for missing, mistyped or unsupported metadata
     */
    public static Tokenizer fromGguf(Map<String, GgufValue> metadata) {
        return fromGguf(metadata, Path.of("<gguf metadata>"));
    }

    /** As {@link #fromGguf(Map)}, naming {@code file} in error messages. */
    public static Tokenizer fromGguf(Map<String, GgufValue> metadata, Path file) {
        return GgufTokenizerLoader.load(metadata, file);
    }
}
