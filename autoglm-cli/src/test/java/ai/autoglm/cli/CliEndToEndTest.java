package ai.autoglm.cli;

import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ReferenceForward;
import ai.autoglm.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commands end to end on random-weight fixture models, against the double-precision reference forward
 * pass of the test sources (which shares no code with the engine).
 */
class CliEndToEndTest {
    @TempDir
    static Path dir;
    static ModelFixtures.Spec spec;
    static Path hfDir;
    static Path gguf;

    @BeforeAll
    static void writeModels() {
        spec = ModelFixtures.llama();
        hfDir = ModelFixtures.writeHf(spec, dir.resolve("llama-hf"));
        gguf = ModelFixtures.writeGguf(spec, dir.resolve("llama.gguf"), GgmlType.F32);
    }

    @Test
    void logitsMatchTheReferenceForEveryPosition() throws Exception {
        int[] tokens = {ModelFixtures.BOS_ID, 72, 101, 108, 108, 111, 32, 200};
        double[][] expected = new ReferenceForward(spec, ModelFixtures.hfWeights(spec), tokens.length).run(tokens);
        for (Path model : List.of(gguf, hfDir)) {
            Path out = dir.resolve("logits-" + model.getFileName() + ".bin");
            CliRunner.Result r = CliRunner.run("logits", "--model", model.toString(), "--tokens",
                    String.join(",", Arrays.stream(tokens).mapToObj(Integer::toString).toList()), "--out", out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            float[] got = readFloats(out);
            assertThat(got).hasSize(tokens.length * spec.vocab());
            for (int p = 0; p < tokens.length; p++) {
                double max = Arrays.stream(expected[p]).map(Math::abs).max().orElseThrow();
                for (int v = 0; v < spec.vocab(); v++) {
                    assertThat((double) got[p * spec.vocab() + v]).as("%s position %d token %d", model, p, v)
                            .isCloseTo(expected[p][v], org.assertj.core.data.Offset.offset(1e-4 * max));
                }
            }
        }
    }

    @Test
    void greedyRunStreamsTheReferenceGreedyContinuationFromBothLayouts() throws Exception {
        String prompt = "Hello world";
        int maxTokens = 12;
        String expected = referenceGreedy(prompt, maxTokens);
        for (Path model : List.of(gguf, hfDir)) {
            CliRunner.Result r = CliRunner.run("run", "--model", model.toString(), "--prompt", prompt,
                    "--temperature", "0", "-n", String.valueOf(maxTokens));
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).as("output of %s", model).isEqualTo(expected + System.lineSeparator());
            assertThat(r.err()).contains("prompt").contains("generated");
        }
    }

    @Test
    void convertedGgufGivesTheSameLogitsAsTheHfDirectory() throws Exception {
        Path converted = dir.resolve("converted.gguf");
        CliRunner.Result c = CliRunner.run("convert", hfDir.toString(), converted.toString(), "--type", "f32");
        assertThat(c.exitCode()).as(c.err()).isZero();
        String tokens = "268,10,20,30,40";
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("b.bin");
        assertThat(CliRunner.run("logits", "-m", converted.toString(), "--tokens", tokens, "--out", a.toString()).exitCode()).isZero();
        assertThat(CliRunner.run("logits", "-m", hfDir.toString(), "--tokens", tokens, "--out", b.toString()).exitCode()).isZero();
        float[] fa = readFloats(a);
        float[] fb = readFloats(b);
        for (int i = 0; i < fa.length; i++) assertThat(fa[i]).isCloseTo(fb[i], org.assertj.core.data.Offset.offset(1e-4f));
        CliRunner.Result q = CliRunner.run("convert", hfDir.toString(), dir.resolve("q8.gguf").toString(), "--type", "q8_0");
        assertThat(q.exitCode()).as(q.err()).isZero();
        assertThat(CliRunner.run("info", dir.resolve("q8.gguf").toString()).out()).contains("Q8_0");
    }

