package ai.autoglm.cli;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code autoglm convert}: a Hugging Face directory to the GGUF file llama.cpp's own converter writes. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Hugging Face model directory to GGUF (same tensor names and metadata as llama.cpp's converter).")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "HF_DIR", description = "Directory with config.json, safetensors and tokenizer files.")
    Path hfDir;

    @Parameters(index = "1", paramLabel = "OUT", description = "The GGUF file to write (written to a temp name, then renamed).")
    Path out;

    @Option(names = "--type", defaultValue = "f16", paramLabel = "T",
            description = "Weight type: f32, f16, bf16 or q8_0 (default ${DEFAULT-VALUE}). Norms and biases stay f32.")
    String type;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        GgmlType outType = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("--type must be one of f32, f16, bf16, q8_0; got '" + type + "'");
        };
        if (!Files.isDirectory(hfDir)) throw new NoSuchFileException(hfDir.toString());
        long start = System.nanoTime();
        HfToGgufConverter.convert(hfDir, out, outType);
        System.err.printf(Locale.ROOT, "wrote %s (%s, %.1f MB) in %.1f s%n", out, type.toLowerCase(Locale.ROOT),
                Files.size(out) / 1e6, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
