package ai.autoglm.core.generate.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;

/** The one way literal JSON texts are written (Jackson's compact form), for enum/const values and object keys. */
final class JsonText {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonText() {
    }

    /** {@code "s"} as UTF-8 JSON: quotes, backslashes and control characters escaped, the rest as is. */
    static byte[] quote(String s) {
        byte[] body = JsonStringEncoder.getInstance().quoteAsUTF8(s);
        byte[] out = new byte[body.length + 2];
        out[0] = '"';
        System.arraycopy(body, 0, out, 1, body.length);
        out[out.length - 1] = '"';
        return out;
    }

    /** A JSON value in compact form, as UTF-8. */
    static byte[] compact(JsonNode value) {
        try {
            return MAPPER.writeValueAsString(value).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree: " + e.getMessage(), e);
        }
    }
}
