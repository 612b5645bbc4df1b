package ai.autoglm.server.api;

import ai.autoglm.core.generate.GenerationStream;
import ai.autoglm.core.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/** Log-probabilities in OpenAI's shapes: chat ({@code token, logprob, bytes, top_logprobs}) and legacy completions. */
final class Logprobs {
    private Logprobs() {
    }

    /** The token's text (special tokens: their name); a token that is part of a UTF-8 character shows U+FFFD, its bytes are exact. */
    static String text(Tokenizer tok, int id) {
        return new String(tok.tokenBytes(id), StandardCharsets.UTF_8);
    }

    /** One chat {@code logprobs.content[]} entry. */
    static ObjectNode chatEntry(Tokenizer tok, GenerationStream.Step step) {
        ObjectNode e = entry(tok, step.token(), step.logprob());
        ArrayNode top = e.putArray("top_logprobs");
        for (int i = 0; i < step.topIds().length; i++) top.add(entry(tok, step.topIds()[i], step.topLogprobs()[i]));
        return e;
    }

    private static ObjectNode entry(Tokenizer tok, int id, float logprob) {
        ObjectNode e = Json.object();
        e.put("token", text(tok, id));
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : tok.tokenBytes(id)) bytes.add(b & 0xFF);
        return e;
    }

    /** Legacy completions {@code logprobs}: parallel arrays of tokens, their logprobs, top alternatives and text offsets. */
    static final class Legacy {
        final ObjectNode node = Json.object();
        private final ArrayNode tokens = node.putArray("tokens");
        private final ArrayNode tokenLogprobs = node.putArray("token_logprobs");
        private final ArrayNode top = node.putArray("top_logprobs");
        private final ArrayNode offsets = node.putArray("text_offset");

        void add(Tokenizer tok, GenerationStream.Step step, int textOffset) {
            tokens.add(text(tok, step.token()));
            tokenLogprobs.add(step.logprob());
            ObjectNode alternatives = top.addObject();
            for (int i = 0; i < step.topIds().length; i++) alternatives.put(text(tok, step.topIds()[i]), step.topLogprobs()[i]);
            offsets.add(textOffset);
        }
    }
}
