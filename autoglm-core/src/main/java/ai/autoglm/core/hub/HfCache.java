package ai.autoglm.core.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The Hugging Face cache, laid out exactly as Python's {@code huggingface_hub} writes it (file_download.py,
 * {@code hf_hub_download} docstring and {@code _create_symlink}), so that files either tool downloaded serve both:
 * <pre>
 * $HF_HUB_CACHE/models--org--name/
 *     blobs/&lt;etag&gt;                       the bytes; etag = sha256 for LFS files, git blob sha1 otherwise
 *     blobs/&lt;etag&gt;.incomplete            a download in progress (resumed with an HTTP Range request)
 *     refs/&lt;revision&gt;                    the commit a branch or tag pointed to ({@code _cache_commit_hash_for_specific_revision})
 *     snapshots/&lt;commit&gt;/&lt;file&gt;          a relative symlink to ../../blobs/&lt;etag&gt; (deeper for files in folders)
 * $HF_HUB_CACHE/.locks/models--org--name/&lt;etag&gt;.lock   one writer per blob (newer huggingface_hub versions)
 * </pre>
 */
public final class HfCache {
    private final Path root;

    public HfCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoDir(ModelRef ref) {
        return root.resolve(ref.folderName());
    }

    public Path blob(ModelRef ref, String etag) {
        return repoDir(ref).resolve("blobs").resolve(checkEtag(etag));
    }

    public Path incomplete(ModelRef ref, String etag) {
        return repoDir(ref).resolve("blobs").resolve(checkEtag(etag) + ".incomplete");
    }

    public Path lockFile(ModelRef ref, String etag) {
        return root.resolve(".locks").resolve(ref.folderName()).resolve(checkEtag(etag) + ".lock");
    }

    public Path snapshotDir(ModelRef ref, String commit) {
        if (!ModelRef.COMMIT.matcher(commit).matches()) throw new IllegalArgumentException("not a commit hash: " + commit);
        return repoDir(ref).resolve("snapshots").resolve(commit);
    }

    /** The snapshot path of a repository file; refuses names that would leave the snapshot (.., absolute). */
    public Path snapshotFile(ModelRef ref, String commit, String file) {
        Path dir = snapshotDir(ref, commit);
        Path p = dir.resolve(file).normalize();
        if (file.startsWith("/") || file.contains("\\") || !p.startsWith(dir) || p.equals(dir)) {
            throw new IllegalArgumentException("refusing repository file name '" + file + "'");
        }
        return p;
    }

    /** The commit the reference names: itself when it is a commit hash, else what refs/&lt;revision&gt; recorded. */
    public Optional<String> commit(ModelRef ref) {
        if (ref.revisionIsCommit()) return Optional.of(ref.revision());
        Path f = repoDir(ref).resolve("refs").resolve(ref.revision());
        try {
            if (!Files.isRegularFile(f)) return Optional.empty();
            String c = Files.readString(f, StandardCharsets.UTF_8).strip();
            return ModelRef.COMMIT.matcher(c).matches() ? Optional.of(c) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Records that {@code ref.revision()} is {@code commit}; a commit hash revision needs no ref (as huggingface_hub). */
    public void writeRef(ModelRef ref, String commit) throws IOException {
        if (ref.revision().equals(commit)) return;
        Path f = repoDir(ref).resolve("refs").resolve(ref.revision()).normalize();
        if (!f.startsWith(repoDir(ref).resolve("refs"))) throw new IllegalArgumentException("bad revision " + ref.revision());
        Files.createDirectories(f.getParent());
        if (Files.isRegularFile(f) && Files.readString(f).equals(commit)) return;
        Path tmp = f.resolveSibling(f.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, commit); // no newline: huggingface_hub writes the bare hash
        move(tmp, f);
    }

    /**
     * Points {@code snapshots/<commit>/<file>} at {@code blobs/<etag>} with a relative symlink, as
     * file_download.py {@code _create_symlink} does ({@code os.path.relpath(blob, dirname(pointer))}); made under a
     * temporary name and renamed over, so a reader sees either no file or the whole one.
     */
    public Path link(ModelRef ref, String commit, String file, String etag) throws IOException {
        Path pointer = snapshotFile(ref, commit, file);
        Path blob = blob(ref, etag);
        Files.createDirectories(pointer.getParent());
        Path target = pointer.getParent().relativize(blob);
        Path tmp = pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.createSymbolicLink(tmp, target);
        move(tmp, pointer);
        return pointer;
    }

    /** The etag (blob name) a snapshot file points to, or null when it is not a link into blobs/. */
    public static String etagOf(Path snapshotFile) {
        try {
            if (!Files.isSymbolicLink(snapshotFile)) return null;
            Path t = Files.readSymbolicLink(snapshotFile);
            Path parent = t.getParent();
            return parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("blobs")
                    ? t.getFileName().toString() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Every cached repository folder (models--org--name), as "org/name". */
    public List<String> repositories() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "models--*")) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) out.add(p.getFileName().toString().substring("models--".length()).replaceFirst("--", "/"));
            }
        }
        out.sort(String::compareToIgnoreCase);
        return out;
    }

    /** The commits with a snapshot folder, newest first by modification time. */
    public List<String> snapshots(ModelRef ref) throws IOException {
        Path dir = repoDir(ref).resolve("snapshots");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted((a, b) -> Long.compare(mtime(b), mtime(a)))
                    .map(p -> p.getFileName().toString()).filter(c -> ModelRef.COMMIT.matcher(c).matches()).toList();
        }
    }

    /** The files of a snapshot, as repository paths with '/' separators. */
    public List<String> files(ModelRef ref, String commit) throws IOException {
        Path dir = snapshotDir(ref, commit);
        if (!Files.isDirectory(dir)) return List.of();
        List<String> out = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                String name = dir.relativize(f).toString().replace('\\', '/');
                if (!name.startsWith(".") && !name.contains("/.")) out.add(name);
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /** Bytes of the blobs under the repository folder (each blob once, however many snapshots link it). */
    public long sizeOnDisk(ModelRef ref) throws IOException {
        Path blobs = repoDir(ref).resolve("blobs");
        if (!Files.isDirectory(blobs)) return 0;
        try (Stream<Path> s = Files.list(blobs)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }

    /** Deletes the repository folder (blobs, snapshots, refs) and its locks. */
    public void remove(ModelRef ref) throws IOException {
        deleteTree(repoDir(ref));
        deleteTree(root.resolve(".locks").resolve(ref.folderName()));
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.delete(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static long mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /** An etag becomes a file name: hex only (sha256 or git sha1), so a hostile header cannot name a path. */
    static String checkEtag(String etag) {
        if (etag == null || !etag.matches("[0-9a-fA-F]{8,128}")) {
            throw new IllegalArgumentException("unexpected ETag '" + etag + "' (expected a sha256 or git sha1)");
        }
        return etag;
    }
}
