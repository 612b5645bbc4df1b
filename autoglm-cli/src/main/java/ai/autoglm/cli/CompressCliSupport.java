package ai.autoglm.cli;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** What the compression commands (prune, lowrank) share: the model path and the --tensors pattern. */
final class CompressCliSupport {
    private CompressCliSupport() {
    }

    static Path modelPath(Path model) throws NoSuchFileException {
        Path file = DefaultModel.orDefault(model);
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
        return file;
    }

    static Pattern regex(String tensors) {
        try {
            return Pattern.compile(tensors);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("--tensors is not a valid regular expression: " + e.getDescription());
        }
    }
}
