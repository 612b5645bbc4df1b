package ai.autoglm.server.api;

import ai.autoglm.server.models.ModelKind;

/**
 * Acquires the model the request names (the first of its kind when it names none), once per request, after the key
 * was checked against it (403); the cache key and the endpoint both use this one. 404 for a model that does not
 * exist, 503 while one cannot be loaded.
 */
final class ModelStage implements Stage {
    private final OpenAiApi api;
    private final ModelKind kind;

    ModelStage(OpenAiApi api, ModelKind kind) {
        this.api = api;
        this.kind = kind;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        String name = call.body() == null ? null : Fields.string(call.body(), "model"); // 400 for a model that is not a string
        Object model = kind == ModelKind.EMBEDDING ? api.acquireEmbedding(name, call.exchange()) : api.acquire(name, call.exchange());
        next.handle(call.withModel(model));
    }
}
