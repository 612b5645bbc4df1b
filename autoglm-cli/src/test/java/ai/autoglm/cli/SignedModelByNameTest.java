package ai.autoglm.cli;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.hub.LocalHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16: a model signed with {@code autoglm sign} and published on a hub (its manifest is one of the repository's
 * files) stays verifiable after a pull into the Hugging Face cache, whose snapshot is a folder of symlinks into
 * blobs/: {@code verify --trust PUB NAME} and {@code serve --trust PUB --model NAME} (also with {@code --quantize},
 * which then quantizes the signed files in memory) accept it; another key is refused; a tampered blob is refused by
 * both. Real processes against the local hub.
 */
class SignedModelByNameTest {
    @TempDir
    Path tmp;

    private static CliProcess.Result autoglm(Map<String, String> env, String... args) throws Exception {
        return CliProcess.run(env, args);
    }

    @Test
    void aSignedModelStaysVerifiableAfterAPullAndATamperedBlobIsRefused() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        Files.writeString(repo.resolve("README.md"), "# signed\n"); // not a file a plain pull takes; signed, so pulled
        CliRunner.Result keygen = CliRunner.run("keygen", "--out", tmp.resolve("keys").toString());
        assertThat(keygen.exitCode()).as(keygen.err()).isZero();
        CliRunner.Result other = CliRunner.run("keygen", "--out", tmp.resolve("other").toString());
        assertThat(other.exitCode()).as(other.err()).isZero();
        Path pub = tmp.resolve("keys/autoglm-signing.pub");
        CliRunner.Result sign = CliRunner.run("sign", "--key", tmp.resolve("keys/autoglm-signing.key").toString(), repo.toString());
        assertThat(sign.exitCode()).as(sign.err()).isZero();
        assertThat(repo.resolve("autoglm-manifest.json")).isRegularFile();

        Path hf = tmp.resolve("hf");
        try (LocalHub hub = new LocalHub()) {
            hub.publish("test-org/signed-qwen", repo, null);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HOME", hf.toString());
            CliProcess.Result pull = autoglm(env, "pull", "test-org/signed-qwen");
            assertThat(pull.code()).as(pull.text()).isZero();
        }
        Path snapshot;
        try (Stream<Path> s = Files.list(hf.resolve("hub/models--test-org--signed-qwen/snapshots"))) {
            snapshot = s.findFirst().orElseThrow();
        }
        try (Stream<Path> s = Files.list(snapshot)) {
            List<Path> files = s.toList();
            assertThat(files).allMatch(Files::isSymbolicLink, "every snapshot file is a symlink into blobs/");
            assertThat(files).extracting(f -> f.getFileName().toString()).contains("README.md", "autoglm-manifest.json");
        }

        Map<String, String> offline = new HashMap<>(Map.of("HF_HOME", hf.toString(), "HF_HUB_OFFLINE", "1"));
        CliProcess.Result ok = autoglm(offline, "verify", "--trust", pub.toString(), "test-org/signed-qwen");
        assertThat(ok.code()).as(ok.text()).isZero();
        assertThat(ok.text()).contains("(trusted)");
        CliProcess.Result stranger = autoglm(offline, "verify", "--trust", tmp.resolve("other/autoglm-signing.pub").toString(), "test-org/signed-qwen");
        assertThat(stranger.code()).as(stranger.text()).isEqualTo(VerifyCommand.VERIFICATION_FAILED);
        assertThat(stranger.text()).contains("not a trusted key");

        // served twice: the load-time check (ManifestCheck hashing the mapped bytes) once refused this intact snapshot
        // intermittently under load; 18 runs under load passed at 66392b2 (session note), so it is asserted again
        for (int i = 0; i < 2; i++) {
            ServeProcess.Answer served = ServeProcess.serveAndAsk(offline, "test-org/signed-qwen", "--model", "test-org/signed-qwen",
                    "--trust", pub.toString(), "--quantize", "int4", "--port", "0", "--ctx", "128", "--home", tmp.resolve("home").toString());
            assertThat(served.status()).as(served.body() + "\n" + served.log()).isEqualTo(200);
            assertThat(served.log()).contains("signed by key").contains("quantized to q4_k in memory");
        }

        // one flipped byte in a blob (shared by the snapshot's symlink): verify refuses it
        Path blob = hf.resolve("hub/models--test-org--signed-qwen/blobs")
                .resolve(LocalHub.sha256(Files.readAllBytes(repo.resolve("model.safetensors"))));
        byte[] b = Files.readAllBytes(blob);
        b[b.length - 1] ^= 1;
        Files.write(blob, b);
        CliProcess.Result bad = autoglm(offline, "verify", "--trust", pub.toString(), "test-org/signed-qwen");
        assertThat(bad.code()).as(bad.text()).isEqualTo(VerifyCommand.VERIFICATION_FAILED);
        assertThat(bad.text()).contains("model.safetensors");
        ServeProcess.Answer refused = ServeProcess.runToExit(offline, "--model", "test-org/signed-qwen",
                "--trust", pub.toString(), "--quantize", "int4", "--port", "0", "--ctx", "128", "--home", tmp.resolve("home").toString());
        assertThat(refused.status()).as(refused.log()).isEqualTo(2);
        assertThat(refused.log()).contains("model.safetensors");
    }
}
