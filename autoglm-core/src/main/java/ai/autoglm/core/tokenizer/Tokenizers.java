package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Loads the tokenizer that belongs to a model, from either of the two places models keep it. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * From a Hugging Face model directory, in this order:
     * <ol>
     *   <li>{@code tokenizer.json} (the tokenizers library's file) with {@code tokenizer_config.json} (bos/eos
     *       token strings and add_bos_token; optional);</li>
     *   <li>otherwise {@code tokenizer.model} whose first line is {@code base64 rank}: a tiktoken rank file, as
     *       GLM-4 (THUDM/glm-4-9b-chat, {@code tokenizer_class} ChatGLM4Tokenizer) ships it; that class adds
     *       GLM-4's special tokens, {@code added_tokens_decoder} is honoured in any case;</li>
     *   <li>otherwise {@code tokenizer.model} as a SentencePiece ModelProto (BPE type), as ChatGLM3-6B ships it;
     *       {@code tokenizer_class} ChatGLMTokenizer adds ChatGLM3's special tokens after the pieces.</li>
     * </ol>
     *
     * @throws ModelFormatException naming the file and the problem for missing, corrupt or unsupported files
     */
    public static Tokenizer fromHfDirectory(Path dir) {
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return HfTokenizerLoader.load(dir);
        }
        Path model = dir.resolve("tokenizer.model");
        if (!Files.isRegularFile(model)) {
            throw new ModelFormatException(dir, "no tokenizer.json (nor tokenizer.model) in this directory");
        }
        Path cfgPath = dir.resolve("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgPath) ? HfTokenizerLoader.read(cfgPath)
                : JsonNodeFactory.instance.objectNode();
        return TiktokenLoader.looksLikeRankFile(model)
                ? TiktokenLoader.load(model, cfg, cfgPath)
                : SentencePieceLoader.load(model, cfg, cfgPath);
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
