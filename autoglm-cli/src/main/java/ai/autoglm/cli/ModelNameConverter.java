package ai.autoglm.cli;

import ai.autoglm.core.hub.ModelNames;
import picocli.CommandLine;

import java.nio.file.Path;

/**
 * {@code --model} as a path or a name: a value that is not an existing file and reads as a catalog name or
 * {@code org/name[@rev][:QUANT]} is resolved from the Hugging Face cache, pulled when missing (HF_HUB_OFFLINE=1 forbids
 * that), and replaced by the snapshot directory or GGUF file; anything else stays a path (and fails later as one).
 */
final class ModelNameConverter implements CommandLine.ITypeConverter<Path> {
    @Override
    public Path convert(String value) throws Exception {
        if (!ModelNames.isName(value)) return Path.of(value);
        return HubCli.resolve(value, false, null);
    }
}
