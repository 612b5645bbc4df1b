package ai.autoglm.core.generate.json;

import ai.autoglm.core.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * What the output must be: any JSON object (OpenAI {@code json_object}), an instance of a JSON Schema
 * ({@code json_schema}), or any JSON value. Compiled once, immutable and shareable between threads; it remembers
 * token masks per vocabulary across the generations that use it.
 *
 * <p>Whitespace, where RFC 8259 allows it: nothing, one space, or a line break and an indentation of at most 4 bytes
 * per open object or array and {@link #maxWhitespace()} in all (default {@value #DEFAULT_MAX_WHITESPACE}, enough for
 * pretty-printed output); none after the top-level value: a sampled model cannot pad, and generation ends when the
 * value closes (see {@link Frame}).
 */
public final class JsonGrammar {
    public static final int DEFAULT_MAX_WHITESPACE = 20;
    private static final JsonGrammar ANY_OBJECT = new JsonGrammar(AnyJson.OBJECT, DEFAULT_MAX_WHITESPACE);
    private static final JsonGrammar ANY_VALUE = new JsonGrammar(AnyJson.VALUE, DEFAULT_MAX_WHITESPACE);

    private final ValueRule root;
    private final int maxWhitespace;
    private final Map<TokenTrie, TokenMasker> maskers = Collections.synchronizedMap(new WeakHashMap<>());

    private JsonGrammar(ValueRule root, int maxWhitespace) {
        this.root = root;
        this.maxWhitespace = maxWhitespace;
    }

    /** Any JSON object (OpenAI {@code response_format: {"type": "json_object"}}). */
    public static JsonGrammar anyObject() {
        return ANY_OBJECT;
    }

    /** Any JSON value. */
    public static JsonGrammar anyValue() {
        return ANY_VALUE;
    }

    /**
     * An instance of {@code schema} (the subset of JSON Schema described in {@link JsonSchemaCompiler}).
     *
     * @throws IllegalArgumentException naming the keyword and its place when the schema uses what is not supported
     */
    public static JsonGrammar fromSchema(JsonNode schema) {
        return new JsonGrammar(JsonSchemaCompiler.compile(schema), DEFAULT_MAX_WHITESPACE);
    }

    /** This grammar with another limit on the indentation after a line break (bytes, at least 0). */
    public JsonGrammar withMaxWhitespace(int max) {
        if (max < 0) throw new IllegalArgumentException("max whitespace must be >= 0, got " + max);
        return new JsonGrammar(root, max);
    }

    public int maxWhitespace() {
        return maxWhitespace;
    }

    /** The automaton before the first byte. */
    public JsonState start() {
        return JsonState.start(root, maxWhitespace);
    }

    /**
     * A logits processor for one generation with {@code tokenizer}'s vocabulary.
     *
     * @param endTokens the generation's stop tokens (EOS, end of turn): allowed only where the value is complete
     */
    public JsonLogitsProcessor newLogitsProcessor(Tokenizer tokenizer, Set<Integer> endTokens) {
        return new JsonLogitsProcessor(masker(TokenTrie.of(tokenizer)), start(), endTokens);
    }

    /** The tokens of {@code trie} that keep {@code state} alive, as a bit set over ids (do not modify). */
    long[] allowedTokens(TokenTrie trie, JsonState state) {
        return masker(trie).allowed(state);
    }

    private TokenMasker masker(TokenTrie trie) {
        return maskers.computeIfAbsent(trie, TokenMasker::new);
    }
}
