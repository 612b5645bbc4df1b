package ai.autoglm.core.generate;

import ai.autoglm.core.tokenizer.Tokenizer;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The token ids that end generation ("end of generation" tokens). Besides the vocabulary's EOS, chat
 * models end a turn with a dedicated token that is often not the EOS (Llama 3: {@code <|eot_id|>};
 * Qwen: {@code <|im_end|>}; GLM: {@code <|user|>}, {@code <|observation|>}). llama.cpp finds these the
 * same way, by their text (src/llama-vocab.cpp, {@code special_eog_ids} in {@code llama_vocab::impl::load}).
 */
public final class StopTokens {
    private static final String[] END_OF_TURN_TEXTS = {
            "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|endoftext|>", "<|end|>", "<end_of_turn>",
            "<|end_of_text|>", "</s>", "<|user|>", "<|observation|>", "<｜end▁of▁sentence｜>"
    };

    private StopTokens() {
    }

    /** EOS plus every end-of-turn token the vocabulary has, in a stable order. */
    public static Set<Integer> defaults(Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>();
        if (tokenizer.eosId() >= 0) ids.add(tokenizer.eosId());
        for (String text : END_OF_TURN_TEXTS) {
            int id = tokenizer.tokenId(text);
            if (id >= 0 && tokenizer.isSpecial(id)) ids.add(id);
        }
        return ids;
    }
}