    @Test
    void infoDescribesBothLayouts() {
        for (Path model : List.of(gguf, hfDir)) {
            CliRunner.Result r = CliRunner.run("info", model.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("architecture:  llama")
                    .contains("layers:        " + spec.layers() + ", dim " + spec.dim())
                    .contains(spec.heads() + " heads, " + spec.kvHeads() + " kv heads")
                    .contains("272 tokens")
                    .contains("chat template:");
        }
    }

    @Test
    void chatKeepsHistoryAndAnswersLikeAFreshRunOfTheWholeConversation() throws Exception {
        CliRunner.Result r = CliRunner.runWithInput("first turn\nsecond turn\n/exit\n", "chat", "--model", gguf.toString(),
                "--temperature", "0", "-n", "6", "--quiet");
        assertThat(r.exitCode()).as(r.err()).isZero();
        // Prompts "> " precede each answer; the second answer was computed reusing the first turn's KV cache.
        String[] parts = r.out().split("> ", -1);
        assertThat(parts).hasSizeGreaterThanOrEqualTo(3);
        String first = parts[1].stripTrailing();
        String second = parts[2].stripTrailing();
        try (LanguageModel m = ModelLoader.load(gguf)) {
            int[] conversation = Prompts.chat(m, List.of(ai.autoglm.core.tokenizer.ChatMessage.user("first turn"),
                    ai.autoglm.core.tokenizer.ChatMessage.assistant(first),
                    ai.autoglm.core.tokenizer.ChatMessage.user("second turn")), true, null);
            assertThat(second).isEqualTo(referenceGreedyTokens(conversation, 6, m.tokenizer()).stripTrailing());
        }
    }

    @Test
    void userErrorsExitTwoWithOneLineAndNoStackTrace() throws Exception {
        Path corrupt = dir.resolve("corrupt.gguf");
        byte[] bytes = Files.readAllBytes(gguf);
        Files.write(corrupt, Arrays.copyOf(bytes, bytes.length / 3));
        Path notGguf = dir.resolve("bad-magic.gguf");
        Files.writeString(notGguf, "this is not a model file at all");
        List<String[]> cases = new ArrayList<>(List.of(
                new String[]{"run", "--model", corrupt.toString(), "--prompt", "x"},
                new String[]{"info", notGguf.toString()},
                new String[]{"run", "--model", dir.resolve("missing.gguf").toString(), "--prompt", "x"},
                new String[]{"run", "--model", gguf.toString(), "--prompt", "x", "--temperature", "-1"},
                new String[]{"run", "--model", gguf.toString(), "--prompt", "hello ".repeat(40), "--ctx", "16"},
                new String[]{"logits", "--model", gguf.toString(), "--tokens", "1,99999", "--out", dir.resolve("x").toString()},
                new String[]{"convert", hfDir.toString(), dir.resolve("x.gguf").toString(), "--type", "q3_x"}));
        for (String[] args : cases) {
            CliRunner.Result r = CliRunner.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args) + " -> " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args)).startsWith("autoglm: error: ")
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        }
        assertThat(CliRunner.run("run", "--model", corrupt.toString(), "--prompt", "x").err()).contains(corrupt.toString());
        assertThat(CliRunner.run(cases.get(3)).err()).contains("temperature");
        assertThat(CliRunner.run(cases.get(4)).err()).contains("16");
        assertThat(CliRunner.run("run", "--model", corrupt.toString(), "--prompt", "x", "--debug").err()).contains("\tat ");
        assertThat(Files.exists(dir.resolve("x"))).isFalse();
        assertThat(Files.exists(dir.resolve("x.gguf"))).isFalse();
    }

    @Test
    void withoutModelTheBundledDefaultModelIsUsed() {
        Path root = Path.of("").toAbsolutePath().getParent();  // tests run in autoglm-cli/
        Path bundled = root.resolve("models/default/model.gguf");
        assertThat(bundled).exists();
        String previous = System.getProperty(DefaultModel.HOME_PROPERTY);
        System.setProperty(DefaultModel.HOME_PROPERTY, root.toString());
        try {
            CliRunner.Result implicit = CliRunner.run("run", "--prompt", "床前明月光", "--temperature", "0", "-n", "8", "--quiet");
            CliRunner.Result explicit = CliRunner.run("run", "--model", bundled.toString(), "--prompt", "床前明月光",
                    "--temperature", "0", "-n", "8", "--quiet");
            assertThat(implicit.exitCode()).as(implicit.err()).isZero();
            assertThat(implicit.out()).isEqualTo(explicit.out()).isNotBlank();
            assertThat(CliRunner.run("info", bundled.toString()).out()).contains("architecture:  glm4");
            System.setProperty(DefaultModel.HOME_PROPERTY, root.resolve("nowhere").toString());
            CliRunner.Result missing = CliRunner.run("run", "--prompt", "x");
            assertThat(missing.exitCode()).isEqualTo(2);
            assertThat(missing.err()).contains("bundled default model is missing");
        } finally {
            if (previous == null) System.clearProperty(DefaultModel.HOME_PROPERTY);
            else System.setProperty(DefaultModel.HOME_PROPERTY, previous);
        }
    }

    /** Greedy decoding by the reference forward pass, decoded with the model's tokenizer. */
    private static String referenceGreedy(String prompt, int maxTokens) {
        try (LanguageModel m = ModelLoader.load(gguf)) {
            return referenceGreedyTokens(Prompts.completion(m, prompt), maxTokens, m.tokenizer());
        }
    }

    private static String referenceGreedyTokens(int[] prompt, int maxTokens, Tokenizer tok) {
        ReferenceForward ref = new ReferenceForward(spec, ModelFixtures.hfWeights(spec), prompt.length + maxTokens);
        double[][] rows = ref.run(prompt);
        double[] logits = rows[rows.length - 1];
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < maxTokens; i++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            if (best == tok.eosId() || (tok.isSpecial(best) && tok.tokenString(best).equals(ModelFixtures.IM_END))) break;
            out.add(best);
            logits = ref.run(new int[]{best})[0];
        }
        return tok.decode(out.stream().mapToInt(Integer::intValue).toArray(), true);
    }

    private static float[] readFloats(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
