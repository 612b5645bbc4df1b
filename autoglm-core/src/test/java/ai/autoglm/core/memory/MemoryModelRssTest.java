package ai.autoglm.core.memory;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One measured check (not a timing test): a fresh JVM ({@link RssProbe}, the launcher's flags, -Xmx2g so the GC
 * structures do not depend on the machine's RAM) loads a fixture model
 * of ~28 MiB F32 weights with a 4096-position sequence (whose off-heap KV cache grows in chunks: one token allocates the
 * first 256 positions, 2 MiB), runs one token, and reports how much its VmRSS grew. The growth must cover the model's
 * own part of the estimate (weights read by the forward pass, the KV chunk, buffers zeroed by Java), and the whole VmRSS must stay within the estimate including
 * {@link MemoryModel#JVM_OVERHEAD_BYTES}.
 */
class MemoryModelRssTest {
    @TempDir
    Path dir;

    @Test
    void residentGrowthAfterLoadAndOneTokenIsWithinTheEstimate() throws IOException, InterruptedException {
        Path model = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(512, 8, 8, 1536).withContext(4096), dir.resolve("m.gguf"), GgmlType.F32);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-Xmx2g", "-cp", System.getProperty("java.class.path"), RssProbe.class.getName(), model.toString(), "4096")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, Long> v = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            if (kv.length == 2 && kv[1].matches("-?\\d+")) v.put(kv[0], Long.parseLong(kv[1]));
        }
        assertThat(v.keySet()).as(out).containsAll(List.of("start", "after", "estimate", "model"));
        long growth = v.get("after") - v.get("start");
        long modelPart = v.get("model");
        assertThat(modelPart).isGreaterThan(28L << 20);
        assertThat(growth).as(out).isGreaterThanOrEqualTo(modelPart * 9 / 10);
        assertThat(v.get("after")).as("total VmRSS within the estimate\n" + out).isLessThanOrEqualTo(v.get("estimate"));
    }
}
