package ai.autoglm.core.hub;

import java.io.IOException;

/** A model hub: lists a repository at a revision and says where each file is. */
public sealed interface ModelSource permits HuggingFaceSource, ModelScopeSource {
    /** "huggingface" or "modelscope". */
    String name();

    RepoListing list(ModelRef ref) throws IOException;

    FileLocation locate(ModelRef ref, String commit, RemoteFile file) throws IOException;

    /** The source {@code name} names (huggingface, hf, modelscope, ms). */
    static ModelSource of(String name, HubHttp http, HubSettings settings) {
        return switch (name == null ? "huggingface" : name.toLowerCase(java.util.Locale.ROOT)) {
            case "huggingface", "hf" -> new HuggingFaceSource(http, settings.endpoint());
            case "modelscope", "ms" -> new ModelScopeSource(http, settings.modelScopeEndpoint());
            default -> throw new IllegalArgumentException("--source must be huggingface or modelscope, got '" + name + "'");
        };
    }
}
