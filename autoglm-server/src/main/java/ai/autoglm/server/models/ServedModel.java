package ai.autoglm.server.models;

import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.server.gateway.GatewayException;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.core.schedule.ContinuousBatchScheduler;
import ai.autoglm.server.security.ModelFiles;
import ai.autoglm.core.generate.tools.ToolCallFormat;
import ai.autoglm.core.generate.reasoning.ThinkBlockSplitter;

import java.util.Set;

/** A loaded model with its scheduler, compiled chat template, stop tokens and tool-call format. */
public final class ServedModel implements AutoCloseable {
    private final ModelSpec spec;
    private final LanguageModel model;
    private final ContinuousBatchScheduler scheduler;
    private final ChatTemplate chatTemplate; // null when the model has none
    private final Set<Integer> stopTokens;
    private final ToolCallFormat toolFormat;
    private final boolean thinks;
    private String contentDigest; // computed on first use, unless the signature check already did

    ServedModel(ModelSpec spec, LanguageModel model, ContinuousBatchScheduler scheduler, String verifiedDigest) {
        this.spec = spec;
        this.contentDigest = verifiedDigest;
        this.model = model;
        this.scheduler = scheduler;
        this.chatTemplate = model.chatTemplate().isPresent() ? Prompts.chatTemplate(model) : null;
        this.stopTokens = StopTokens.defaults(model.tokenizer());
        this.toolFormat = spec.toolParser() != null ? ToolCallFormat.named(spec.toolParser())
                : ToolCallFormat.forTemplate(model.chatTemplate().orElse(null));
        this.thinks = ThinkBlockSplitter.appliesTo(model.chatTemplate().orElse(null));
    }

    public String alias() {
        return spec.alias();
    }

    public LanguageModel model() {
        return model;
    }

    public ContinuousBatchScheduler scheduler() {
        return scheduler;
    }

    /** The chat template, or a 400 when the model has none (only plain completions work then). */
    public ChatTemplate chatTemplate() {
        if (chatTemplate == null) {
            throw GatewayException.badRequest("model `" + spec.alias() + "` has no chat template; use /v1/completions with a plain prompt");
        }
        return chatTemplate;
    }

    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    /**
     * Whether the model's answers go through a {@link ThinkBlockSplitter}: it writes {@code <think>} blocks (its chat
     * template handles them: Qwen3, GLM-4.5, GLM-Z1), whose reasoning goes to {@code reasoning_content}, or it is a GLM
     * model whose answers start with a line break that is dropped.
     */
    public boolean thinks() {
        return thinks;
    }

    /** How this model writes tool calls (configured, or read from its chat template). */
    public ToolCallFormat toolFormat() {
        return toolFormat;
    }

    /**
     * SHA-256 over the model's files' contents ({@link ModelFiles#contentDigest}), computed once per loaded model
     * (streaming every file: the first caller of a large model waits for it); the response cache keys on it.
     */
    public synchronized String contentDigest() {
        if (contentDigest == null) contentDigest = ModelFiles.contentDigest(spec.path(), ModelFiles.hash(spec.path()));
        return contentDigest;
    }

    @Override
    public void close() {
        scheduler.close();
        model.close();
    }
}
