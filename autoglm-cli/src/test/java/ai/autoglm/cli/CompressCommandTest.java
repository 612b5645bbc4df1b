package ai.autoglm.cli;

import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code autoglm compress} end to end through the picocli entry point on a random-weight llama (dim 256 so every type
 * fits the rows). The references are independent of the search: the memory model applied to the written file, the
 * tensor types actually in it, and a separate {@code autoglm eval} run of it.
 */
class CompressCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONTEXT = 128; // the fixture's context length: what compress judges memory at by default

    @TempDir
    static Path dir;
    static Path model;
    static Path text;

    @BeforeAll
    static void writeModel() throws Exception {
        model = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(256, 4, 2, 512), dir.resolve("base.gguf"), GgmlType.F32);
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 40; i++) t.append("The quick brown fox ").append(i).append(" jumps over the lazy dog; 床前明月光, hello world. ");
        text = Files.writeString(dir.resolve("text.txt"), t.toString());
    }

    private static List<String> args(double budgetMb, String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("compress", "--model", model.toString(), "--memory-budget-mb", Double.toString(budgetMb),
                "--calib", text.toString(), "--eval-text", text.toString(), "--eval-ctx", "64", "--chunks", "3", "--threads", "1",
                dir.resolve(out).toString()));
        a.addAll(1, List.of(extra));
        return a;
    }

    private static JsonNode report(String out) throws Exception {
        return JSON.readTree(dir.resolve(out + ".report").resolve("report.json").toFile());
    }

    private static JsonNode trial(JsonNode report, int number) {
        for (JsonNode t : report.get("trials")) if (t.get("trial").asInt() == number) return t;
        throw new AssertionError("no trial " + number);
    }

    private static Set<String> types(JsonNode trial) {
        Set<String> s = new HashSet<>();
        trial.get("choices").properties().forEach(e -> {
            if (e.getKey().endsWith(".type")) s.add(e.getValue().asText());
        });
        return s;
    }

    @Test
    void budgetBetweenUniformTypesGivesAMixThatFitsAndMatchesEval() throws Exception {
        // 1. Every q8_0/q4_0 assignment of the three groups under an ample budget: the memory of the uniform ones.
        CliRunner.Result all = CliRunner.run(args(100_000, "all.gguf", "--types", "q8_0,q4_0", "--ffn-keep", "1.0", "--search", "grid",
                "--trials", "8").toArray(String[]::new));
        assertThat(all.exitCode()).as(all.err()).isZero();
        JsonNode allReport = report("all.gguf");
        assertThat(allReport.get("trials")).hasSize(8);
        double q8 = Double.NaN, q4 = Double.NaN;
        for (JsonNode t : allReport.get("trials")) {
            if (types(t).equals(Set.of("q8_0"))) q8 = t.get("memory_mb").asDouble();
            if (types(t).equals(Set.of("q4_0"))) q4 = t.get("memory_mb").asDouble();
        }
        assertThat(q4).isLessThan(q8);

        // 2. A budget half way between all-q4_0 and all-q8_0: all-q8_0 does not fit, and the best that does is a mix.
        double budget = (q4 + q8) / 2;
        CliRunner.Result r = CliRunner.run(args(budget, "mix.gguf", "--types", "q8_0,q4_0", "--ffn-keep", "1.0", "--search", "grid",
                "--trials", "8").toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path out = dir.resolve("mix.gguf");
        JsonNode rep = report("mix.gguf");
        JsonNode chosen = trial(rep, rep.get("chosen").asInt());
        assertThat(types(chosen)).containsExactlyInAnyOrder("q8_0", "q4_0");
        assertThat(r.out()).contains("chosen: trial " + chosen.get("trial").asInt());

        // The file really holds both types, and its runtime memory by the memory model fits the budget.
        Set<GgmlType> inFile = new HashSet<>();
        try (GgufFile f = GgufFile.open(out)) {
            for (GgufTensorInfo info : f.tensorInfos()) if (info.type().blockSize > 1) inFile.add(info.type());
        }
        assertThat(inFile).containsExactlyInAnyOrder(GgmlType.Q8_0, GgmlType.Q4_0);
        try (LanguageModel m = ModelLoader.load(out)) {
            long bytes = MemoryModel.forServing(m.config(), TensorSpec.of(((TransformerModel) m).weights()), CONTEXT, 1).totalBytes();
            assertThat(bytes).isLessThanOrEqualTo((long) Math.floor(budget * 1024 * 1024));
            assertThat(bytes / 1048576.0).isCloseTo(chosen.get("memory_mb").asDouble(), within(1e-9));
        }

        // 3. A separate eval of the written file reports the same quality figures as the report's chosen trial.
        CliRunner.Result ev = CliRunner.run("eval", "--model", out.toString(), "--base", model.toString(), "--text", text.toString(),
                "--ctx", "64", "--chunks", "3", "--threads", "1", "--no-speed", "--json");
        assertThat(ev.exitCode()).as(ev.err()).isZero();
        JsonNode e = JSON.readTree(ev.out());
        assertThat(chosen.get("mean_kld").asDouble()).isCloseTo(e.get("mean_kld").asDouble(), within(1e-9));
        assertThat(chosen.get("p99_kld").asDouble()).isCloseTo(e.get("p99_kld").asDouble(), within(1e-9));
        assertThat(chosen.get("max_kld").asDouble()).isCloseTo(e.get("max_kld").asDouble(), within(1e-9));
        assertThat(chosen.get("top1").asDouble()).isCloseTo(e.get("same_top1").asDouble(), within(1e-12));
        assertThat(chosen.get("perplexity").asDouble()).isCloseTo(e.get("perplexity").asDouble(), within(1e-6));
        assertThat(e.get("mean_kld").asDouble()).isPositive();
        // No candidate files are left next to the output.
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".trials-"))).isEmpty();
        }
    }

    @Test
    void impossibleBudgetExitsTwoNamingTheClosestTrialAndWritesNoModel() throws Exception {
        CliRunner.Result r = CliRunner.run(args(1, "none.gguf", "--types", "q4_0,q8_0", "--ffn-keep", "1.0,0.75", "--search", "random",
                "--trials", "2").toArray(String[]::new));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no trial fits the budget of 1.0 MiB", "closest: trial ", "no model written");
        assertThat(dir.resolve("none.gguf")).doesNotExist();
        JsonNode rep = report("none.gguf");
        assertThat(rep.get("chosen").isNull()).isTrue();
        assertThat(r.err()).contains("closest: trial " + rep.get("closest").asInt() + " (" );
    }

    @Test
    void unreachableMaxKldSaysSo() {
        CliRunner.Result r = CliRunner.run(args(100_000, "kld.gguf", "--types", "q4_0", "--ffn-keep", "0.75", "--max-kld", "1e-9",
                "--trials", "3").toArray(String[]::new));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no trial within the budget", "reached --max-kld 1.0E-9", "lowest mean KLD within the budget");
        assertThat(dir.resolve("kld.gguf")).doesNotExist();
    }
}
