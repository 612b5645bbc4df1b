package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code response_format} through the real server, driven by the official openai-java SDK. Outputs are checked by
 * independent parsers: Jackson for JSON, networknt's validator for the schema, and the SDK's own structured-output
 * parsing into a Java record.
 *
 * <p>Models: {@code llama} is a random-weight fixture (its unconstrained output is byte soup, and inside a free
 * string it closes the string with probability about 1/150 per token). The schemas given to it therefore describe
 * finite languages (enums, booleans, strings with maxLength, bounded arrays, bounded whitespace): every path through
 * the grammar ends, so within max_tokens the answer always completes, whatever the seed. Free-form
 * {@code json_object} on it is asserted on a max_tokens cut (a valid JSON prefix). {@code json} is a scripted
 * model that writes a JSON object followed by chatter: JSON mode must end the answer at the closing brace.
 */
class StructuredOutputTest {
    @TempDir
    static Path dir;
    static AutoglmServer server;
    static OpenAIClient openai;
    static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    /** Finite: the longest instance, with the grammar's 20 whitespace bytes at every place, is under 700 bytes. */
    static final String TRIP = """
            {"type":"object","properties":{
              "city":{"type":"string","enum":["Paris","Beijing","Lima"]},
              "name":{"type":"string","maxLength":6},
              "ok":{"type":"boolean"},
              "tags":{"type":"array","items":{"enum":["a","b"]},"minItems":1,"maxItems":2}},
             "required":["city","name","ok","tags"],"additionalProperties":false}""";

