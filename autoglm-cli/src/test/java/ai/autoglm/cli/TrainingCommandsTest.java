package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training commands through the picocli entry point, on a tiny corpus and a few steps: {@code tokenizer train},
 * {@code train}, {@code distill} (from the trained model) and {@code qat}; each output loads in the inference engine
 * and {@code run} generates from it.
 */
class TrainingCommandsTest {
    @TempDir
    static Path dir;
    static Path corpus, tok, trained;

    @BeforeAll
    static void tokenizerAndTrain() throws IOException {
        String[] words = {"moon", "river", "light", "quiet", "night", "wind", "old", "friend", "月", "光", "山", "水"};
        Random r = new Random(1);
        StringBuilder sb = new StringBuilder();
        for (int doc = 0; doc < 300; doc++) {
            for (int w = 0; w < 8; w++) sb.append(words[r.nextInt(words.length)]).append(w == 7 ? ".\n" : " ");
            sb.append("%\n");
        }
        corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, sb, StandardCharsets.UTF_8);
        tok = dir.resolve("tok");
        CliRunner.Result t = CliRunner.run("tokenizer", "train", "--vocab", "300", corpus.toString(), "--out", tok.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(tok.resolve("tokenizer.json")).isRegularFile();
        trained = dir.resolve("trained");
        CliRunner.Result train = CliRunner.run("train", "--corpus", corpus.toString(), "--tokenizer", tok.toString(), "--dim", "32", "--layers", "1",
                "--heads", "2", "--kv-heads", "1", "--ctx", "32", "--steps", "6", "--batch", "2", "--checkpoint-every", "3", trained.toString());
        assertThat(train.exitCode()).as(train.err()).isZero();
        assertThat(train.err()).contains("held-out loss");
    }

    /** The model loads in the engine with {@code vocab} tokens and {@code run} generates a few tokens from it. */
    private static void loadsAndGenerates(Path model, int vocab) {
        try (LanguageModel m = ModelLoader.load(model)) {
            assertThat(m.config().vocabSize()).isEqualTo(vocab);
        }
        CliRunner.Result run = CliRunner.run("run", "--model", model.toString(), "--prompt", "moon river", "-n", "5", "--temperature", "0");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isNotEmpty(); // a few steps of training: often just spaces
    }

    private static int vocab(Path model) {
        try (LanguageModel m = ModelLoader.load(model)) {
            return m.config().vocabSize();
        }
    }

    @Test
    void trainWritesGgufHfDirectoryAndLossCurve() throws IOException {
        for (String f : new String[]{"model.gguf", "config.json", "model.safetensors", "tokenizer.json", "loss.png", "loss.tsv", "checkpoint.safetensors"}) {
            assertThat(trained.resolve(f)).as(f).isRegularFile();
        }
        assertThat(Files.readAllBytes(trained.resolve("loss.png"))).startsWith(0x89, 'P', 'N', 'G');
        int vocab = vocab(trained.resolve("model.gguf"));
        loadsAndGenerates(trained.resolve("model.gguf"), vocab);
        loadsAndGenerates(trained, vocab);
    }

    @Test
    void distillWritesAStudentOfTheTeachersVocabulary() throws IOException {
        Path student = dir.resolve("student");
        CliRunner.Result r = CliRunner.run("distill", "--teacher", trained.resolve("model.gguf").toString(), "--dim", "32", "--layers", "1",
                "--heads", "1", "--steps", "4", "--batch", "2", "--ctx", "32", "--hidden-layers", "0:0", student.toString(), "--data", corpus.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("held-out perplexity: student");
        for (String f : new String[]{"model.gguf", "config.json", "model.safetensors", "tokenizer.json", "loss.png"}) {
            assertThat(student.resolve(f)).as(f).isRegularFile();
        }
        loadsAndGenerates(student.resolve("model.gguf"), vocab(trained.resolve("model.gguf")));
        try (LanguageModel s = ModelLoader.load(student.resolve("model.gguf"))) {
            assertThat(s.config().heads()).isEqualTo(1);
            assertThat(s.config().layers()).isEqualTo(1);
        }
    }

    @Test
    void distillRefusesAStudentWithAnotherVocabulary() throws IOException {
        String config = Files.readString(trained.resolve("config.json")).replaceAll("\"vocab_size\"\\s*:\\s*\\d+", "\"vocab_size\" : 1000");
        Path cfg = dir.resolve("student-config.json");
        Files.writeString(cfg, config);
        CliRunner.Result r = CliRunner.run("distill", "--teacher", trained.toString(), "--student-config", cfg.toString(), "--steps", "2",
                dir.resolve("nope").toString(), "--data", corpus.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("vocab_size 1000").contains("teacher's tokenizer").doesNotContain("Exception");
    }

    @Test
    void qatWritesAQuantizedGguf() {
        Path out = dir.resolve("qat.gguf");
        CliRunner.Result r = CliRunner.run("qat", "--model", trained.toString(), "--type", "q4_0", "--steps", "3", "--batch", "2", "--ctx", "32",
                out.toString(), "--data", corpus.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("held-out KLD from the base, after QAT");
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensorInfo("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(f.tensorInfo("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
        }
        assertThat(dir.resolve("qat.loss.png")).isRegularFile();
        loadsAndGenerates(out, vocab(trained.resolve("model.gguf")));
    }
}
