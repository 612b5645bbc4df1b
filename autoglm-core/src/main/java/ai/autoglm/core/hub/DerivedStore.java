package ai.autoglm.core.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Files made from a pulled model (a converted or quantized GGUF), kept in our store beside the Hugging Face cache and
 * keyed by the source commit and the recipe that made them: {@code <store>/models--org--name/<commit>/derived/<recipe>.gguf}.
 * A new commit is a new key, so a derived file never outlives the weights it came from; one recipe is made once
 * (under a lock, written to a temporary name and renamed) and reused after.
 */
public final class DerivedStore {
    private static final Pattern RECIPE = Pattern.compile("^[a-z0-9][a-z0-9_.-]{0,80}$");
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();
    private final Path root;

    public DerivedStore(Path root) {
        this.root = root;
    }

    /** Writes the derived file to the path it is given (a temporary name). */
    @FunctionalInterface
    public interface Producer {
        void produce(Path out) throws IOException;
    }

    public Path path(ModelRef ref, String commit, String recipe) {
        if (!RECIPE.matcher(recipe).matches()) throw new IllegalArgumentException("bad recipe name '" + recipe + "'");
        if (!ModelRef.COMMIT.matcher(commit).matches()) throw new IllegalArgumentException("not a commit: " + commit);
        return root.resolve(ref.folderName()).resolve(commit).resolve("derived").resolve(recipe + ".gguf");
    }

    public boolean has(ModelRef ref, String commit, String recipe) {
        return Files.isRegularFile(path(ref, commit, recipe));
    }

    /** The derived file, made by {@code producer} if it is not there yet. */
    public Path getOrCreate(ModelRef ref, String commit, String recipe, Producer producer) throws IOException {
        Path out = path(ref, commit, recipe);
        if (Files.isRegularFile(out)) return out;
        Files.createDirectories(out.getParent());
        Path lockFile = out.resolveSibling(recipe + ".lock");
        ReentrantLock mine = IN_PROCESS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new ReentrantLock());
        mine.lock();
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            if (Files.isRegularFile(out)) return out;
            Path tmp = out.resolveSibling("." + recipe + "." + UUID.randomUUID() + ".tmp");
            try {
                producer.produce(tmp);
                HfCache.move(tmp, out);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return out;
        } finally {
            mine.unlock();
        }
    }

    /** Deletes everything derived from the repository. */
    public void remove(ModelRef ref) throws IOException {
        HfCache.deleteTree(root.resolve(ref.folderName()));
    }
}
