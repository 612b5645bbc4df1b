package ai.autoglm.core.hub;

import java.nio.file.Files;
import java.nio.file.Path;

/** What a {@code --model} value is: a path on disk, a catalog name, or a repository ({@code org/name[@rev][:QUANT]}). */
public final class ModelNames {
    private ModelNames() {
    }

    /** True when {@code value} should be resolved as a model name rather than opened as a path. */
    public static boolean isName(String value) {
        if (value == null || value.isBlank() || Files.exists(Path.of(value))) return false;
        return ModelCatalog.builtIn().find(value).isPresent() || ModelRef.looksLikeRepo(value)
                || (!value.contains("/") && !value.contains(".") && !value.contains("\\"));
    }

    /**
     * The repository {@code name} means on {@code source}: a catalog entry's, or the name parsed as a repository;
     * anything else is an error that lists the closest catalog names.
     */
    public static ModelRef parse(String name, String source) {
        var entry = ModelCatalog.builtIn().find(name);
        if (entry.isPresent()) return entry.get().ref(source);
        if (ModelRef.looksLikeRepo(name)) return ModelRef.parse(name);
        throw new IllegalArgumentException("unknown model '" + name + "': not a file, not a catalog name and not a repository (org/name). "
                + "Closest names: " + String.join(", ", ModelCatalog.builtIn().closest(name, 3)) + " (autoglm list --catalog shows them all)");
    }
}
