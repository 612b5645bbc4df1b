package ai.autoglm.langchain4j;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.Embeddings;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** LangChain4j's {@link EmbeddingModel} over an {@link AutoGLMClient} that has an embedding model. */
public final class AutoglmEmbeddingModel implements EmbeddingModel {
    private final AutoGLMClient client;

    public AutoglmEmbeddingModel(AutoGLMClient client) {
        this.client = Objects.requireNonNull(client);
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (segments.isEmpty()) return Response.from(List.of());
        Embeddings e = client.embed(segments.stream().map(TextSegment::text).toList());
        List<Embedding> out = new ArrayList<>();
        for (float[] v : e.vectors()) out.add(Embedding.from(v));
        return Response.from(out, new TokenUsage(e.promptTokens()));
    }
}
