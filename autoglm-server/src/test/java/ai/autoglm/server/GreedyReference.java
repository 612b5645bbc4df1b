package ai.autoglm.server;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.Generator;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tokenizer.ChatMessage;

import java.nio.file.Path;
import java.util.List;

/** What {@code autoglm run} produces: the single-sequence {@link Generator}, greedy, on its own copy of the model. */
final class GreedyReference implements AutoCloseable {
    private final LanguageModel model;

    GreedyReference(Path file) {
        this.model = ModelLoader.load(file);
    }

    /** With KV caches of {@code kvCache} ({@code autoglm run --cache-type-k/--cache-type-v}). */
    GreedyReference(Path file, ai.autoglm.core.model.KvCacheTypes kvCache) {
        this.model = ModelLoader.load(file, ai.autoglm.core.model.LoadOptions.defaults().withKvCache(kvCache));
    }

    String chat(String user, int maxTokens, int context) {
        return run(Prompts.chat(model, List.of(ChatMessage.user(user)), true, null), maxTokens, context);
    }

    String completion(String prompt, int maxTokens, int context) {
        return run(Prompts.completion(model, prompt), maxTokens, context);
    }

    private String run(int[] prompt, int maxTokens, int context) {
        return new Generator(model).generate(new Sequence(model, context), new GenerationRequest(prompt, maxTokens,
                SamplerSettings.greedy(), StopTokens.defaults(model.tokenizer()), List.of()), t -> {
        }).text();
    }

    int chatPromptTokens(String user) {
        return Prompts.chat(model, List.of(ChatMessage.user(user)), true, null).length;
    }

    @Override
    public void close() {
        model.close();
    }
}
