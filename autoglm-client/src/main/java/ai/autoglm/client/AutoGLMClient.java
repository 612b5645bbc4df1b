package ai.autoglm.client;

import com.fasterxml.jackson.core.JsonProcessingException;

import java.net.URI;
import java.util.List;

/**
 * The Java API of Open-AutoGLM: one interface whether the model runs in this JVM, on a server, or both.
 *
 * <pre>{@code
 * // in-process: the bundled model (or .model(Path.of("model.gguf"))), shared by every thread of the application
 * try (AutoGLMClient local = AutoGLMClient.inProcess().bundledModel().build()) { ... }
 * // remote: `autoglm serve` or any OpenAI-compatible server
 * AutoGLMClient remote = AutoGLMClient.remote().baseUrl("http://127.0.0.1:8000").apiKey(key).model("glm-4").build();
 * // hybrid: the server first, the local model when it is unreachable
 * AutoGLMClient hybrid = AutoGLMClient.hybrid().remote(remoteBuilder).local(localBuilder).build();
 * // the original description's shape
 * AutoGLMClient client = new AutoGLMClient.Builder().enableOfflineMode(true).setModelSize(ModelSize.LITE).build();
 * String summary = client.generate("请总结以下会议记录要点", meetingTranscript);
 * }</pre>
 *
 * Every result says which {@link Route} answered and why, with {@link Usage} and {@link Timing}. Implementations are
 * thread-safe; {@link #close()} releases the model's memory and the client's threads.
 */
public interface AutoGLMClient extends AutoCloseable {

    /** A client running a local model file or directory (GGUF or Hugging Face) in this JVM. */
    static InProcessBuilder inProcess() {
        return new InProcessBuilder();
    }

    /** A client of an {@code autoglm serve} or any OpenAI-compatible server. */
    static RemoteBuilder remote() {
        return new RemoteBuilder();
    }

    /** A client that asks the server first and falls back to a local model (see {@link HybridBuilder}). */
    static HybridBuilder hybrid() {
        return new HybridBuilder();
    }

    /** Answers a conversation. */
    ChatResponse chat(ChatRequest request);

    /** Answers as it generates; close the stream to cancel. */
    ChatStream stream(ChatRequest request);

    /** Embeds texts (needs an embedding model: a local one, or the server's). */
    Embeddings embed(List<String> texts);

    /** Tokens {@code text} is, for the model this client would use now (no chat template, no prefix tokens). */
    int countTokens(String text);

    /**
     * Answers with a value of {@code type} (a record): its JSON Schema is sent as {@code response_format} (the
     * answer is constrained to it, in-process and on {@code autoglm serve}), and the reply is parsed into it.
     */
    default <T> Structured<T> chat(ChatRequest request, Class<T> type) {
        ChatResponse r = chat(request.withResponseSchema(JsonSchemas.ofRecord(type)));
        if (r.content() == null) throw new AutoGLMException("the answer has no content to read as " + type.getSimpleName());
        try {
            return new Structured<>(Json.MAPPER.readValue(r.content(), type), r);
        } catch (JsonProcessingException e) {
            throw new AutoGLMException("the answer is not a " + type.getSimpleName() + " (finish reason " + r.finishReason() + "): "
                    + e.getOriginalMessage() + "; answer: " + r.content(), e);
        }
    }

    /** One user prompt, the answer's text. */
    default String generate(String prompt) {
        return chat(ChatRequest.of(prompt)).content();
    }

    /** An instruction applied to a text (the two in one user turn, instruction first), the answer's text. */
    default String generate(String instruction, String text) {
        return generate(instruction + "\n\n" + text);
    }

    /** Releases the model's memory and this client's threads; calls after it fail. */
    @Override
    void close();

    /**
     * The builder of the project's original description: {@code enableOfflineMode(true)} keeps working without the
     * network (a hybrid client when a server is given, else the local model alone), {@code setModelSize(LITE)} picks
     * the bundled model as the local one. Built on {@link #inProcess()}, {@link #remote()} and {@link #hybrid()}.
     */
    final class Builder {
        private boolean offline;
        private ModelSize size = ModelSize.LITE;
        private java.nio.file.Path localModel;
        private String serverUrl;
        private String apiKey;
        private String model;
        private boolean forceOffline = HybridBuilder.envOffline();

        /** Whether to keep working without the network, on the local model. */
        public Builder enableOfflineMode(boolean enable) {
            this.offline = enable;
            return this;
        }

        /** The local model by size ({@link ModelSize#LITE}: the bundled one). */
        public Builder setModelSize(ModelSize size) {
            this.size = java.util.Objects.requireNonNull(size);
            return this;
        }

        /** A local model file or directory instead of the one {@link #setModelSize} names. */
        public Builder setLocalModel(java.nio.file.Path path) {
            this.localModel = path;
            return this;
        }

        /** The server to use when online. */
        public Builder setServerUrl(String url) {
            this.serverUrl = url;
            return this;
        }

        public Builder setServerUrl(URI url) {
            return setServerUrl(url.toString());
        }

        public Builder setApiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** The server's model alias. */
        public Builder setModel(String alias) {
            this.model = alias;
            return this;
        }

        /**
         * With offline mode: never touch the network, even with a server URL (default: whether {@code AUTOGLM_OFFLINE}
         * or {@code HF_HUB_OFFLINE} is set to 1/true). A client without offline mode is remote only and ignores it.
         */
        public Builder forceOffline(boolean force) {
            this.forceOffline = force;
            return this;
        }

        public AutoGLMClient build() {
            InProcessBuilder local = inProcess();
            if (localModel != null) local.model(localModel); else size.apply(local);
            if (serverUrl == null) {
                if (!offline) {
                    throw new IllegalStateException("no server URL and offline mode off: call setServerUrl(...) or enableOfflineMode(true)");
                }
                return local.build();
            }
            RemoteBuilder remote = remote().baseUrl(serverUrl).apiKey(apiKey).model(model);
            if (!offline) return remote.build();
            return hybrid().remote(remote).local(local).forceOffline(forceOffline).build();
        }
    }
}
