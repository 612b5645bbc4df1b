package ai.autoglm.server.api;

import ai.autoglm.server.gateway.CachedResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * A cached answer made into the answer to this request: a fresh {@code id} (same prefix, {@code chatcmpl-} or
 * {@code cmpl-}) and {@code created} (now) in the JSON body, or in every {@code data:} event of a replayed stream
 * (one id for the whole stream, as a generated stream has). The stored bytes keep the first request's values; sending
 * them would tell the caller when someone first asked, and give two requests one id (OpenAI ids name one response).
 */
final class CachedAnswers {
    private CachedAnswers() {
    }

    static byte[] renew(CachedResponse cached, String route) {
        String id = (route.equals("/v1/completions") ? "cmpl-" : "chatcmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        String text = new String(cached.body(), StandardCharsets.UTF_8);
        if (!cached.contentType().startsWith("text/event-stream")) return renewJson(text, id, created);
        String[] lines = text.split("\n", -1);
        StringBuilder out = new StringBuilder(text.length() + 64);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("data: {")) {
                out.append("data: ").append(new String(renewJson(line.substring(6), id, created), StandardCharsets.UTF_8));
            } else {
                out.append(line);
            }
            if (i < lines.length - 1) out.append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] renewJson(String json, String id, long created) {
        try {
            JsonNode n = Json.MAPPER.readTree(json);
            if (n instanceof ObjectNode o) {
                if (o.has("id")) o.put("id", id);
                if (o.has("created")) o.put("created", created);
            }
            return Json.bytes(n);
        } catch (IOException e) {
            // not JSON (cannot happen for what the endpoints store): sent as stored
            return json.getBytes(StandardCharsets.UTF_8);
        }
    }
}
