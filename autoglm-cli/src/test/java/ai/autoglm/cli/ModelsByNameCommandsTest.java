package ai.autoglm.cli;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.hub.LocalHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pull}, {@code list}, {@code show}, {@code verify NAME}, {@code run --model NAME}, {@code rm} as real processes against a local hub. */
class ModelsByNameCommandsTest {
    @TempDir
    Path tmp;

    private static CliProcess.Result autoglm(Map<String, String> env, String... args) throws Exception {
        return CliProcess.run(env, args);
    }

    @Test
    void pullListShowVerifyRunRm() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        try (LocalHub hub = new LocalHub()) {
            hub.publish("test-org/tiny-qwen", repo, null);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", tmp.resolve("hf").toString());
            CliProcess.Result pull = autoglm(env, "pull", "test-org/tiny-qwen");
            assertThat(pull.code()).as(pull.text()).isZero();
            assertThat(pull.text()).contains("model.safetensors").contains("at commit");

            CliProcess.Result list = autoglm(env, "list");
            assertThat(list.text()).contains("test-org/tiny-qwen");
            CliProcess.Result show = autoglm(env, "show", "test-org/tiny-qwen");
            assertThat(show.code()).as(show.text()).isZero();
            assertThat(show.text()).contains(LocalHub.sha256(Files.readAllBytes(repo.resolve("model.safetensors"))));
            CliProcess.Result verify = autoglm(env, "verify", "test-org/tiny-qwen");
            assertThat(verify.code()).as(verify.text()).isZero();

            int before = hub.requests.get();
            Map<String, String> offline = new java.util.HashMap<>(env);
            offline.put("HF_HUB_OFFLINE", "1");
            CliProcess.Result run = autoglm(offline, "run", "--model", "test-org/tiny-qwen", "--prompt", "hi", "-n", "3", "--temperature", "0", "--quiet");
            assertThat(run.code()).as(run.text()).isZero();
            assertThat(hub.requests.get()).isEqualTo(before);

            CliProcess.Result unknown = autoglm(offline, "run", "--model", "glm4-9b-chat", "--prompt", "hi");
            assertThat(unknown.code()).isEqualTo(2);
            assertThat(unknown.text()).contains("glm-4-9b-chat");
            CliProcess.Result absent = autoglm(offline, "run", "--model", "test-org/absent", "--prompt", "hi");
            assertThat(absent.code()).isEqualTo(2);
            assertThat(absent.text()).contains("not in the cache");

            // a changed blob is found by verify
            Path blob = tmp.resolve("hf/hub/models--test-org--tiny-qwen/blobs").resolve(LocalHub.sha256(Files.readAllBytes(repo.resolve("model.safetensors"))));
            byte[] b = Files.readAllBytes(blob);
            b[64] ^= 1;
            Files.write(blob, b);
            CliProcess.Result bad = autoglm(env, "verify", "test-org/tiny-qwen");
            assertThat(bad.code()).as(bad.text()).isEqualTo(VerifyCommand.VERIFICATION_FAILED);
            assertThat(bad.text()).contains("model.safetensors");

            CliProcess.Result rm = autoglm(env, "rm", "test-org/tiny-qwen");
            assertThat(rm.code()).as(rm.text()).isZero();
            assertThat(tmp.resolve("hf/hub/models--test-org--tiny-qwen")).doesNotExist();
        }
    }
}
