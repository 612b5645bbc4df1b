package ai.autoglm.server;

import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.server.config.GatewayFilters;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.TrustConfig;
import ai.autoglm.server.security.ModelFiles;
import ai.autoglm.server.security.ModelManifest;
import ai.autoglm.server.security.ModelSignatures;
import ai.autoglm.server.security.ModelVerificationException;
import ai.autoglm.server.security.SigningKeys;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Signed models: manifests checked against OpenSSL and sha256sum (independent implementations of Ed25519 and
 * SHA-256), tampering of every kind caught, and a server with a trusted key refusing bad models while serving good ones.
 */
class SignedModelTest {
    @TempDir
    Path dir;

    static void flipOneByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x01);
        }
    }

    static String run(Path cwd, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void keysAndSignaturesAreWhatOpenSslAndSha256sumSay() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("keys"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.privateKey()))).isEqualTo("rw-------");
        Path hf = ModelFixtures.writeHf(ModelFixtures.llama(), dir.resolve("hf"));
        Files.createDirectories(hf.resolve("sub"));
        Files.writeString(hf.resolve("sub/notes.txt"), "extra file");
        Path manifest = ModelSignatures.sign(hf, SigningKeys.readPrivate(keys.privateKey()), SigningKeys.readPublic(keys.publicKey()));
        assertThat(manifest).isEqualTo(hf.resolve("autoglm-manifest.json"));

        // Every file is listed with the digest sha256sum computes.
        ModelManifest m = ModelManifest.read(manifest);
        try (var walk = Files.walk(hf)) {
            assertThat(m.files()).hasSize((int) walk.filter(Files::isRegularFile).count() - 1);
        }
        for (ModelFiles.Entry e : m.files()) {
            assertThat(run(hf, "sha256sum", e.path()).split(" ")[0]).as(e.path()).isEqualTo(e.sha256());
        }
        // OpenSSL verifies the signature over the signed bytes with the PEM public key.
        Files.write(dir.resolve("signed.bin"), m.signedBytes());
        Files.write(dir.resolve("sig.bin"), Base64.getDecoder().decode(m.signature()));
        assertThat(run(dir, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", keys.publicKey().toString(), "-rawin",
                "-in", "signed.bin", "-sigfile", "sig.bin")).contains("Signature Verified Successfully");

        // And a key pair made by OpenSSL signs models we verify.
        run(dir, "openssl", "genpkey", "-algorithm", "ed25519", "-out", "ossl.key");
        run(dir, "openssl", "pkey", "-in", "ossl.key", "-pubout", "-out", "ossl.pub");
        PublicKey osslPub = SigningKeys.readPublic(dir.resolve("ossl.pub"));
        ModelSignatures.sign(hf, SigningKeys.readPrivate(dir.resolve("ossl.key")), osslPub);
        assertThat(ModelSignatures.verify(hf, List.of(osslPub)).trusted()).isTrue();
    }

    @Test
    void everyKindOfTamperingIsCaught() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("keys"));
        PrivateKey priv = SigningKeys.readPrivate(keys.privateKey());
        PublicKey pub = SigningKeys.readPublic(keys.publicKey());
        PublicKey stranger = SigningKeys.readPublic(SigningKeys.generate(dir.resolve("other")).publicKey());
        Path hf = ModelFixtures.writeHf(ModelFixtures.llama(), dir.resolve("hf"));
        ModelSignatures.sign(hf, priv, pub);
        assertThat(ModelSignatures.verify(hf, List.of(pub)).files()).isNotEmpty();

        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(stranger)))
                .isInstanceOf(ModelVerificationException.class).hasMessageContaining("not a trusted key");

        Path config = hf.resolve("config.json");
        byte[] original = Files.readAllBytes(config);
        flipOneByte(config, original.length / 2);
        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(pub))).hasMessageContaining("config.json changed since it was signed");
        Files.write(config, original);

        Files.writeString(hf.resolve("added.py"), "print('hi')");
        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(pub))).hasMessageContaining("added.py was added");
        Files.delete(hf.resolve("added.py"));

        Files.move(config, dir.resolve("config.json"));
        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(pub))).hasMessageContaining("config.json listed in the manifest is missing");
        Files.move(dir.resolve("config.json"), config);

        // Editing the manifest itself (a new digest for a changed file) breaks the signature.
        Path manifest = hf.resolve(ModelFiles.DIRECTORY_MANIFEST);
        String text = Files.readString(manifest);
        ModelFiles.Entry first = ModelManifest.read(manifest).files().getFirst();
        Files.writeString(manifest, text.replace(first.sha256(), "0".repeat(64)));
        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(pub))).hasMessageContaining("signature does not match");
        Files.writeString(manifest, text);
        assertThat(ModelSignatures.verify(hf, List.of(pub)).trusted()).isTrue();

        Files.delete(manifest);
        assertThatThrownBy(() -> ModelSignatures.verify(hf, List.of(pub))).hasMessageContaining("no signature manifest");
    }

    @Test
    void serverWithTrustedKeysRefusesBadModelsAndServesTheOthers() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("keys"));
        SigningKeys.Written strangerKeys = SigningKeys.generate(dir.resolve("stranger"));
        PrivateKey priv = SigningKeys.readPrivate(keys.privateKey());
        PublicKey pub = SigningKeys.readPublic(keys.publicKey());
        Path source = TestServer.llamaFile(dir);
        Path good = copy(source, "good.gguf");
        Path flipped = copy(source, "flipped.gguf");
        Path untrusted = copy(source, "untrusted.gguf");
        Path unsigned = copy(source, "unsigned.gguf");
        ModelSignatures.sign(good, priv, pub);
        ModelSignatures.sign(flipped, priv, pub);
        flipOneByte(flipped, Files.size(flipped) - 1000); // inside the weights: it would still load unchecked
        ModelSignatures.sign(untrusted, SigningKeys.readPrivate(strangerKeys.privateKey()), SigningKeys.readPublic(strangerKeys.publicKey()));

        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("good", good, 128, 1, null, null),
                new ModelSpec("flipped", flipped, 128, 1, null, null),
                new ModelSpec("untrusted", untrusted, 128, 1, null, null),
                new ModelSpec("unsigned", unsigned, 128, 1, null, null)),
                GatewayFilters.NONE.withTrust(new TrustConfig(List.of(keys.publicKey()))));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            assertThat(complete(s, "good").statusCode()).isEqualTo(200);
            assertRefused(complete(s, "flipped"), "flipped.gguf changed since it was signed");
            assertRefused(complete(s, "flipped"), "flipped.gguf changed since it was signed"); // still, without a reload
            assertRefused(complete(s, "untrusted"), "not a trusted key");
            assertRefused(complete(s, "unsigned"), "no signature manifest");
            assertThat(complete(s, "good").statusCode()).isEqualTo(200);
            assertThat(s.server.registry().isLoaded("flipped")).isFalse();
        }
    }

    /**
     * A signed Hugging Face directory quantized in memory at load (`quantize:`) is checked on the bytes the loader
     * maps, like any other, and served.
     */
    @Test
    void aSignedDirectoryQuantizedAtLoadIsServed() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("qkeys"));
        PrivateKey priv = SigningKeys.readPrivate(keys.privateKey());
        PublicKey pub = SigningKeys.readPublic(keys.publicKey());
        Path good = ModelFixtures.writeHf(ModelFixtures.llama(), dir.resolve("qgood"));
        ModelSignatures.sign(good, priv, pub);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("q8", good, 128, 1, null, null, null, "q8_0")),
                GatewayFilters.NONE.withTrust(new TrustConfig(List.of(keys.publicKey()))));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            HttpResponse<String> r = complete(s, "q8");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
    }

    @Test
    void aSignedDirectoryOfSymlinksIsServed() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("skeys"));
        Path good = ModelFixtures.writeHf(ModelFixtures.llama(), dir.resolve("sgood"));
        ModelSignatures.sign(good, SigningKeys.readPrivate(keys.privateKey()), SigningKeys.readPublic(keys.publicKey()));
        Path blobs = Files.createDirectories(dir.resolve("cache/blobs"));
        Path snap = Files.createDirectories(dir.resolve("cache/snapshots/abc"));
        try (var files = Files.list(good)) {
            for (Path f : files.toList()) {
                Path blob = Files.copy(f, blobs.resolve(f.getFileName() + ".blob"));
                Files.createSymbolicLink(snap.resolve(f.getFileName()), Path.of("../../blobs").resolve(blob.getFileName()));
            }
        }
        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("links", snap, 128, 1, null, null)),
                GatewayFilters.NONE.withTrust(new TrustConfig(List.of(keys.publicKey()))));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            HttpResponse<String> r = complete(s, "links");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
    }

    /** A PEFT adapter on layer 0's q_proj of {@code model}, with large enough values to change the answer. */
    static Path adapter(Path model, Path dir) {
        int dim, qDim;
        try (LanguageModel m = ModelLoader.load(model)) {
            dim = m.config().dim();
            qDim = m.config().qDim();
        }
        int r = 2;
        float[] a = new float[r * dim], b = new float[qDim * r];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        new PeftAdapter(LoraConfig.of(r, 2 * r, List.of("q_proj"), null),
                java.util.Map.of("model.layers.0.self_attn.q_proj", new PeftAdapter.Module(a, b, r, dim, qDim))).write(dir);
        return dir;
    }

    /** Issue 15 item 1: a LoRA adapter changes the weights, so under --trust it must be signed by a trusted key too. */
    @Test
    void anUnsignedOrUntrustedLoraAdapterIsRefusedAndASignedOneServes() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("keys"));
        SigningKeys.Written strangerKeys = SigningKeys.generate(dir.resolve("stranger"));
        PrivateKey priv = SigningKeys.readPrivate(keys.privateKey());
        PublicKey pub = SigningKeys.readPublic(keys.publicKey());
        Path model = copy(TestServer.llamaFile(dir), "base.gguf");
        ModelSignatures.sign(model, priv, pub);
        Path lora = adapter(model, dir.resolve("lora"));

        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("base", model, 128, 1, null, null),
                new ModelSpec("tuned", model, 128, 1, null, null, lora)),
                GatewayFilters.NONE.withTrust(new TrustConfig(List.of(keys.publicKey()))));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            assertRefused(complete(s, "tuned"), "LoRA adapter lora: no signature manifest");
            assertThat(complete(s, "base").statusCode()).isEqualTo(200); // the others keep serving

            ModelSignatures.sign(lora, SigningKeys.readPrivate(strangerKeys.privateKey()), SigningKeys.readPublic(strangerKeys.publicKey()));
            assertRefused(complete(s, "tuned"), "not a trusted key");

            ModelSignatures.sign(lora, priv, pub);
            HttpResponse<String> tuned = complete(s, "tuned");
            assertThat(tuned.statusCode()).as(tuned.body()).isEqualTo(200);
            assertThat(s.server.registry().isLoaded("tuned")).isTrue();
        }

        // A signed adapter whose weights were edited afterwards is refused when the model loads.
        flipOneByte(lora.resolve(PeftAdapter.WEIGHTS_FILE), Files.size(lora.resolve(PeftAdapter.WEIGHTS_FILE)) - 3);
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            assertRefused(complete(s, "tuned"), "adapter_model.safetensors changed since it was signed");
            assertThat(complete(s, "base").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Issue 15 item 2: the check-then-use window. A same-size file renamed over a verified one after the manifest check
     * and before the load (made deterministic with the registry's hook) is refused, because the hashes are taken on
     * the bytes the loader maps and reads, for a GGUF file and for an HF directory's config.json alike.
     */
    @Test
    void aFileRenamedOverAVerifiedModelBeforeItLoadsIsNotServed() throws Exception {
        SigningKeys.Written keys = SigningKeys.generate(dir.resolve("keys"));
        PrivateKey priv = SigningKeys.readPrivate(keys.privateKey());
        PublicKey pub = SigningKeys.readPublic(keys.publicKey());
        Path gguf = copy(TestServer.llamaFile(dir), "signed.gguf");
        ModelSignatures.sign(gguf, priv, pub);
        Path evil = copy(gguf, "evil.gguf");
        flipOneByte(evil, Files.size(evil) - 1000); // same size, other weights
        Path original = copy(gguf, "original.gguf");

        Path hf = ModelFixtures.writeHf(ModelFixtures.llama(), dir.resolve("hf"));
        ModelSignatures.sign(hf, priv, pub);
        String cfg = Files.readString(hf.resolve("config.json"));
        // rms_norm_eps with another first digit: the same size, another model
        int at = cfg.indexOf("rms_norm_eps");
        while (!Character.isDigit(cfg.charAt(at)) || cfg.charAt(at) == '0') at++;
        String evilCfg = cfg.substring(0, at) + (cfg.charAt(at) == '9' ? '8' : '9') + cfg.substring(at + 1);
        assertThat(evilCfg).isNotEqualTo(cfg).hasSameSizeAs(cfg);
        Path evilCfgFile = Files.writeString(dir.resolve("evil-config.json"), evilCfg);

        ServerConfig config = new ServerConfig("127.0.0.1", 0, 64 * 1024, 8, Duration.ofMinutes(2), 256, List.of(
                new ModelSpec("gguf", gguf, 128, 1, null, null),
                new ModelSpec("hf", hf, 128, 1, null, null)),
                GatewayFilters.NONE.withTrust(new TrustConfig(List.of(keys.publicKey()))));
        try (TestServer s = TestServer.client(AutoglmServer.start(config))) {
            java.util.concurrent.atomic.AtomicInteger swaps = new java.util.concurrent.atomic.AtomicInteger();
            s.server.registry().afterVerification(alias -> {
                try {
                    if (alias.equals("gguf")) Files.move(evil, gguf, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    else Files.move(evilCfgFile, hf.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    swaps.incrementAndGet();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertRefused(complete(s, "gguf"), "signed.gguf changed since it was signed (SHA-256 of the bytes loaded differs)");
            assertRefused(complete(s, "hf"), "config.json changed since it was signed (SHA-256 of the bytes loaded differs)");
            assertThat(swaps.get()).isEqualTo(2);
            assertThat(s.server.registry().isLoaded("gguf")).isFalse();
            assertThat(s.server.registry().isLoaded("hf")).isFalse();

            // The refusal stands while the swapped-in file stays; the signed bytes renamed back serve again.
            s.server.registry().afterVerification(alias -> { });
            assertRefused(complete(s, "gguf"), "signed.gguf changed since it was signed");
            Files.move(original, gguf, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(hf.resolve("config.json"), cfg);
            HttpResponse<String> again = complete(s, "gguf");
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            again = complete(s, "hf");
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        }
    }

    private Path copy(Path source, String name) throws IOException {
        return Files.copy(source, dir.resolve(name));
    }

    static HttpResponse<String> complete(TestServer s, String model) {
        return s.post("/v1/completions", "{\"model\":\"" + model + "\",\"prompt\":\"hello\",\"max_tokens\":2}");
    }

    void assertRefused(HttpResponse<String> r, String reason) {
        assertThat(r.statusCode()).isEqualTo(503);
        JsonNode err = TestServer.json(r).get("error");
        assertThat(err.get("code").asText()).isEqualTo("model_verification_failed");
        assertThat(err.get("message").asText()).contains(reason).doesNotContain(dir.toString());
    }
}
