package ai.autoglm.core.testing;

import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Spec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * GLM fixture directories in THUDM's remote-code shape, whose only tokenizer file is {@code tokenizer.model}:
 * <ul>
 *   <li>glm-4-9b-chat: a tiktoken rank file ({@code base64(token bytes) rank} per line) made from the fixture's
 *       byte-level vocabulary ({@link ModelFixtures#TOKENS}: the 256 bytes, then one token per merge, so the ranks
 *       are a valid tiktoken file), with {@code tokenizer_class} ChatGLM4Tokenizer, GLM-4's 14 special tokens from
 *       the rank count on in {@code added_tokens_decoder} (as glm-4-9b-chat's tokenizer_config.json lists them) and
 *       the real glm-4-9b-chat chat template;</li>
 *   <li>ChatGLM3-6B: a SentencePiece ModelProto ({@link SentencePieceProto#chatglm3StylePieces()}) with
 *       {@code tokenizer_class} ChatGLMTokenizer and the real chatglm3-6b chat template.</li>
 * </ul>
 * Weights and config.json are {@link GlmFixtures#writeHf} of {@link Layout#CHATGLM_REMOTE}.
 */
public final class GlmTokenizerFiles {
    private GlmTokenizerFiles() {
    }

    /** ChatGLM4Tokenizer.special_tokens (THUDM/glm-4-9b-chat tokenization_chatglm.py), numbered from the rank count. */
    public static final List<String> GLM4_SPECIALS = List.of("<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
            "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>",
            "<|begin_of_video|>", "<|end_of_video|>");

    /** A chat template from the test resources (chat-templates/NAME.jinja: copies of the real files, sources in README). */
    public static String chatTemplate(String name) {
        try (InputStream in = GlmTokenizerFiles.class.getResourceAsStream("/chat-templates/" + name + ".jinja")) {
            if (in == null) throw new IllegalStateException("no test resource chat-templates/" + name + ".jinja");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the {@code chat_template} of the HF directory's tokenizer_config.json. Returns {@code dir}. */
    public static Path withChatTemplate(Path dir, String template) {
        try {
            ObjectMapper om = new ObjectMapper();
            ObjectNode c = (ObjectNode) om.readTree(dir.resolve("tokenizer_config.json").toFile());
            c.put("chat_template", template);
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The rank file: token id i of the fixture vocabulary (its bytes) at rank i, for the ids before the specials. */
    public static String tiktokenRanks() {
        StringBuilder sb = new StringBuilder();
        for (int id = 0; id < ModelFixtures.FIRST_SPECIAL; id++) {
            sb.append(Base64.getEncoder().encodeToString(unicodeToBytes(ModelFixtures.TOKENS.get(id)))).append(' ').append(id).append('\n');
        }
        return sb.toString();
    }

    /** The inverse of {@link ModelFixtures#byteToUnicode}, one character per byte. */
    static byte[] unicodeToBytes(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            int b = 0;
            while (b < 256 && ModelFixtures.byteToUnicode(b).charAt(0) != s.charAt(i)) b++;
            if (b == 256) throw new IllegalArgumentException("not a byte-level string: " + s);
            out[i] = (byte) b;
        }
        return out;
    }

    /** glm-4-9b-chat-style remote-code directory with a tiktoken tokenizer.model. Returns {@code dir}. */
    public static Path writeGlm4Tiktoken(Spec s, Path dir) {
        GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, dir);
        try {
            Files.delete(dir.resolve("tokenizer.json"));
            Files.writeString(dir.resolve("tokenizer.model"), tiktokenRanks(), StandardCharsets.US_ASCII);
            ObjectNode c = new ObjectMapper().createObjectNode();
            ObjectNode decoder = c.putObject("added_tokens_decoder");
            for (int i = 0; i < GLM4_SPECIALS.size(); i++) {
                ObjectNode t = decoder.putObject(String.valueOf(ModelFixtures.FIRST_SPECIAL + i));
                t.put("content", GLM4_SPECIALS.get(i));
                t.put("lstrip", false);
                t.put("normalized", false);
                t.put("rstrip", false);
                t.put("single_word", false);
                t.put("special", true);
            }
            c.putArray("additional_special_tokens").add("<|endoftext|>").add("[MASK]").add("[gMASK]").add("[sMASK]")
                    .add("<sop>").add("<eop>").add("<|system|>").add("<|user|>").add("<|assistant|>").add("<|observation|>");
            c.putObject("auto_map").putArray("AutoTokenizer").add("tokenization_chatglm.ChatGLM4Tokenizer").addNull();
            c.put("chat_template", chatTemplate("glm-4-9b-chat"));
            c.put("clean_up_tokenization_spaces", false);
            c.put("do_lower_case", false);
            c.put("eos_token", "<|endoftext|>");
            c.put("model_max_length", s.context());
            c.put("pad_token", "<|endoftext|>");
            c.put("padding_side", "left");
            c.put("remove_space", false);
            c.put("tokenizer_class", "ChatGLM4Tokenizer");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ChatGLM3-6B's shape with an embedding large enough for {@link SentencePieceProto#chatglm3StylePieces()} and its specials. */
    public static Spec chatglm3Spm() {
        int size = SentencePieceProto.chatglm3StylePieces().size() + 9;
        return new Spec("chatglm3-spm", 64, 2, 8, 2, 8, 96, 256, 1e-5f, 50.0, true, size + 11, false, 74);
    }

    /** ChatGLM3-6B-style remote-code directory with a SentencePiece tokenizer.model. Returns {@code dir}. */
    public static Path writeChatglm3SentencePiece(Spec s, Path dir) {
        GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, dir);
        try {
            Files.delete(dir.resolve("tokenizer.json"));
            Files.write(dir.resolve("tokenizer.model"),
                    SentencePieceProto.modelProto(SentencePieceProto.chatglm3StylePieces(), true, true, false));
            // chatglm3-6b config.json: eos 2 (</s>), pad 0 (SPTokenizer.pad_id = unk_id)
            ObjectNode config = GlmFixtures.hfConfig(s, Layout.CHATGLM_REMOTE);
            config.put("eos_token_id", 2);
            config.put("pad_token_id", 0);
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
            ObjectNode c = new ObjectMapper().createObjectNode();
            c.putObject("auto_map").putArray("AutoTokenizer").add("tokenization_chatglm.ChatGLMTokenizer").addNull();
            c.put("chat_template", chatTemplate("chatglm3-6b"));
            c.put("clean_up_tokenization_spaces", false);
            c.put("do_lower_case", false);
            c.put("padding_side", "left");
            c.put("remove_space", false);
            c.put("tokenizer_class", "ChatGLMTokenizer");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