    @BeforeAll
    static void start() {
        Path llama = TestServer.llamaFile(dir);
        Path json = ScriptedModel.jsonWriter(dir.resolve("json.gguf"), 64);
        server = AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("llama", llama, 1024, 2, null, null),
                new ModelSpec("json", json, 64, 1, null, null))));
        openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
    }

    static JsonNode parse(String text) {
        try {
            return TestServer.JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    static String schemaErrors(JsonNode schema, JsonNode instance) {
        Set<ValidationMessage> messages = SCHEMAS.getSchema(schema).validate(instance);
        return messages.stream().map(ValidationMessage::getMessage).collect(Collectors.joining("; "));
    }

    static ResponseFormatJsonSchema tripFormat() {
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        parse(TRIP).properties().forEach(e -> schema.putAdditionalProperty(e.getKey(), JsonValue.from(TestServer.JSON.convertValue(e.getValue(), Object.class))));
        return ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                .name("trip").strict(true).schema(schema.build()).build()).build();
    }

    static ChatCompletionCreateParams.Builder ask(String model, long seed) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Plan a trip as JSON").temperature(1.0).seed(seed);
    }

    static String streamed(ChatCompletionCreateParams params, String[] finish) {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                c.delta().content().ifPresent(text::append);
                c.finishReason().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        return text.toString();
    }

    @Test
    void jsonSchemaOutputsAreCompleteValidInstancesStreamedOrNot() {
        JsonNode schema = parse(TRIP);
        Set<String> distinct = new java.util.HashSet<>();
        for (long seed = 0; seed < 6; seed++) {
            ChatCompletionCreateParams params = ask("llama", seed).responseFormat(tripFormat()).maxCompletionTokens(900).build();
            ChatCompletion c = openai.chat().completions().create(params);
            String text = c.choices().getFirst().message().content().orElseThrow();
            assertThat(c.choices().getFirst().finishReason()).as(text).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
            assertThat(schemaErrors(schema, parse(text))).as(text).isEmpty();
            distinct.add(text);
            if (seed < 2) {
                String[] finish = {null};
                assertThat(streamed(params, finish)).isEqualTo(text);
                assertThat(finish[0]).isEqualTo("stop");
            }
        }
        assertThat(distinct).hasSizeGreaterThan(3); // sampled, not one canned answer
    }

    @Test
    void withoutResponseFormatTheSameRequestIsNotJson() {
        String text = openai.chat().completions().create(ask("llama", 0).maxCompletionTokens(60).build())
                .choices().getFirst().message().content().orElseThrow();
        assertThatThrownBy(() -> TestServer.JSON.readTree(text)).as(text).isInstanceOf(Exception.class);
    }

    enum City { PARIS, BEIJING, LIMA }

    enum Unit { CELSIUS, FAHRENHEIT }

    /** The SDK derives the schema from this record and parses the answer back into it. */
    public record Forecast(City city, Unit unit, boolean sunny) {
    }

    @Test
    void theSdksStructuredOutputsParseIntoARecord() {
        for (long seed = 0; seed < 3; seed++) {
            StructuredChatCompletion<Forecast> c = openai.chat().completions().create(
                    ask("llama", seed).maxCompletionTokens(900).responseFormat(Forecast.class).build());
            Forecast f = c.choices().getFirst().message().content().orElseThrow();
            assertThat(f.city()).isNotNull();
            assertThat(f.unit()).isNotNull();
        }
    }

    /** A record with numbers, annotated the way openai-java's generator reads (swagger {@code @Schema}, Jackson descriptions). */
    public record Reading(@io.swagger.v3.oas.annotations.media.Schema(minimum = "-50", maximum = "60", description = "degrees") int celsius,
                          @com.fasterxml.jackson.annotation.JsonPropertyDescription("readings taken") long count, Unit unit) {
    }

    /**
     * Issue 15 item 18: openai-java derives {@code minimum}/{@code maximum}/{@code description}/{@code $schema} from the
     * record (it used to be a 400 "unsupported keyword 'minimum'"); the answers parse back into it and keep the range.
     */
    @Test
    void theSdksSchemaOfARecordWithBoundedNumbersIsServed() {
        for (long seed = 0; seed < 4; seed++) {
            StructuredChatCompletion<Reading> c = openai.chat().completions().create(
                    ask("llama", seed).maxCompletionTokens(300).responseFormat(Reading.class).build());
            Reading r = c.choices().getFirst().message().content().orElseThrow();
            assertThat(r.celsius()).isBetween(-50, 60);
            assertThat(r.unit()).isNotNull();
        }
    }

    /**
     * The schema Spring AI 2.0 sends for {@code entity(Reading.class)}: victools configured as Spring AI's
     * {@code JsonSchemaGenerator} is (draft 2020-12, PLAIN_JSON, Jackson module respecting required, Swagger 2 module,
     * EXTRA_OPEN_API_FORMAT_VALUES, PLAIN_DEFINITION_KEYS), which writes {@code "format": "int32"} for every int and
     * {@code int64} for every long. Sent as a raw response_format through openai-java; every answer validates
     * (networknt, which checks int32/int64 formats too) and binds to the record with Jackson.
     */
    @Test
    void springAisGeneratedSchemaWithIntegerFormatsIsServed() throws Exception {
        var config = new com.github.victools.jsonschema.generator.SchemaGeneratorConfigBuilder(
                com.github.victools.jsonschema.generator.SchemaVersion.DRAFT_2020_12, com.github.victools.jsonschema.generator.OptionPreset.PLAIN_JSON)
                .with(new com.github.victools.jsonschema.module.jackson.JacksonModule(
                        com.github.victools.jsonschema.module.jackson.JacksonOption.RESPECT_JSONPROPERTY_REQUIRED))
                .with(new com.github.victools.jsonschema.module.swagger2.Swagger2Module())
                .with(com.github.victools.jsonschema.generator.Option.EXTRA_OPEN_API_FORMAT_VALUES)
                .with(com.github.victools.jsonschema.generator.Option.PLAIN_DEFINITION_KEYS).build();
        JsonNode schema = new com.github.victools.jsonschema.generator.SchemaGenerator(config).generateSchema(Reading.class);
        // what makes it Spring AI's schema, not a hand-written one
        assertThat(schema.toString()).contains("\"format\":\"int32\"").contains("\"format\":\"int64\"").contains("\"minimum\":-50");
        // Spring AI's BeanOutputConverter closes the object for OpenAI strict mode (additionalProperties false, all required)
        ((com.fasterxml.jackson.databind.node.ObjectNode) schema).put("additionalProperties", false);
        com.fasterxml.jackson.databind.node.ArrayNode required = ((com.fasterxml.jackson.databind.node.ObjectNode) schema).putArray("required");
        schema.get("properties").fieldNames().forEachRemaining(required::add);
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder raw = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        schema.properties().forEach(e -> raw.putAdditionalProperty(e.getKey(), JsonValue.from(TestServer.JSON.convertValue(e.getValue(), Object.class))));
        ResponseFormatJsonSchema format = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                .name("Reading").strict(true).schema(raw.build()).build()).build();
        for (long seed = 0; seed < 4; seed++) {
            ChatCompletion c = openai.chat().completions().create(ask("llama", seed).maxCompletionTokens(300).responseFormat(format).build());
            String text = c.choices().getFirst().message().content().orElseThrow();
            assertThat(c.choices().getFirst().finishReason()).as(text).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
            assertThat(schemaErrors(schema, parse(text))).as(text).isEmpty();
            Reading r = TestServer.JSON.readValue(text, Reading.class);
            assertThat(r.celsius()).isBetween(-50, 60);
        }
    }

    /**
     * Free-form objects on the random model: it often closes an object early (an empty or short object) but rarely
     * a string, so within 80 tokens some seeds give a complete object and others are cut inside a string (40 sufficed
     * while whitespace runs of 20 bytes were allowed between tokens; bounded now, the model writes fewer, longer
     * strings: at 40 no seed closed a non-empty object). Both
     * must be right: complete ones parse as objects (finish stop), cut ones are valid JSON prefixes (finish length).
     */
    @Test
    void jsonObjectOutputsAreObjectsOrValidPrefixesWhenCut() throws Exception {
        int complete = 0, nonEmpty = 0, cut = 0;
        for (long seed = 0; seed < 12; seed++) {
            ChatCompletionCreateParams params = ask("llama", seed).responseFormat(ResponseFormatJsonObject.builder().build())
                    .maxCompletionTokens(80).build();
            ChatCompletion c = openai.chat().completions().create(params);
            String text = c.choices().getFirst().message().content().orElseThrow();
            String finish = c.choices().getFirst().finishReason().asString();
            if (finish.equals("stop")) {
                JsonNode value = parse(text);
                assertThat(value.isObject()).as(text).isTrue();
                complete++;
                if (!value.isEmpty()) nonEmpty++;
            } else {
                assertThat(finish).isEqualTo("length");
                assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(80);
                assertValidJsonPrefix(text);
                cut++;
            }
            if (seed < 4) {
                String[] streamedFinish = {null};
                assertThat(streamed(params, streamedFinish)).isEqualTo(text);
                assertThat(streamedFinish[0]).isEqualTo(finish);
            }
        }
        assertThat(complete).isPositive();
        assertThat(nonEmpty).isPositive();
        assertThat(cut).isPositive();
    }

    /** Jackson reads {@code text} to its end without an error other than "unexpected end of input". */
    static void assertValidJsonPrefix(String text) throws Exception {
        // a token cut inside a UTF-8 character decodes to U+FFFD at the very end
        String whole = text.replaceAll("\uFFFD+$", "");
        try (JsonParser p = TestServer.JSON.getFactory().createParser(whole)) {
            while (p.nextToken() != null) {
                // read every token: a byte outside JSON throws JsonParseException, failing the test
            }
            throw new AssertionError("a complete JSON value, expected a cut one: " + text);
        } catch (JsonEOFException expected) {
            // the value is cut, not wrong
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            // Jackson reports an end of input in whitespace between object or array entries ("{\"a\":1,\n") as a plain
            // JsonParseException (ReaderBasedJsonParser._skipWS), with the same "Unexpected end-of-input" wording
            if (!e.getOriginalMessage().startsWith("Unexpected end-of-input")) throw e;
        }
    }

    @Test
    void jsonObjectEndsWhereTheObjectClosesBeforeTheScriptedChatter() {
        ChatCompletion plain = openai.chat().completions().create(ask("json", 0).build());
        assertThat(plain.choices().getFirst().message().content()).hasValue(ScriptedModel.JSON_ANSWER + ScriptedModel.CHATTER);

        ChatCompletionCreateParams params = ask("json", 0).responseFormat(ResponseFormatJsonObject.builder().build()).build();
        ChatCompletion c = openai.chat().completions().create(params);
        assertThat(c.choices().getFirst().message().content()).hasValue(ScriptedModel.JSON_ANSWER);
        assertThat(c.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(1);
        String[] finish = {null};
        assertThat(streamed(params, finish)).isEqualTo(ScriptedModel.JSON_ANSWER);
        assertThat(finish[0]).isEqualTo("stop");
    }

    @Test
    void legacyCompletionsTakeAResponseFormatToo() {
        JsonNode schema = parse(TRIP);
        Map<String, Object> format = Map.of("type", "json_schema",
                "json_schema", Map.of("name", "trip", "schema", TestServer.JSON.convertValue(schema, Object.class)));
        for (long seed = 0; seed < 2; seed++) {
            Completion c = openai.completions().create(CompletionCreateParams.builder().model("llama")
                    .prompt("Trip:").maxTokens(900).temperature(1.0).seed(seed)
                    .putAdditionalBodyProperty("response_format", JsonValue.from(format)).build());
            String text = c.choices().getFirst().text();
            assertThat(c.choices().getFirst().finishReason().asString()).as(text).isEqualTo("stop");
            assertThat(schemaErrors(schema, parse(text))).as(text).isEmpty();
        }
    }

    @Test
    void anUnsupportedSchemaIsA400NamingResponseFormat() {
        ResponseFormatJsonSchema format = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                .name("n").schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                        .putAdditionalProperty("type", JsonValue.from("integer"))
                        .putAdditionalProperty("multipleOf", JsonValue.from(3)).build()).build()).build();
        assertThatThrownBy(() -> openai.chat().completions().create(ask("llama", 0).responseFormat(format).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).hasValue("response_format");
                    assertThat(e.getMessage()).contains("multipleOf");
                });
    }
}
