package ai.autoglm.server.api;

import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.tokenizer.ChatTemplateException;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.server.models.ServedModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code POST /tokenize} and {@code POST /detokenize} with the bodies of vLLM ({@code prompt} or {@code messages},
 * {@code add_special_tokens}; answers {@code tokens, count, max_model_len}) and llama.cpp's server
 * ({@code content}, {@code add_special}, {@code with_pieces}; detokenize answers {@code content}).
 */
final class TokenizeEndpoints {
    private final OpenAiApi api;

    TokenizeEndpoints(OpenAiApi api) {
        this.api = api;
    }

    void tokenize(JsonNode body, ServedModel m, HttpExchange ex) {
        Tokenizer tok = m.model().tokenizer();
        Boolean addSpecial = Fields.bool(body, "add_special_tokens");
        if (addSpecial == null) addSpecial = Fields.bool(body, "add_special");
        boolean withPieces = Boolean.TRUE.equals(Fields.bool(body, "with_pieces"));
        String text;
        if (Fields.given(body, "messages")) {
            ObjectNode chat = body.deepCopy();
            chat.remove("tools");
            ChatRequest req = ChatRequest.read(chat);
            Boolean gen = Fields.bool(body, "add_generation_prompt");
            try {
                text = m.chatTemplate().renderRaw(req.messages(), gen == null || gen, null,
                        req.templateKwargs().isEmpty() ? null : req.templateKwargs());
            } catch (ChatTemplateException e) {
                throw ApiException.invalidParam("messages", "the model's chat template rejected the conversation: " + e.getMessage());
            }
            if (addSpecial == null) addSpecial = false; // the template writes its own BOS (vLLM's default for messages)
        } else {
            text = Fields.string(body, "prompt");
            if (text == null) text = Fields.string(body, "content");
            if (text == null) throw ApiException.invalidParam("prompt", "give the text as prompt (or content), or messages");
        }
        int[] ids = addSpecial == null || addSpecial ? Prompts.completion(m.model(), text) : tok.encode(text, true);
        ObjectNode out = Json.object();
        ArrayNode tokens = out.putArray("tokens");
        for (int id : ids) {
            if (withPieces) {
                ObjectNode p = tokens.addObject();
                p.put("id", id);
                p.put("piece", Logprobs.text(tok, id));
            } else {
                tokens.add(id);
            }
        }
        out.put("count", ids.length);
        out.put("max_model_len", m.scheduler().contextPerSlot());
        ex.sendJson(200, out);
    }

    void detokenize(JsonNode body, ServedModel m, HttpExchange ex) {
        JsonNode t = body.get("tokens");
        if (t == null || !t.isArray()) throw ApiException.invalidParam("tokens", "tokens must be an array of token ids");
        int vocab = m.model().tokenizer().vocabSize();
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = t.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= vocab) {
                throw ApiException.invalidParam("tokens", "tokens[" + i + "] = " + e + " is not a token id in [0, " + vocab + ")");
            }
            ids[i] = e.asInt();
        }
        String text = m.model().tokenizer().decode(ids);
        ObjectNode out = Json.object();
        out.put("prompt", text);   // vLLM
        out.put("content", text);  // llama.cpp server
        ex.sendJson(200, out);
    }
}
