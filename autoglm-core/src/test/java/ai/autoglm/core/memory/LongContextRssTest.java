package ai.autoglm.core.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One measured check (not a timing test) of issue 21's proof at a smaller context: a fresh JVM with the launcher's
 * flags ({@link LauncherJvm}) loads the long-context fixture ({@link LongContextProbe#spec}: 1.5 MiB of weights, 2 KiB
 * of F32 KV cache a position), warms up, prefills 8,191 positions and decodes the last, and its peak resident set
 * (VmHWM) must be within 10% of the memory model's total for one sequence of 8,192 positions in an engine process
 * ({@link ProcessKind#ENGINE}); its KV cache must be exactly the model's KV figure. bench/long-context.sh does the same
 * at 32,768 positions (bench/RESULTS.md, "Long context").
 */
class LongContextRssTest {
    static final int POSITIONS = 8192;

    @TempDir
    Path dir;

    @Test
    void peakResidentSetOfAnEightThousandPositionRunIsWithinTenPercentOfTheMemoryModel() throws Exception {
        Path model = dir.resolve("long.gguf");
        LauncherJvm.run(60, LongContextProbe.class.getName(), "write", model.toString(), Integer.toString(POSITIONS));
        LauncherJvm.Result r = LauncherJvm.run(300, LongContextProbe.class.getName(), "run", model.toString(),
                Integer.toString(POSITIONS), "f32", "f32");
        assertThat(r.get("kv_allocated")).as(r.output()).isEqualTo(r.get("kv_estimate"));
        double ratio = (double) r.get("hwm") / r.get("estimate");
        assertThat(ratio).as("peak RSS / memory model total\n" + r.output()).isBetween(0.90, 1.10);
    }
}
