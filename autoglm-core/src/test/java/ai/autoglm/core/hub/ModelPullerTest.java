package ai.autoglm.core.hub;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pulls from a local hub ({@link LocalHub}): layout, resume, hash refusal, locks, gating, offline, foreign caches. */
class ModelPullerTest {
    private static final String REPO = "test-org/tiny-qwen";
    @TempDir
    Path tmp;
    LocalHub hub;
    Path published;
    Map<String, byte[]> files;

    @BeforeEach
    void setUp() throws IOException {
        hub = new LocalHub();
        published = tmp.resolve("published");
        HfFixtures.write(published, HfFixtures.qwen2());
        Files.writeString(published.resolve("README.md"), "# tiny qwen\n");
        Files.write(published.resolve("pytorch_model.bin"), new byte[4096]); // must not be fetched: we read safetensors
        hub.publish(REPO, published, null);
        files = new java.util.TreeMap<>();
        try (var s = Files.list(published)) {
            for (Path p : s.toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    private HubSettings settings(URI endpoint, String token) {
        return new HubSettings(endpoint, endpoint, token, tmp.resolve("hf/hub"), tmp.resolve("hf/autoglm"), false, 4, 5);
    }

    private ModelPuller puller() {
        return new ModelPuller(settings(hub.endpoint(), null));
    }

    private String commit() {
        return hub.publish(REPO, files, null).commit();
    }

    @Test
    void freshPullWritesHuggingFaceCacheLayout() throws Exception {
        PulledModel m = puller().pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
        Path repoDir = tmp.resolve("hf/hub/models--test-org--tiny-qwen");
        assertThat(m.commit()).isEqualTo(commit());
        assertThat(Files.readString(repoDir.resolve("refs/main"))).isEqualTo(m.commit());
        assertThat(m.files()).containsExactlyInAnyOrder("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");
        for (String f : m.files()) {
            Path link = repoDir.resolve("snapshots").resolve(m.commit()).resolve(f);
            assertThat(Files.isSymbolicLink(link)).as(f).isTrue();
            // the blob is named by the sha256 for LFS files and by git's blob sha1 otherwise, as the hub publishes them
            String etag = LocalHub.isLfs(f) ? LocalHub.sha256(files.get(f)) : LocalHub.gitSha1(files.get(f));
            assertThat(Files.readSymbolicLink(link).toString()).isEqualTo("../../blobs/" + etag);
            assertThat(Files.readAllBytes(link)).as(f).isEqualTo(files.get(f));
        }
        assertThat(Files.exists(repoDir.resolve("snapshots").resolve(m.commit()).resolve("pytorch_model.bin"))).isFalse();
        try (var s = Files.list(repoDir.resolve("blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".incomplete"))).isEmpty();
        }
        // the snapshot is a Hugging Face directory the loader reads as is
        try (LanguageModel lm = ModelLoader.load(m.snapshot())) {
            assertThat(lm.config().vocabSize()).isPositive();
        }
    }

    @Test
    void gitBlobIdsAgreeWithGit() throws Exception {
        // the independent reference for the 40-hex etags: git itself
        Path f = published.resolve("config.json");
        Process p;
        try {
            p = new ProcessBuilder("git", "hash-object", f.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            if ("true".equals(System.getenv("CI"))) throw new AssertionError("git is needed as the reference for blob ids", e);
            org.junit.jupiter.api.Assumptions.abort("git not installed");
            return;
        }
        String git = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(p.waitFor()).isZero();
        assertThat(FileFetcher.hashFile(f, 40)).isEqualTo(git).isEqualTo(LocalHub.gitSha1(files.get("config.json")));
    }

    @Test
    void droppedConnectionLeavesPartialThatTheNextPullResumes() throws Exception {
        byte[] weights = files.get("model.safetensors");
        String sha = LocalHub.sha256(weights);
        long cut = weights.length / 2 + 7;
        hub.dropOnceAfter.put(sha, cut);
        ModelPuller oneTry = new ModelPuller(settings(hub.endpoint(), null).withMaxAttempts(1));
        assertThatThrownBy(() -> oneTry.pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE))
                .isInstanceOf(HubException.class).hasMessageContaining("partial file");
        Path repoDir = tmp.resolve("hf/hub/models--test-org--tiny-qwen");
        Path partial = repoDir.resolve("blobs/" + sha + ".incomplete");
        assertThat(Files.size(partial)).isPositive().isLessThan(weights.length);
        assertThat(repoDir.resolve("snapshots").resolve(commit()).resolve("model.safetensors")).doesNotExist();
        assertThat(repoDir.resolve("refs/main")).doesNotExist(); // an incomplete model is never found through its ref

        PulledModel m = puller().pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
        assertThat(Files.readAllBytes(m.snapshot().resolve("model.safetensors"))).isEqualTo(weights);
        long twice = hub.served(weights) - weights.length;
        assertThat(twice).as("bytes fetched twice").isBetween(0L, (long) FileFetcher.CHUNK);
    }

    @Test
    void droppedConnectionIsResumedWithinOnePull() throws Exception {
        byte[] weights = files.get("model.safetensors");
        hub.dropOnceAfter.put(LocalHub.sha256(weights), (long) weights.length / 3);
        PulledModel m = puller().pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
        assertThat(Files.readAllBytes(m.snapshot().resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(hub.served(weights) - weights.length).isBetween(0L, (long) FileFetcher.CHUNK);
    }

    @Test
    void corruptedByteIsRefusedAndNothingAppears() {
        byte[] weights = files.get("model.safetensors");
        String sha = LocalHub.sha256(weights);
        hub.corrupt.add(sha);
        assertThatThrownBy(() -> puller().pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE))
                .isInstanceOf(HubException.HashMismatch.class).hasMessageContaining(sha);
        Path repoDir = tmp.resolve("hf/hub/models--test-org--tiny-qwen");
        assertThat(repoDir.resolve("snapshots").resolve(commit()).resolve("model.safetensors")).doesNotExist();
        assertThat(repoDir.resolve("blobs/" + sha)).doesNotExist();
        assertThat(repoDir.resolve("blobs/" + sha + ".incomplete")).doesNotExist();
        assertThat(repoDir.resolve("refs/main")).doesNotExist();
    }

    @Test
    void twoConcurrentPullsDownloadEachBlobOnce() throws Exception {
        hub.writeDelayMillis = 2;
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            Callable<PulledModel> pull = () -> new ModelPuller(settings(hub.endpoint(), null)).pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
            List<Future<PulledModel>> fs = List.of(ex.submit(pull), ex.submit(pull));
            for (Future<PulledModel> f : fs) {
                PulledModel m = f.get();
                assertThat(Files.readAllBytes(m.snapshot().resolve("model.safetensors"))).isEqualTo(files.get("model.safetensors"));
            }
        } finally {
            ex.shutdownNow();
        }
        assertThat(hub.served(files.get("model.safetensors"))).isEqualTo(files.get("model.safetensors").length);
    }

    @Test
    void gatedModelNeedsToken() throws Exception {
        hub.publish("gated-org/secret", published, "hf_test_token");
        ModelRef ref = ModelRef.parse("gated-org/secret");
        assertThatThrownBy(() -> new ModelPuller(settings(hub.endpoint(), null)).pull(ref, "huggingface", PullListener.NONE))
                .isInstanceOf(HubException.AccessDenied.class).hasMessageContaining("HF_TOKEN");
        assertThatThrownBy(() -> new ModelPuller(settings(hub.endpoint(), "hf_wrong")).pull(ref, "huggingface", PullListener.NONE))
                .isInstanceOf(HubException.AccessDenied.class).hasMessageContaining("no access");
        PulledModel m = new ModelPuller(settings(hub.endpoint(), "hf_test_token")).pull(ref, "huggingface", PullListener.NONE);
        assertThat(Files.readAllBytes(m.snapshot().resolve("model.safetensors"))).isEqualTo(files.get("model.safetensors"));
        assertThat(hub.cdnRequestsWithAuth.get()).as("the token is not sent to the CDN host").isZero();
    }

    /** A port that only counts connections: proof that no socket was opened. */
    static final class CountingPort implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();

        CountingPort() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + server.getLocalPort());
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void offlineUsesTheCacheAndOpensNoSocket() throws Exception {
        puller().pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
        try (CountingPort port = new CountingPort()) {
            ModelPuller offline = new ModelPuller(settings(port.uri(), null).withOffline(true));
            PulledModel m = offline.resolve(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
            assertThat(Files.readAllBytes(m.snapshot().resolve("model.safetensors"))).isEqualTo(files.get("model.safetensors"));
            assertThatThrownBy(() -> offline.resolve(ModelRef.parse("test-org/absent"), "huggingface", PullListener.NONE))
                    .isInstanceOf(HubException.NotCached.class).hasMessageContaining("not in the cache").hasMessageContaining("HF_HUB_OFFLINE");
            // online, a complete cached model is also used without asking the hub (a second start opens no connection)
            new ModelPuller(settings(port.uri(), null)).resolve(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
            assertThat(port.accepted.get()).isZero();
        }
    }

    @Test
    void cacheWrittenByPythonLayoutIsUsedAsIs() throws Exception {
        // built by hand the way huggingface_hub's hf_hub_download leaves it: blobs named by etag, relative symlinks, refs/main
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repoDir = tmp.resolve("hf/hub/models--Qwen--Qwen2.5-0.5B-Instruct");
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        Files.createDirectories(snap);
        Files.createDirectories(repoDir.resolve("blobs"));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), commit);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
            String etag = LocalHub.isLfs(f) ? LocalHub.sha256(files.get(f)) : LocalHub.gitSha1(files.get(f));
            Files.write(repoDir.resolve("blobs").resolve(etag), files.get(f));
            Files.createSymbolicLink(snap.resolve(f), Path.of("../../blobs/" + etag));
        }
        try (CountingPort port = new CountingPort()) {
            ModelPuller p = new ModelPuller(settings(port.uri(), null));
            PulledModel m = p.resolve(ModelNames.parse("qwen2.5-0.5b-instruct", "huggingface"), "huggingface", PullListener.NONE);
            assertThat(m.snapshot()).isEqualTo(snap);
            assertThat(m.commit()).isEqualTo(commit);
            assertThat(CacheVerifier.verify(m, null)).allMatch(CacheVerifier.Check::ok).hasSize(4);
            try (LanguageModel lm = ModelLoader.load(m.modelPath())) {
                assertThat(lm.config().vocabSize()).isPositive();
            }
            assertThat(port.accepted.get()).isZero();
        }
    }

    @Test
    void verifyFindsAChangedBlob() throws Exception {
        ModelPuller p = puller();
        PulledModel m = p.pull(ModelRef.parse(REPO), "huggingface", PullListener.NONE);
        assertThat(CacheVerifier.verify(m, p.record(m.ref(), m.commit()).orElseThrow())).allMatch(CacheVerifier.Check::ok);
        Path blob = m.snapshot().resolve("model.safetensors").toRealPath();
        byte[] b = Files.readAllBytes(blob);
        b[100] ^= 1;
        Files.write(blob, b);
        assertThat(CacheVerifier.verify(m, null)).filteredOn(c -> !c.ok()).extracting(CacheVerifier.Check::file).containsExactly("model.safetensors");
    }

    @Test
    void modelScopeSourceFillsTheSameLayout() throws Exception {
        PulledModel m = puller().pull(ModelRef.parse(REPO), "modelscope", PullListener.NONE);
        assertThat(m.source()).isEqualTo("modelscope");
        for (String f : m.files()) {
            assertThat(Files.readSymbolicLink(m.snapshot().resolve(f)).toString()).isEqualTo("../../blobs/" + LocalHub.sha256(files.get(f)));
            assertThat(Files.readAllBytes(m.snapshot().resolve(f))).isEqualTo(files.get(f));
        }
    }

    @Test
    void ggufRepositoryPicksTheQuantAskedFor() throws Exception {
        byte[] q4 = Files.readAllBytes(Path.of(System.getProperty("user.dir")).getParent().resolve("models/default/model.gguf"));
        hub.publish("test-org/tiny-GGUF", Map.of("tiny-q4_k_m.gguf", q4, "tiny-q8_0.gguf", new byte[]{1, 2, 3}, "README.md", "x".getBytes()), null);
        PulledModel m = puller().pull(ModelRef.parse("test-org/tiny-GGUF:Q4_K_M"), "huggingface", PullListener.NONE);
        assertThat(m.files()).containsExactly("tiny-q4_k_m.gguf");
        assertThat(m.modelPath().getFileName().toString()).isEqualTo("tiny-q4_k_m.gguf");
        assertThatThrownBy(() -> puller().pull(ModelRef.parse("test-org/tiny-GGUF:Q5_K_S"), "huggingface", PullListener.NONE))
                .hasMessageContaining("Q4_K_M").hasMessageContaining("Q8_0");
    }

    @Test
    void derivedFileIsMadeOnce() throws Exception {
        DerivedStore store = new DerivedStore(tmp.resolve("store"));
        AtomicInteger made = new AtomicInteger();
        ModelRef ref = ModelRef.parse(REPO);
        String c = "0123456789abcdef0123456789abcdef01234567";
        for (int i = 0; i < 2; i++) {
            Path p = store.getOrCreate(ref, c, "q4_0", out -> {
                made.incrementAndGet();
                Files.writeString(out, "gguf");
            });
            assertThat(p).hasContent("gguf");
        }
        assertThat(made.get()).isEqualTo(1);
        assertThatThrownBy(() -> store.getOrCreate(ref, c, "f16", out -> {
            throw new IOException("boom");
        })).hasMessage("boom");
        assertThat(store.has(ref, c, "f16")).isFalse();
    }

    @Test
    void unknownNamesGetTheClosestKnownNames() {
        assertThatThrownBy(() -> ModelNames.parse("glm4-9b-chat", "huggingface")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("glm-4-9b-chat");
        assertThat(ModelCatalog.builtIn().closest("qwen-0.5b", 3)).contains("qwen2.5-0.5b-instruct");
        assertThat(ModelNames.parse("glm-4-9b-chat", "modelscope").repo()).isEqualTo("ZhipuAI/glm-4-9b-chat");
        assertThat(ModelNames.parse("THUDM/glm-4-9b-chat@abc:Q4_K_M", "huggingface")).isEqualTo(new ModelRef("THUDM/glm-4-9b-chat", "abc", "Q4_K_M"));
        assertThat(FileSelection.quantOf("qwen2.5-0.5b-instruct-q4_k_m.gguf")).isEqualTo("Q4_K_M");
        assertThat(FileSelection.quantOf("Model-Q8_0-00001-of-00002.gguf")).isEqualTo("Q8_0");
    }

    @Test
    void settingsFollowHuggingFaceVariables() {
        HubSettings s = HubSettings.fromEnvironment(Map.of("HF_HOME", "/x/hf", "HF_ENDPOINT", "https://hf-mirror.com/", "HF_TOKEN", "hf_a", "HF_HUB_OFFLINE", "yes"));
        assertThat(s.hubCache()).isEqualTo(Path.of("/x/hf/hub"));
        assertThat(s.endpoint()).isEqualTo(URI.create("https://hf-mirror.com"));
        assertThat(s.offline()).isTrue();
        assertThat(s.token()).isEqualTo("hf_a");
        assertThat(s.toString()).doesNotContain("hf_a");
        assertThat(HubSettings.fromEnvironment(Map.of("HF_HOME", "/x/hf", "HF_HUB_OFFLINE", "0")).offline()).isFalse();
        var bad = new ArrayList<String>();
        assertThatThrownBy(() -> ModelRef.parse("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThat(bad).isEmpty();
    }
}
