package ai.autoglm.core.memory;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One measured check (not a timing test): a fresh JVM ({@link RssProbe}, the launcher's flags: {@link LauncherJvm})
 * loads a fixture model
 * of ~28 MiB F32 weights with a 4096-position sequence (whose off-heap KV cache grows in chunks: one token allocates the
 * first 256 positions, 2 MiB), runs one token, and reports how much its VmRSS grew. The growth must cover the model's
 * own part of the estimate (weights read by the forward pass, the KV chunk, buffers zeroed by Java), and the whole VmRSS must stay within the estimate including
 * the JVM part of an engine process ({@link ProcessKind#ENGINE}).
 */
class MemoryModelRssTest {
    @TempDir
    Path dir;

    @Test
    void residentGrowthAfterLoadAndOneTokenIsWithinTheEstimate() throws Exception {
        Path model = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(512, 8, 8, 1536).withContext(4096), dir.resolve("m.gguf"), GgmlType.F32);
        LauncherJvm.Result r = LauncherJvm.run(60, RssProbe.class.getName(), model.toString(), "4096");
        long growth = r.get("after") - r.get("start");
        long modelPart = r.get("model");
        assertThat(modelPart).isGreaterThan(28L << 20);
        assertThat(growth).as(r.output()).isGreaterThanOrEqualTo(modelPart * 9 / 10);
        assertThat(r.get("after")).as("total VmRSS within the estimate\n" + r.output()).isLessThanOrEqualTo(r.get("estimate"));
    }
}
