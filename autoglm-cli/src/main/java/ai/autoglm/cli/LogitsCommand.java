package ai.autoglm.cli;

import ai.autoglm.core.format.AtomicFiles;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code autoglm logits}: the logits after every token of a given sequence, as raw float32 little-endian
 * rows of n_vocab, for comparison with other engines (e.g. numpy.fromfile(F, '<f4').reshape(-1, n_vocab)).
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write float32 little-endian logits, one row of n_vocab per token, to a file.")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Comma-separated token ids, e.g. 1,2,3.")
    String tokens;

    @Option(names = "--out", required = true, paramLabel = "F", description = "Output file (written atomically).")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel model = modelOptions.load()) {
            int vocab = model.config().vocabSize();
            int[] ids = Prompts.parseIds(tokens, vocab);
            if (ids.length == 0) throw new IllegalArgumentException("--tokens is empty");
            model.checkFits(ids.length, 0);
            float[] logits = model.forward(model.newState(ids.length), ids, 0, ids.length, true);
            ByteBuffer bytes = ByteBuffer.allocate(logits.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(logits);
            AtomicFiles.write(out, ch -> ch.write(bytes));
            System.err.printf("wrote %d x %d logits to %s%n", ids.length, vocab, out);
            return 0;
        }
    }
}
