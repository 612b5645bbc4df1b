package ai.autoglm.client;

import ai.autoglm.core.hub.HubSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code inProcess().model(NAME)}: a model by name found in a Hugging Face cache laid out as huggingface_hub writes
 * it (blob named by its SHA-256, a relative symlink in the snapshot, refs/main), offline, so no network is needed or
 * allowed; the answer equals the same file opened by path. A name missing from an offline cache is
 * {@link ModelFileNotFoundException} naming it.
 */
class ModelByNameTest {
    @TempDir
    Path tmp;

    @Test
    void aNameInTheHuggingFaceCacheRunsLikeItsFile() throws Exception {
        Path gguf = BundledModel.path();
        byte[] bytes = Files.readAllBytes(gguf);
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = tmp.resolve("hf/hub/models--autoglm--default-GGUF");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        String etag = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        Files.write(repo.resolve("blobs").resolve(etag), bytes);
        Files.createSymbolicLink(snap.resolve("model.gguf"), Path.of("../../blobs/" + etag));
        HubSettings offline = HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1"));

        ChatRequest ask = ChatRequest.of("床前明月光").withOptions(GenerationOptions.greedy().withMaxTokens(12));
        String byPath;
        try (AutoGLMClient c = AutoGLMClient.inProcess().model(gguf).slots(1).build()) {
            byPath = c.chat(ask).content();
        }
        try (AutoGLMClient c = AutoGLMClient.inProcess().hubSettings(offline).model("autoglm/default-GGUF").slots(1).build()) {
            assertThat(c.chat(ask).content()).isEqualTo(byPath);
        }
        assertThatThrownBy(() -> AutoGLMClient.inProcess().hubSettings(offline).model("autoglm/not-there").build())
                .isInstanceOf(ModelFileNotFoundException.class).hasMessageContaining("autoglm/not-there").hasMessageContaining("not in the cache");
    }
}
