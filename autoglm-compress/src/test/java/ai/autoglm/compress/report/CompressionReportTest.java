package ai.autoglm.compress.report;

import ai.autoglm.compress.search.CompressionSearch;
import ai.autoglm.compress.search.CompressionSearchTest;
import ai.autoglm.compress.search.Constraints;
import ai.autoglm.compress.search.SearchResult;
import ai.autoglm.compress.search.SearchStrategy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CompressionReportTest {
    @TempDir
    Path dir;

    @Test
    void jsonAndHtmlListEveryTrialTheFrontAndTheChoice() throws Exception {
        Constraints c = new Constraints(2_400_000, null, null);
        SearchResult r = new CompressionSearch(CompressionSearchTest.space(), new SearchStrategy.RandomSearch(), c)
                .run(cand -> {
                    if (cand.get("output.type").equals("q4_0") && cand.get("ffn_up.type").equals("f16")) throw new IllegalStateException("<boom>");
                    return CompressionSearchTest.synthetic(cand);
                }, 40, 7, (t, n) -> { });
        CompressionReport.write(dir, new CompressionReport.Header("m<1>.gguf", "random", 4096, c), r);

        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertThat(json.get("trials")).hasSize(40);
        assertThat(json.get("chosen").asInt()).isEqualTo(r.chosen().orElseThrow().number());
        assertThat(json.get("pareto_front")).hasSize(r.paretoFront().size());
        JsonNode chosen = json.get("trials").get(r.chosen().get().number() - 1);
        assertThat(chosen.get("feasible").asBoolean()).isTrue();
        assertThat(chosen.get("mean_kld").asDouble()).isEqualTo(r.chosen().get().measurement().meanKld());
        assertThat(chosen.get("memory_mb").asDouble() * 1024 * 1024).isLessThanOrEqualTo(2_400_000.0 + 1e-6);

        String html = Files.readString(dir.resolve("report.html"));
        assertThat(html).contains("<svg", "budget", "m&lt;1&gt;.gguf", "Chosen: trial " + r.chosen().get().number()).doesNotContain("<boom>", "m<1>");
        assertThat(html.split("<circle", -1)).hasSize((int) r.trials().stream().filter(t -> t.measured()).count() + 1);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("report.json", "report.html");
        }
    }
}
