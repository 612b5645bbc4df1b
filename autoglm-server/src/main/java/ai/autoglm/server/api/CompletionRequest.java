package ai.autoglm.server.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A validated {@code POST /v1/completions} body. {@code prompt} is a string or a list of token ids (or a list
 * holding one of those: one prompt per request); {@code logprobs} is the legacy integer (alternatives per token).
 *
 * @param text   the prompt text, or null when token ids were given
 * @param tokens the prompt ids, or null when text was given
 */
record CompletionRequest(GenerationParams params, String text, int[] tokens, boolean echo) {

    static CompletionRequest read(JsonNode root) {
        Long logprobs = Fields.integer(root, "logprobs", 0, 20);
        GenerationParams params = GenerationParams.read(root, logprobs != null, logprobs == null ? 0 : logprobs.intValue());
        String suffix = Fields.string(root, "suffix");
        if (suffix != null && !suffix.isEmpty()) throw ApiException.unsupported("suffix", "suffix (fill-in-the-middle) is not supported");
        boolean echo = Boolean.TRUE.equals(Fields.bool(root, "echo"));

        JsonNode p = root.get("prompt");
        if (p == null || p.isNull()) throw ApiException.invalidParam("prompt", "prompt is required");
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) p = p.get(0);
        if (p.isTextual()) return new CompletionRequest(params, p.asText(), null, echo);
        if (p.isArray() && !p.isEmpty()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode e = p.get(i);
                if (e.isTextual()) throw ApiException.unsupported("prompt", "one prompt per request: a list of several prompts is not supported");
                if (!e.isIntegralNumber() || !e.canConvertToInt()) throw ApiException.invalidParam("prompt", "prompt must be a string or a list of token ids");
                ids[i] = e.asInt();
            }
            return new CompletionRequest(params, null, ids, echo);
        }
        throw ApiException.invalidParam("prompt", "prompt must be a non-empty string or a list of token ids");
    }
}
