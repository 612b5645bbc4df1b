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
     * Plain text completion: the text as written (special tokens in it are parsed), after the tokenizer's
     * {@link Tokenizer#prefixTokens() prefix} (BOS, or GLM's {@code [gMASK]<sop>}).
     */
    public static int[] completion(LanguageModel model, String text) {
        return withPrefix(model.tokenizer(), model.tokenizer().encode(text, true));
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
     * Puts the tokenizer's prefix before {@code ids}, unless they already begin with it: chat templates write it
     * themselves (Llama 3's {@code bos_token}, GLM's {@code [gMASK]<sop>}), and llama.cpp avoids the double BOS the
     * same way (HF avoids it by encoding rendered templates with {@code add_special_tokens=False}).
     */
    static int[] withPrefix(Tokenizer tok, int[] ids) {
        int[] prefix = tok.prefixTokens();
        if (prefix.length == 0 || startsWith(ids, prefix)) return ids;
        int[] out = new int[prefix.length + ids.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        return out;
    }

    private static boolean startsWith(int[] ids, int[] prefix) {
        return ids.length >= prefix.length && Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length);
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
