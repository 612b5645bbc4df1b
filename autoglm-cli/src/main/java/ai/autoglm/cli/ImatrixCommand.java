package ai.autoglm.cli;

import ai.autoglm.compress.imatrix.ImatrixCollector;
import ai.autoglm.compress.imatrix.ImatrixFiles;
import ai.autoglm.core.quant.ImportanceMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code autoglm imatrix}: llama-imatrix's importance matrix from calibration text. */
@Command(name = "imatrix", mixinStandardHelpOptions = true,
        description = "Compute an importance matrix (per-column mean squared activations of every projection) on calibration text, "
                + "for quantize --imatrix; written in llama.cpp's GGUF imatrix format (or its legacy .dat).")
final class ImatrixCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    /** Larger calibration files are refused rather than read into memory. */
    private static final long MAX_TEXT_BYTES = 256L << 20;

    @Mixin
    ModelOption modelOption;

    @Option(names = {"-f", "--text"}, required = true, paramLabel = "F", description = "Calibration text (UTF-8).")
    Path text;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "imatrix.gguf",
            description = "Output; GGUF unless the name ends in .dat (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N", defaultValue = "512",
            description = "Tokens per chunk (default ${DEFAULT-VALUE}, at most the model's context).")
    int context;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "0", description = "Skip the first N chunks (as llama-imatrix).")
    int firstChunk;

    @Option(names = "--chunks", paramLabel = "K", defaultValue = "-1", description = "Process at most K chunks (default: all).")
    int chunks;

    @Option(names = "--process-output", description = "Also collect output.weight (llama-imatrix --process-output).")
    boolean processOutput;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Path model = modelOption.path();
        ImatrixCollector.Settings settings = new ImatrixCollector.Settings(context, firstChunk, chunks, processOutput);
        Path source = DefaultModel.orDefault(model);
        if (!Files.exists(source)) throw new NoSuchFileException(source.toString());
        String calibration = readText(text);
        long start = System.nanoTime();
        ImportanceMatrix im = ImatrixCollector.collect(source, calibration, text.getFileName().toString(), settings,
                (done, total, nanos) -> System.err.printf(Locale.ROOT, "chunk %d/%d: %.2f s%n", done, total, nanos / 1e9));
        ImatrixFiles.write(im, output);
        System.err.printf(Locale.ROOT, "wrote %s (%s, %d entries, %d chunks of %d tokens) in %.1f s%n", output,
                ImatrixFiles.isLegacyName(output) ? "legacy .dat" : "GGUF", im.entries().size(), im.chunkCount(), im.chunkSize(),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static String readText(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        if (Files.size(file) > MAX_TEXT_BYTES) throw new IllegalArgumentException(file + ": calibration text larger than 256 MiB");
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        }
    }
}
