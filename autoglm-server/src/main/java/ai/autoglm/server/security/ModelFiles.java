package ai.autoglm.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files that make up a model and their content digests: a GGUF file is one file; a Hugging Face directory is
 * every regular file under it (weights, config, tokenizer, template: anything that can change what the model says),
 * except its signature manifest. Paths are relative to the model, with '/' separators, sorted, so that a listing is
 * the same on every machine.
 */
public final class ModelFiles {
    /** The manifest's name inside a model directory. */
    public static final String DIRECTORY_MANIFEST = "autoglm-manifest.json";
    /** Appended to a single model file's name for its manifest beside it. */
    public static final String FILE_MANIFEST_SUFFIX = ".manifest.json";

    /** One file of a model. */
    public record Entry(String path, long size, String sha256) {
    }

    private ModelFiles() {
    }

    /** Where the model's manifest lives: {@code MODEL.manifest.json} beside a file, {@code DIR/autoglm-manifest.json} in a directory. */
    public static Path manifestPath(Path model) {
        return Files.isDirectory(model) ? model.resolve(DIRECTORY_MANIFEST)
                : model.resolveSibling(model.getFileName() + FILE_MANIFEST_SUFFIX);
    }

    /** The model's files (relative path and absolute path), sorted by relative path. */
    public static List<Path> list(Path model) {
        if (!Files.exists(model)) throw new IllegalArgumentException(model + ": no such file or directory");
        if (!Files.isDirectory(model)) return List.of(model);
        try (Stream<Path> walk = Files.walk(model)) {
            Path manifest = manifestPath(model);
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !p.equals(manifest))
                    .sorted(Comparator.comparing(p -> relative(model, p)))
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException(model + ": cannot list the model's files: " + e.getMessage(), e);
        }
    }

    /** The model's files, each hashed (streamed; see {@link FileDigest}). */
    public static List<Entry> hash(Path model) {
        List<Entry> out = new ArrayList<>();
        for (Path p : list(model)) {
            try {
                out.add(new Entry(relative(model, p), Files.size(p), FileDigest.sha256(p)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * One digest for the whole model's content: a single file's own SHA-256; for a directory, SHA-256 over
     * "path NUL size NUL sha256 LF" per file in order (names inside a directory matter: config.json is not
     * tokenizer.json). It changes when any byte of any file changes, and not when the model is only moved,
     * renamed or touched (no paths of the model itself, no times are in it).
     */
    public static String contentDigest(Path model, List<Entry> files) {
        if (!Files.isDirectory(model) && files.size() == 1) return files.getFirst().sha256();
        StringBuilder sb = new StringBuilder();
        for (Entry e : files) sb.append(e.path()).append('\0').append(e.size()).append('\0').append(e.sha256()).append('\n');
        return FileDigest.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    static String relative(Path model, Path file) {
        if (file.equals(model)) return file.getFileName().toString();
        Path rel = model.relativize(file);
        List<String> parts = new ArrayList<>();
        rel.forEach(x -> parts.add(x.toString()));
        return String.join("/", parts);
    }
}
