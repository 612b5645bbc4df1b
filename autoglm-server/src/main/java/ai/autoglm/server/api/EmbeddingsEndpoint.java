package ai.autoglm.server.api;

import ai.autoglm.core.model.encoder.BertEmbeddingModel;
import ai.autoglm.server.models.ServedEmbeddingModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@code POST /v1/embeddings} (OpenAI's embeddings API reference): {@code input} a string or an array of strings,
 * {@code model}, {@code encoding_format} ({@code float} or {@code base64}: the little-endian float32 bytes, which is
 * what the official clients decode), {@code dimensions} (only the model's own size: these models were not trained
 * to be shortened, so any other value is refused by name), {@code user} ignored. Answers
 * {@code {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}} in input order.
 *
 * <p>As OpenAI's API does, an input longer than the model reads is refused with the numbers instead of being cut
 * silently; vLLM's {@code truncate_prompt_tokens} (a count, or -1 for the model's maximum) asks for the cut.
 * Token-id inputs are refused: clients that send them (LangChain's Python {@code OpenAIEmbeddings} by default) send
 * tiktoken ids, which mean nothing to this model's WordPiece vocabulary.
 */
final class EmbeddingsEndpoint {
    /** OpenAI's limit on inputs per request. */
    static final int MAX_INPUTS = 2048;

    private final OpenAiApi api;

    EmbeddingsEndpoint(OpenAiApi api) {
        this.api = api;
    }

    /** @param served the model the request names, acquired once by the pipeline ({@link ModelStage}) */
    void handle(JsonNode body, ServedEmbeddingModel served, HttpExchange ex) {
        List<String> texts = inputs(body);
        String format = Fields.string(body, "encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalidParam("encoding_format", "encoding_format must be \"float\" or \"base64\", got \"" + format + "\"");
        }
        boolean base64 = "base64".equals(format);
        Long dimensions = Fields.integer(body, "dimensions", 1, Integer.MAX_VALUE);
        Long truncate = Fields.integer(body, "truncate_prompt_tokens", -1, Integer.MAX_VALUE);

        try {
            BertEmbeddingModel model = served.model();
            if (dimensions != null && dimensions != model.dimension()) {
                throw ApiException.unsupported("dimensions", "model `" + served.alias() + "` makes " + model.dimension()
                        + "-dimensional embeddings and cannot shorten them (it was not trained for it); got dimensions "
                        + dimensions);
            }
            int limit = model.maxTokens();
            if (truncate != null && truncate != -1) {
                if (truncate < 2 || truncate > limit) {
                    throw ApiException.invalidParam("truncate_prompt_tokens", "truncate_prompt_tokens must be -1 or between 2 and "
                            + limit + " for model `" + served.alias() + "`, got " + truncate);
                }
                limit = truncate.intValue();
            }
            List<int[]> tokens = new ArrayList<>(texts.size());
            int promptTokens = 0;
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = model.tokenizer().encodeForModel(texts.get(i), Integer.MAX_VALUE);
                if (ids.length > limit) {
                    if (truncate == null) {
                        throw new ApiException(400, "invalid_request_error", texts.size() == 1 && body.get("input").isTextual() ? "input" : "input[" + i + "]",
                                "context_length_exceeded", "This model's maximum context length is " + limit + " tokens, however input "
                                + i + " has " + ids.length + " tokens. Shorten it, or send truncate_prompt_tokens: -1 to cut it.");
                    }
                    ids = model.tokenizer().encodeForModel(texts.get(i), limit);
                }
                tokens.add(ids);
                promptTokens += ids.length;
            }
            api.metrics().promptTokens(served.alias(), promptTokens);
            float[][] vectors = served.embed(tokens, api.config().requestTimeout());
            api.metrics().embedded(served.alias(), vectors.length);

            ObjectNode root = Json.object();
            root.put("object", "list");
            ArrayNode data = root.putArray("data");
            for (int i = 0; i < vectors.length; i++) {
                ObjectNode d = data.addObject();
                d.put("object", "embedding");
                d.put("index", i);
                if (base64) {
                    d.put("embedding", base64(vectors[i]));
                } else {
                    ArrayNode v = d.putArray("embedding");
                    for (float x : vectors[i]) v.add(x);
                }
            }
            root.put("model", served.alias());
            ObjectNode usage = root.putObject("usage");
            usage.put("prompt_tokens", promptTokens);
            usage.put("total_tokens", promptTokens);
            ex.sendJson(200, root);
        } finally {
            served.release();
        }
    }

    /** {@code input}: a non-empty string, or a non-empty array of them; token ids get a 400 saying why. */
    private static List<String> inputs(JsonNode body) {
        JsonNode input = body.get("input");
        if (input == null || input.isNull()) throw ApiException.invalidParam("input", "input is required: a string or an array of strings");
        if (input.isTextual()) {
            if (input.asText().isEmpty()) throw ApiException.invalidParam("input", "input must not be an empty string");
            return List.of(input.asText());
        }
        if (!input.isArray()) throw ApiException.invalidParam("input", "input must be a string or an array of strings, got " + input.getNodeType().name().toLowerCase());
        if (input.isEmpty()) throw ApiException.invalidParam("input", "input must not be an empty array");
        if (input.size() > MAX_INPUTS) throw ApiException.invalidParam("input", "input takes at most " + MAX_INPUTS + " strings, got " + input.size());
        List<String> out = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            JsonNode e = input.get(i);
            if (e.isIntegralNumber() || e.isArray()) {
                throw ApiException.unsupported("input", "token-id input is not supported: this server tokenizes text with the model's "
                        + "own vocabulary, so send strings (LangChain's OpenAIEmbeddings: check_embedding_ctx_length=False)");
            }
            if (!e.isTextual()) throw ApiException.invalidParam("input[" + i + "]", "input[" + i + "] must be a string, got " + e.getNodeType().name().toLowerCase());
            if (e.asText().isEmpty()) throw ApiException.invalidParam("input[" + i + "]", "input[" + i + "] must not be an empty string");
            out.add(e.asText());
        }
        return out;
    }

    /** The vector as OpenAI's base64 encoding: float32 values, little-endian, back to back. */
    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
