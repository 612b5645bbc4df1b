package ai.autoglm.core.hub;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model in the cache: its snapshot folder (a Hugging Face directory the loaders read as is) and the files pulled.
 *
 * @param ref      what was asked for
 * @param source   "huggingface", "modelscope", or "cache" when found without asking a hub
 * @param commit   the snapshot's commit
 * @param snapshot {@code snapshots/<commit>}
 * @param files    the repository files in it that this model uses
 */
public record PulledModel(ModelRef ref, String source, String commit, Path snapshot, List<String> files) {
    public PulledModel {
        files = List.copyOf(files);
    }

    /** What a loader opens: the single GGUF file of a GGUF pull, else the snapshot directory. */
    public Path modelPath() {
        List<String> gguf = files.stream().filter(f -> f.endsWith(".gguf")).sorted().toList();
        if (!gguf.isEmpty() && files.stream().noneMatch(f -> f.endsWith(".safetensors"))) return snapshot.resolve(gguf.getFirst());
        return snapshot;
    }

    /** True when the snapshot holds safetensors weights (a conversion to GGUF is possible), not GGUF. */
    public boolean isSafetensors() {
        return files.stream().anyMatch(f -> f.endsWith(".safetensors")) && Files.isDirectory(snapshot);
    }
}
