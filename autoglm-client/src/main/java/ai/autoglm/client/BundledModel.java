package ai.autoglm.client;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the bundled default model ({@code models/default/model.gguf}, 10 MB, see its MODEL_CARD.md) is: under the
 * project home given by the {@code autoglm.home} system property (what the {@code ./autoglm} launcher sets) or the
 * {@code AUTOGLM_HOME} environment variable, else in the working directory or one of its parents (a checkout of
 * the project). It is not packed into the SDK jar: the engine maps weights from a file, and a 10 MB copy in every
 * application's jar would be a poor default.
 */
public final class BundledModel {
    static final Path RELATIVE = Path.of("models", "default", "model.gguf");

    private BundledModel() {
    }

    /** The bundled model's file. */
    public static Path path() {
        List<Path> tried = new ArrayList<>();
        String home = System.getProperty("autoglm.home");
        if (home == null) home = System.getenv("AUTOGLM_HOME");
        if (home != null) {
            Path p = Path.of(home).resolve(RELATIVE);
            if (Files.isRegularFile(p)) return p;
            tried.add(p);
        } else {
            for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
                Path p = dir.resolve(RELATIVE);
                if (Files.isRegularFile(p)) return p;
                tried.add(p);
            }
        }
        throw new ModelFileNotFoundException(tried.isEmpty() ? null : tried.getFirst(), "the bundled model " + RELATIVE
                + " was not found (looked at " + tried + "); set -Dautoglm.home or AUTOGLM_HOME to the project directory, or give a model path");
    }
}
