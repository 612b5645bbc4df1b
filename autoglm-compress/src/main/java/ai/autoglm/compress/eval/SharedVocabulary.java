package ai.autoglm.compress.eval;

import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * KL divergence and top-1 agreement compare two distributions over the same tokens, and perplexities are only
 * comparable on the same token sequence: the base and the candidate must have one vocabulary (same size, same bytes
 * for every id, same special-token prefix) and the same number of logits.
 */
public final class SharedVocabulary {
    private SharedVocabulary() {
    }

    /** Throws an {@link IllegalArgumentException} naming the first difference when the two models do not share a tokenizer. */
    public static void check(LanguageModel base, String baseName, LanguageModel model, String modelName) {
        String why = difference(base, model);
        if (why != null) {
            throw new IllegalArgumentException("the base " + baseName + " and the model " + modelName + " do not share a tokenizer ("
                    + why + "): KL divergence and top-1 agreement need both to predict over the same vocabulary");
        }
    }

    /** The first difference between the two models' vocabularies, or null when they are the same. */
    static String difference(LanguageModel base, LanguageModel model) {
        if (base.config().vocabSize() != model.config().vocabSize()) {
            return "logits over " + base.config().vocabSize() + " vs " + model.config().vocabSize() + " tokens";
        }
        Tokenizer a = base.tokenizer(), b = model.tokenizer();
        if (a.vocabSize() != b.vocabSize()) return "tokenizer of " + a.vocabSize() + " vs " + b.vocabSize() + " tokens";
        for (int id = 0; id < a.vocabSize(); id++) {
            if (!Arrays.equals(a.tokenBytes(id), b.tokenBytes(id))) {
                return "token " + id + " is '" + a.tokenString(id) + "' in the base but '" + b.tokenString(id) + "' in the model";
            }
        }
        if (!Arrays.equals(a.prefixTokens(), b.prefixTokens())) {
            return "prompt prefix " + Arrays.toString(a.prefixTokens()) + " vs " + Arrays.toString(b.prefixTokens());
        }
        return null;
    }
}
