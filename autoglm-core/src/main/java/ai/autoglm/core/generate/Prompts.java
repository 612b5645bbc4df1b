package ai.autoglm.core.generate;

import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Turns text or a conversation into the prompt tokens a model expects. */
public final class Prompts {
    private Prompts() {
    }

    /**
     * Plain text completion: the text as written (special tokens in it are parsed), with BOS first when
     * the model wants one.
     */
    public static int[] completion(LanguageModel model, String text) {
        return withBos(model.tokenizer(), model.tokenizer().encode(text, true));
    }

    /** The model's own chat template rendered over the conversation, then tokenized. */
    public static int[] chat(LanguageModel model, List<ChatMessage> messages, boolean addGenerationPrompt,
                             List<Map<String, Object>> tools) {
        return completion(model, chatTemplate(model).render(messages, addGenerationPrompt, tools, null));
    }

    /** The model's chat template, with its BOS and EOS texts bound as transformers binds them. */
    public static ChatTemplate chatTemplate(LanguageModel model) {
        Tokenizer tok = model.tokenizer();
        String template = model.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "this model has no chat template (tokenizer.chat_template / tokenizer_config.json chat_template); "
                        + "use a plain prompt instead"));
        String bos = tok.bosId() >= 0 ? tok.tokenString(tok.bosId()) : "";
        String eos = tok.eosId() >= 0 ? tok.tokenString(tok.eosId()) : "";
        return new ChatTemplate(template, bos, eos);
    }

    /**
     * Prepends BOS when the tokenizer asks for it, unless the text already began with it (templates such as
     * Llama 3's write {@code bos_token} themselves; llama.cpp avoids the double BOS the same way).
     */
    static int[] withBos(Tokenizer tok, int[] ids) {
        if (!tok.addBosByDefault() || tok.bosId() < 0 || (ids.length > 0 && ids[0] == tok.bosId())) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = tok.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /** Parses "1,2,3" into token ids, naming the bad entry when one is not a number. */
    public static int[] parseIds(String csv, int vocabSize) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(s -> {
            int id;
            try {
                id = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("token id '" + s + "' is not a number");
            }
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            return id;
        }).toArray();
    }
}
