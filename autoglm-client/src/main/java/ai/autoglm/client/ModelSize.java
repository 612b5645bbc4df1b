package ai.autoglm.client;

/** The local model by size, for {@link AutoGLMClient.Builder#setModelSize}. */
public enum ModelSize {
    /** The small model bundled with the project ({@code models/default/model.gguf}, see {@link BundledModel}). */
    LITE;

    void apply(InProcessBuilder b) {
        switch (this) {
            case LITE -> b.bundledModel();
        }
    }
}
