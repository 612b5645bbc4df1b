package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Read-only access to the vocabulary inside a Hugging Face {@code tokenizer.model}, for the converter that writes it
 * to GGUF (HF to GGUF needs the vocabulary itself, not a tokenizer). Two kinds exist: GLM-4's tiktoken rank file
 * (glm-4-9b-chat, ChatGLM4Tokenizer) and a SentencePiece ModelProto (ChatGLM3-6B, ChatGLMTokenizer). The files are
 * read and checked by the same code the tokenizer loaders use.
 */
public final class TokenizerModelFile {
    private TokenizerModelFile() {
    }

    /** A token a remote-code tokenizer adds after the model file's own vocabulary. */
    public record Special(int id, String content, boolean special) {
    }

    /** ChatGLM4Tokenizer's vocabulary: {@code mergeable_ranks} (rank to bytes, rank order) and its added tokens. */
    public record Tiktoken(SortedMap<Integer, byte[]> ranks, List<Special> added) {
    }

    /** sentencepiece_model.proto SentencePiece.Type values. */
    public static final int NORMAL = SentencePieceModel.NORMAL, UNKNOWN = SentencePieceModel.UNKNOWN,
            CONTROL = SentencePieceModel.CONTROL, USER_DEFINED = SentencePieceModel.USER_DEFINED,
            UNUSED = SentencePieceModel.UNUSED, BYTE = SentencePieceModel.BYTE;

    /** One SentencePiece piece: its text (spaces as U+2581), score and type. */
    public record Piece(String piece, float score, int type) {
    }

    /** A SentencePiece model's pieces (id order) and its unknown/BOS/EOS ids (-1 when out of range). */
    public record SentencePiece(List<Piece> pieces, int unkId, int bosId, int eosId) {
    }

    /** THUDM/chatglm3-6b tokenization_chatglm.py SPTokenizer: the tokens it numbers from the piece count on. */
    public static final List<String> CHATGLM3_SPECIAL_TOKENS = SentencePieceLoader.CHATGLM3_SPECIAL_TOKENS;

    /** Whether {@code model} is a tiktoken rank file (first line "base64 rank"); otherwise it is taken as SentencePiece. */
    public static boolean isTiktoken(Path model) {
        return TiktokenLoader.looksLikeRankFile(model);
    }

    /**
     * Reads a tiktoken rank file with the special tokens that {@code tokenizer_config.json} in the same directory
     * brings ({@code tokenizer_class} ChatGLM4Tokenizer: GLM-4's fourteen; {@code added_tokens_decoder} entries).
     */
    public static Tiktoken readTiktoken(Path model) {
        Path cfgPath = model.resolveSibling("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgPath) ? HfTokenizerLoader.read(cfgPath) : JsonNodeFactory.instance.objectNode();
        TiktokenLoader.Vocabulary v = TiktokenLoader.read(model, cfg, cfgPath);
        List<Special> added = new ArrayList<>();
        for (Map.Entry<Integer, String> e : v.specials().entrySet()) {
            added.add(new Special(e.getKey(), e.getValue(), v.isSpecial(e.getKey())));
        }
        return new Tiktoken(v.ranks(), List.copyOf(added));
    }

    /** Reads a SentencePiece ModelProto. */
    public static SentencePiece readSentencePiece(Path model) {
        SentencePieceModel m = SentencePieceLoader.read(model);
        if (m.modelType() != SentencePieceModel.MODEL_BPE) {
            throw new ModelFormatException(model, "SentencePiece model type " + m.modelType() + " is not supported (only BPE = 2)");
        }
        int n = m.pieces().size();
        List<Piece> pieces = m.pieces().stream().map(p -> new Piece(p.piece(), p.score(), p.type())).toList();
        return new SentencePiece(pieces, inRange(m.unkId(), n), inRange(m.bosId(), n), inRange(m.eosId(), n));
    }

    /** GPT-2's byte-to-unicode spelling of {@code bytes} (transformers bytes_to_unicode), as byte-level vocabularies store tokens. */
    public static String byteLevel(byte[] bytes) {
        return ByteLevel.encode(bytes);
    }

    private static int inRange(int id, int n) {
        return id >= 0 && id < n ? id : -1;
    }
}
