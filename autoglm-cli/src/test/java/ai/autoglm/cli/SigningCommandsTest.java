package ai.autoglm.cli;

import ai.autoglm.server.config.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code autoglm keygen}, {@code sign} and {@code verify} end to end, and {@code serve --trust} reaching the config. */
class SigningCommandsTest {
    @TempDir
    Path dir;

    @Test
    void keygenSignVerifyAndATamperedFile() throws Exception {
        Path model = dir.resolve("model.gguf");
        byte[] bytes = new byte[300_000];
        new Random(1).nextBytes(bytes);
        Files.write(model, bytes);

        CliRunner.Result keygen = CliRunner.run("keygen", "--out", dir.resolve("keys").toString());
        assertThat(keygen.exitCode()).as(keygen.err()).isZero();
        Path key = dir.resolve("keys/autoglm-signing.key");
        Path pub = dir.resolve("keys/autoglm-signing.pub");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(pub)).startsWith("-----BEGIN PUBLIC KEY-----");
        assertThat(CliRunner.run("keygen", "--out", dir.resolve("keys").toString()).exitCode()).isEqualTo(2); // never overwrites

        CliRunner.Result sign = CliRunner.run("sign", "--key", key.toString(), model.toString());
        assertThat(sign.exitCode()).as(sign.err()).isZero();
        assertThat(dir.resolve("model.gguf.manifest.json")).exists();

        CliRunner.Result ok = CliRunner.run("verify", "--trust", pub.toString(), model.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("(trusted)");

        CliRunner.run("keygen", "--out", dir.resolve("other").toString());
        CliRunner.Result stranger = CliRunner.run("verify", "--trust", dir.resolve("other/autoglm-signing.pub").toString(), model.toString());
        assertThat(stranger.exitCode()).isEqualTo(VerifyCommand.VERIFICATION_FAILED);
        assertThat(stranger.err()).contains("not a trusted key");

        try (RandomAccessFile f = new RandomAccessFile(model.toFile(), "rw")) {
            f.seek(150_000);
            int b = f.read();
            f.seek(150_000);
            f.write(b ^ 0x80);
        }
        CliRunner.Result bad = CliRunner.run("verify", "--trust", pub.toString(), model.toString());
        assertThat(bad.exitCode()).isEqualTo(VerifyCommand.VERIFICATION_FAILED);
        assertThat(bad.err()).contains("model.gguf changed since it was signed");
    }

    /** A LoRA adapter directory is signed like a model directory (serve --trust requires it; see SignedModelTest). */
    @Test
    void signsAndVerifiesALoraAdapterDirectory() {
        Path adapter = dir.resolve("adapter");
        float[] a = new float[2 * 8], b = new float[8 * 2];
        java.util.Arrays.fill(a, 0.5f);
        new ai.autoglm.core.format.peft.PeftAdapter(ai.autoglm.core.format.peft.LoraConfig.of(2, 4, java.util.List.of("q_proj"), null),
                java.util.Map.of("model.layers.0.self_attn.q_proj", new ai.autoglm.core.format.peft.PeftAdapter.Module(a, b, 2, 8, 8))).write(adapter);
        assertThat(CliRunner.run("keygen", "--out", dir.resolve("keys").toString()).exitCode()).isZero();
        CliRunner.Result sign = CliRunner.run("sign", "--key", dir.resolve("keys/autoglm-signing.key").toString(), adapter.toString());
        assertThat(sign.exitCode()).as(sign.err()).isZero();
        assertThat(adapter.resolve("autoglm-manifest.json")).exists();
        CliRunner.Result ok = CliRunner.run("verify", "--trust", dir.resolve("keys/autoglm-signing.pub").toString(), adapter.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("ok: 2 file(s) unchanged").contains("(trusted)");
    }

    @Test
    void serveTrustFlagAndTheTrustStoreAddToTheConfigsKeys() throws Exception {
        Path cfg = dir.resolve("autoglm.yaml");
        Files.writeString(cfg, """
                models:
                  - alias: m
                    path: m.gguf
                cache:
                  ttl: 5m
                pii:
                  input: reject
                  kinds: [email, cn-id]
                trust:
                  keys: [a.pub]
                """);
        ServeCommand serve = new ServeCommand();
        picocli.CommandLine cli = new picocli.CommandLine(serve);
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve("trusted-keys"));
        Files.writeString(home.resolve("trusted-keys/c.pub"), "not read until a model loads");
        Files.writeString(home.resolve("trusted-keys/notes.txt"), "not a key");
        cli.parseArgs("--config", cfg.toString(), "--trust", "/keys/b.pub", "--home", home.toString());
        ServerConfig c = serve.resolve();
        // the config's keys, the flag's, then the data directory's trust store
        assertThat(c.filters().trust().keys()).containsExactly(dir.resolve("a.pub"), Path.of("/keys/b.pub"), home.resolve("trusted-keys/c.pub"));
        assertThat(c.filters().cache().ttl()).hasMinutes(5);
        assertThat(c.filters().pii().kinds()).containsExactlyInAnyOrder("email", "cn-id");
    }
}
