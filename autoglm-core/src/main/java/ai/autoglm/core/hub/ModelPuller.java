package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Pulls a model into the Hugging Face cache ({@link HfCache}) and finds it there again without the network.
 * <p>
 * A pull lists the repository at the revision, selects the files the model needs ({@link FileSelection}), checks the
 * disk has room for what is missing, then fetches up to {@link HubSettings#parallelism()} files at once. Each blob is
 * written under {@code .incomplete}, hashed against the hub's ETag (SHA-256 for LFS files) and only then renamed to
 * its blob name and linked into {@code snapshots/<commit>}; a lock file per blob (file_download.py
 * {@code with FileLock(lock_path)}; here {@link FileChannel#lock()}, plus an in-process lock since a JVM cannot hold
 * two locks on one file) keeps two processes from writing one blob. The ref (refs/main) is written last, so a model
 * found through a ref offline is always complete. What was pulled and its hashes are recorded in our store
 * ({@code <store>/models--org--name/<commit>/pull.json}) for {@code list}, {@code show} and {@code verify}.
 */
public final class ModelPuller {
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();
    /** Room to leave on the disk beyond the files themselves. */
    private static final long DISK_MARGIN = 256L << 20;

    private final HubSettings settings;
    private final HfCache cache;
    private volatile HubHttp http;

    public ModelPuller(HubSettings settings) {
        this.settings = settings;
        this.cache = new HfCache(settings.hubCache());
    }

    public HubSettings settings() {
        return settings;
    }

    public HfCache cache() {
        return cache;
    }

    private HubHttp http() {
        HubHttp h = http;
        if (h == null) {
            synchronized (this) {
                if (http == null) http = new HubHttp(settings);
                h = http;
            }
        }
        return h;
    }

    /**
     * The model from the cache when it is complete there (no network at all, as {@code HF_HUB_OFFLINE} or a second
     * start needs), else pulled; offline and absent: {@link HubException.NotCached}.
     */
    public PulledModel resolve(ModelRef ref, String source, PullListener listener) throws IOException {
        Optional<PulledModel> c = cached(ref);
        if (c.isPresent()) return c.get();
        if (settings.offline()) {
            throw new HubException.NotCached(ref + " is not in the cache " + settings.hubCache() + " and network access is off "
                    + "(HF_HUB_OFFLINE=1 or --offline); pull it first with 'autoglm pull " + ref + "' while online");
        }
        return pull(ref, source, listener);
    }

    /** The model if the cache holds all of it at the revision's recorded commit; never touches the network. */
    public Optional<PulledModel> cached(ModelRef ref) throws IOException {
        Optional<String> commit = cache.commit(ref);
        if (commit.isEmpty()) return Optional.empty();
        Path snap = cache.snapshotDir(ref, commit.get());
        if (!Files.isDirectory(snap)) return Optional.empty();
        Optional<PullRecord> record = PullRecord.read(recordFile(ref, commit.get()));
        List<String> files;
        if (record.isPresent() && (ref.quant() == null || record.get().files().stream().anyMatch(f -> FileSelection.quantOf(f.name()).equals(ref.quant().toUpperCase(Locale.ROOT))))) {
            files = record.get().files().stream().map(RemoteFile::name).filter(n -> ref.quant() == null || !n.endsWith(".gguf")
                    || FileSelection.quantOf(n).equals(ref.quant().toUpperCase(Locale.ROOT))).toList();
            for (String f : files) if (!Files.exists(snap.resolve(f))) return Optional.empty();
        } else {
            files = foreignSnapshotFiles(ref, commit.get(), snap);
            if (files == null) return Optional.empty();
        }
        return Optional.of(new PulledModel(ref, "cache", commit.get(), snap, files));
    }

    /**
     * A snapshot we did not pull (Python's huggingface_hub did): usable when it has what a loader needs, namely the
     * GGUF file of {@code :QUANT}, or config.json with every safetensors shard its index names (or one safetensors).
     */
    private List<String> foreignSnapshotFiles(ModelRef ref, String commit, Path snap) throws IOException {
        List<String> all = cache.files(ref, commit).stream().filter(f -> Files.exists(snap.resolve(f))).toList();
        if (ref.quant() != null) {
            List<String> g = all.stream().filter(f -> f.endsWith(".gguf") && FileSelection.quantOf(f).equals(ref.quant().toUpperCase(Locale.ROOT))).toList();
            return g.isEmpty() ? null : g;
        }
        if (!all.contains("config.json")) {
            List<String> g = all.stream().filter(f -> f.endsWith(".gguf")).toList();
            return g.size() == 1 ? g : null;
        }
        if (all.contains("model.safetensors.index.json")) {
            JsonNode index = HubHttp.JSON.readTree(snap.resolve("model.safetensors.index.json").toFile());
            for (Iterator<JsonNode> it = index.path("weight_map").elements(); it.hasNext(); ) {
                if (!all.contains(it.next().asText())) return null;
            }
            return all;
        }
        return all.stream().anyMatch(f -> f.endsWith(".safetensors")) ? all : null;
    }

    /** Lists the repository on {@code source} and fetches what the cache lacks (always asks the hub for the revision's commit). */
    public PulledModel pull(ModelRef ref, String sourceName, PullListener listener) throws IOException {
        HubHttp h = http();
        ModelSource source = ModelSource.of(sourceName, h, settings);
        RepoListing listing = source.list(ref);
        String commit = listing.commit();
        List<RemoteFile> files = SignedManifests.withManifests(FileSelection.select(ref, listing), listing);
        Optional<RemoteFile> manifest = SignedManifests.directoryManifest(files);
        if (manifest.isPresent()) {
            // a signed directory: its manifest (a few KB) comes first, since it names every file the signature covers
            checkDiskSpace(ref, List.of(manifest.get()));
            fetchFile(source, ref, commit, manifest.get(), PullListener.NONE);
            files = SignedManifests.withListedFiles(files, cache.snapshotFile(ref, commit, manifest.get().name()), listing);
        }
        checkDiskSpace(ref, files);
        long total = files.stream().mapToLong(f -> Math.max(0, f.size())).sum();
        long already = files.stream().mapToLong(f -> onDisk(ref, f)).sum();
        listener.planned(files.size(), total, already);

        ExecutorService pool = Executors.newFixedThreadPool(Math.min(settings.parallelism(), Math.max(1, files.size())),
                Thread.ofPlatform().daemon().name("autoglm-pull-", 0).factory());
        List<Future<RemoteFile>> futures = new ArrayList<>();
        try {
            for (RemoteFile f : files) futures.add(pool.submit(() -> fetchFile(source, ref, commit, f, listener)));
            List<RemoteFile> done = new ArrayList<>();
            for (Future<RemoteFile> fu : futures) done.add(fu.get());
            PullRecord.write(recordFile(ref, commit), new PullRecord(source.name(), ref.repo(), ref.revision(), commit, done, Instant.now()));
            cache.writeRef(ref, commit);
            return new PulledModel(ref, source.name(), commit, cache.snapshotDir(ref, commit), done.stream().map(RemoteFile::name).toList());
        } catch (ExecutionException e) {
            pool.shutdownNow();
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("pull of " + ref + " interrupted; partial files are kept and the next pull resumes them");
        } finally {
            pool.shutdown();
        }
    }

    private RemoteFile fetchFile(ModelSource source, ModelRef ref, String commit, RemoteFile f, PullListener listener) throws IOException {
        Path pointer = cache.snapshotFile(ref, commit, f.name());
        if (f.etag() != null && f.etag().equals(HfCache.etagOf(pointer)) && Files.exists(pointer)) {
            listener.fileDone(f.name());
            return f;
        }
        FileLocation loc = source.locate(ref, commit, f);
        HfCache.checkEtag(loc.etag());
        RemoteFile got = new RemoteFile(f.name(), loc.size(), loc.etag());
        Path blob = cache.blob(ref, loc.etag());
        if (!Files.exists(blob)) {
            Path lockFile = cache.lockFile(ref, loc.etag());
            Files.createDirectories(lockFile.getParent());
            ReentrantLock mine = IN_PROCESS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new ReentrantLock());
            mine.lock();
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (!Files.exists(blob)) { // another process may have finished it while we waited
                    Path partial = cache.incomplete(ref, loc.etag());
                    listener.fileStarted(f.name(), loc.size());
                    new FileFetcher(http()).download(f.name(), loc, partial, settings.maxAttempts(), n -> listener.fileProgress(f.name(), n));
                    HfCache.move(partial, blob);
                }
            } finally {
                mine.unlock();
            }
        }
        cache.link(ref, commit, f.name(), loc.etag());
        listener.fileDone(f.name());
        return got;
    }

    private long onDisk(ModelRef ref, RemoteFile f) {
        if (f.etag() == null) return 0;
        try {
            if (Files.exists(cache.blob(ref, f.etag()))) return Math.max(0, f.size());
            Path p = cache.incomplete(ref, f.etag());
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException | IllegalArgumentException e) {
            return 0;
        }
    }

    /**
     * Refuses to start when the missing bytes (plus {@link #DISK_MARGIN}) exceed the usable space of the disk the
     * cache is on; measured on the nearest existing folder, so a refused pull creates nothing.
     */
    private void checkDiskSpace(ModelRef ref, List<RemoteFile> files) throws IOException {
        long missing = 0;
        for (RemoteFile f : files) missing += Math.max(0, Math.max(0, f.size()) - onDisk(ref, f));
        Path dir = settings.hubCache().toAbsolutePath();
        Path existing = dir;
        while (existing != null && !Files.isDirectory(existing)) existing = existing.getParent();
        if (existing == null) return; // no folder of the path exists: creating the cache will say why
        FileStore store = Files.getFileStore(existing);
        long free = store.getUsableSpace();
        if (missing + DISK_MARGIN > free) {
            throw new HubException.NoSpace(String.format(Locale.ROOT, "%s needs %s more (%d bytes, plus a margin of %s) on the disk of %s, "
                            + "which has %s free (%d bytes); nothing was downloaded. Free some space or set HF_HOME (or HF_HUB_CACHE) to a larger disk",
                    ref, bytes(missing), missing, bytes(DISK_MARGIN), dir, bytes(free), free));
        }
    }

    /** Bytes in the largest unit that keeps a number of at least 1 (decimal units, as the hub's web pages show sizes). */
    static String bytes(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        return n + " B";
    }

    public Path recordFile(ModelRef ref, String commit) {
        return settings.store().resolve(ref.folderName()).resolve(commit).resolve("pull.json");
    }

    /** What a pull fetched, with the hashes the hub published. */
    public record PullRecord(String source, String repo, String revision, String commit, List<RemoteFile> files, Instant time) {
        static Optional<PullRecord> read(Path f) {
            try {
                if (!Files.isRegularFile(f)) return Optional.empty();
                JsonNode n = HubHttp.JSON.readTree(f.toFile());
                List<RemoteFile> files = new ArrayList<>();
                for (JsonNode x : n.path("files")) files.add(new RemoteFile(x.path("name").asText(), x.path("size").asLong(), x.path("etag").asText()));
                return Optional.of(new PullRecord(n.path("source").asText(), n.path("repo").asText(), n.path("revision").asText(),
                        n.path("commit").asText(), files, Instant.parse(n.path("time").asText())));
            } catch (IOException | RuntimeException e) {
                return Optional.empty(); // a damaged record only costs the fast path
            }
        }

        static void write(Path f, PullRecord r) throws IOException {
            ObjectNode n = HubHttp.JSON.createObjectNode();
            n.put("source", r.source()).put("repo", r.repo()).put("revision", r.revision()).put("commit", r.commit()).put("time", r.time().toString());
            ArrayNode a = n.putArray("files");
            for (RemoteFile x : r.files()) a.addObject().put("name", x.name()).put("size", x.size()).put("etag", x.etag());
            Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling("pull." + UUID.randomUUID() + ".tmp");
            HubHttp.JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), n);
            HfCache.move(tmp, f);
        }
    }

    /** The pull record of a cached commit, if we pulled it. */
    public Optional<PullRecord> record(ModelRef ref, String commit) {
        return PullRecord.read(recordFile(ref, commit));
    }
}
