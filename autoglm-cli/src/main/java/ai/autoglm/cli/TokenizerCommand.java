package ai.autoglm.cli;

import ai.autoglm.train.TrainingCorpus;
import ai.autoglm.train.tokenizer.BpeTrainer;
import ai.autoglm.train.tokenizer.GlmTokenizerFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code autoglm tokenizer ...}: tokenizer tools. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Tokenizer tools.",
        subcommands = {TokenizerCommand.Train.class})
final class TokenizerCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** {@code autoglm tokenizer train}: learn a byte-level BPE vocabulary with the GLM chat specials. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Learn a byte-level BPE tokenizer (GLM-4 split regex, GLM chat special tokens) from text files "
                    + "and write tokenizer.json + tokenizer_config.json.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--vocab", required = true, paramLabel = "N",
                description = "Vocabulary size including the 256 byte tokens and the " + 10 + " special tokens.")
        int vocab;

        @Parameters(arity = "1..*", paramLabel = "CORPUS", description = "UTF-8 text files (a line holding only % separates documents).")
        List<Path> corpus;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the tokenizer files into.")
        Path out;

        @Option(names = {"-c", "--ctx"}, defaultValue = "8192", paramLabel = "C", description = "model_max_length to record (default ${DEFAULT-VALUE}).")
        int ctx;

        @Option(names = "--debug", description = "Print stack traces of errors.")
        boolean debug;

        @Override
        public Integer call() {
            BpeTrainer.Vocabulary v = train(corpus, vocab);
            GlmTokenizerFiles.write(v, ctx, out);
            System.err.printf("autoglm: %d tokens (%d merges + 256 bytes + %d specials) written to %s%n",
                    GlmTokenizerFiles.vocabSize(v), v.merges().size(), GlmTokenizerFiles.SPECIAL_TOKENS.size(), out);
            return 0;
        }

        static BpeTrainer.Vocabulary train(List<Path> corpus, int vocab) {
            int merges = vocab - 256 - GlmTokenizerFiles.SPECIAL_TOKENS.size();
            if (merges < 0) {
                throw new IllegalArgumentException("--vocab " + vocab + " is too small: at least " + (256 + GlmTokenizerFiles.SPECIAL_TOKENS.size())
                        + " (256 bytes + special tokens)");
            }
            BpeTrainer trainer = new BpeTrainer();
            for (String doc : TrainingCorpus.readDocuments(corpus)) trainer.add(doc);
            BpeTrainer.Vocabulary v = trainer.train(merges, 2);
            if (v.merges().size() < merges) {
                System.err.printf("autoglm: the corpus only supports %d merges (pairs seen at least twice); vocabulary is %d, not %d%n",
                        v.merges().size(), GlmTokenizerFiles.vocabSize(v), vocab);
            }
            return v;
        }
    }
}
