package ai.autoglm.core.generate.json;

import ai.autoglm.core.generate.FinishReason;
import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.GenerationResult;
import ai.autoglm.core.generate.Generator;
import ai.autoglm.core.generate.LogitsProcessor;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static ai.autoglm.core.generate.json.SchemaValidator.errors;
import static ai.autoglm.core.generate.json.SchemaValidator.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Constrained generation end to end on a random-weight fixture model (byte-level vocabulary, so any JSON can be
 * written), sampled at temperature 1.5 over many seeds: every output parses (Jackson) and is valid against its
 * schema (networknt validator); it ends with finish reason stop as soon as the value closes; a max-tokens cut ends
 * with "length" and a prefix of what the uncut run writes.
 */
class JsonGenerationTest {
    @TempDir
    static Path dir;
    static LanguageModel model;
    static Set<Integer> endTokens;
    static final SamplerSettings HOT = SamplerSettings.defaults().withTemperature(1.5f).withTopK(0).withTopP(1f).withMinP(0f);

    @BeforeAll
    static void load() {
        model = ModelLoader.load(ModelFixtures.writeGguf(ModelFixtures.llama().withContext(1024), dir.resolve("m.gguf"), GgmlType.F32));
        endTokens = StopTokens.defaults(model.tokenizer());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /**
     * Part of the test's "model": a random-weight model inside an unbounded JSON string closes it with probability
     * about 1/150 per token; a bias on '"', '}' and ']' (as OpenAI's logit_bias would) makes free-form documents end.
     */
    record FavourClosing(LogitsProcessor json, float bias) implements LogitsProcessor {
        @Override
        public void process(float[] logits) {
            for (int id = 0; id < model.tokenizer().vocabSize(); id++) {
                byte[] b = model.tokenizer().tokenBytes(id);
                if (!model.tokenizer().isSpecial(id) && b.length == 1 && (b[0] == '"' || b[0] == '}' || b[0] == ']')) {
                    logits[id] += bias;
                }
            }
            json.process(logits);
        }

        @Override
        public void accept(int token) {
            json.accept(token);
        }

        @Override
        public boolean isComplete() {
            return json.isComplete();
        }
    }

    static GenerationResult generate(JsonGrammar g, long seed, int maxTokens, float closingBias) {
        LogitsProcessor p = g.newLogitsProcessor(model.tokenizer(), endTokens);
        if (closingBias != 0) p = new FavourClosing(p, closingBias);
        return new Generator(model).generate(new Sequence(model, 1024),
                new GenerationRequest(Prompts.completion(model, "JSON:"), maxTokens, HOT.withSeed(seed), endTokens, List.of(), p),
                t -> { });
    }

    @Test
    void jsonObjectOutputsAreObjects() {
        Set<String> distinct = new HashSet<>();
        for (long seed = 0; seed < 30; seed++) {
            GenerationResult r = generate(JsonGrammar.anyObject(), seed, 600, 4f);
            assertThat(r.finishReason()).as("seed %d: %s", seed, r.text()).isEqualTo(FinishReason.STOP);
            JsonNode value = parse(r.text());
            assertThat(value.isObject()).as(r.text()).isTrue();
            assertThat(r.text()).endsWith("}");
            distinct.add(r.text());
        }
        assertThat(distinct.size()).isGreaterThan(20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PERSON", "OPTIONAL", "DEFS", "TREE", "SHAPES", "LENGTHS", "ENUM_ROOT", "MATRIX"})
    void schemaOutputsAreValidInstances(String name) throws Exception {
        String schemaText = (String) JsonSchemaGrammarTest.class.getDeclaredField(name).get(null);
        JsonNode schema = parse(schemaText);
        JsonGrammar g = JsonGrammar.fromSchema(schema);
        Set<String> distinct = new HashSet<>();
        for (long seed = 0; seed < 12; seed++) {
            GenerationResult r = generate(g, seed, 800, 0f);
            assertThat(r.finishReason()).as("seed %d: %s", seed, r.text()).isEqualTo(FinishReason.STOP);
            assertThat(errors(schema, parse(r.text()))).as(r.text()).isEmpty();
            distinct.add(r.text());
        }
        assertThat(distinct.size()).isGreaterThan(name.equals("ENUM_ROOT") ? 2 : 8);
    }

    @Test
    void aMaxTokensCutEndsWithLengthAndAPrefixOfTheFullOutput() {
        JsonNode schema = parse(JsonSchemaGrammarTest.PERSON);
        JsonGrammar g = JsonGrammar.fromSchema(schema);
        for (long seed = 0; seed < 4; seed++) {
            GenerationResult full = generate(g, seed, 800, 0f);
            assertThat(full.finishReason()).isEqualTo(FinishReason.STOP);
            for (int cut : new int[]{1, full.completionTokens() / 2, full.completionTokens() - 1}) {
                GenerationResult r = generate(g, seed, cut, 0f);
                assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
                assertThat(r.completionTokens()).isEqualTo(cut);
                // a token cut inside a UTF-8 character decodes to U+FFFD at the end
                assertThat(full.text()).startsWith(r.text().replaceAll("\uFFFD+$", ""));
                assertThat(isValidInstance(schema, r.text())).as(r.text()).isFalse();
            }
        }
    }

    private static boolean isValidInstance(JsonNode schema, String text) {
        try {
            JsonNode value = SchemaValidator.JSON.readTree(text);
            return value != null && !value.isMissingNode() && errors(schema, value).isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aTokenOutsideTheGrammarIsRefused() {
        JsonLogitsProcessor p = JsonGrammar.anyObject().newLogitsProcessor(model.tokenizer(), endTokens);
        float[] logits = new float[model.config().vocabSize()];
        p.process(logits);
        int brace = model.tokenizer().tokenId("{");
        int letter = model.tokenizer().tokenId("x");
        assertThat(logits[brace]).isZero();
        assertThat(logits[letter]).isEqualTo(Float.NEGATIVE_INFINITY);
        for (int end : endTokens) assertThat(logits[end]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThatThrownBy(() -> p.accept(letter)).isInstanceOf(IllegalStateException.class);
        p.accept(brace);
        assertThat(p.isComplete()).isFalse();
    }
}
