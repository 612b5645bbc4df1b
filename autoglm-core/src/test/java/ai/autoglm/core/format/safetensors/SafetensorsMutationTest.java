package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A deterministic, bounded mutation sweep over a valid file: every header byte overwritten with a handful of
 * values, every truncation length, and both length-field bytes. Each mutant must open cleanly or fail with a
 * ModelFormatException; nothing else may escape. (Complements the Jazzer test, which under plain {@code mvn test}
 * only replays its seeds, and cannot instrument JDK 25 classes for guided fuzzing.)
 */
class SafetensorsMutationTest {

    @TempDir
    Path dir;

    private int opened;
    private int rejected;

    private void check(Path p, byte[] bytes, String what) throws IOException {
        Files.write(p, bytes);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            opened++;
            for (SafetensorsTensorInfo info : f.tensors().values()) {
                try {
                    FloatTensor t = f.tensor(info.name());
                    if (t.size() > 0) {
                        t.getFloat(0);
                        t.getFloat(t.size() - 1);
                    }
                } catch (ModelFormatException unsupported) {
                    assertThat(unsupported.getMessage()).contains("unsupported dtype");
                }
            }
        } catch (ModelFormatException expected) {
            rejected++;
            assertThat(expected.getMessage()).startsWith(p.toString());
        } catch (Throwable t) {
            fail(what + " escaped as " + t, t);
        }
    }

    @Test
    void everyMutantOpensOrFailsCleanly() throws IOException {
        Path valid = dir.resolve("valid.safetensors");
        new SafetensorsWriter()
                .putMetadata("format", "pt")
                .add("a", new long[]{2, 3}, "F32", new float[]{1, 2, 3, 4, 5, 6})
                .add("b", new long[]{4}, "BF16", new float[]{1, 2, 3, 4})
                .add("c", new long[]{1, 2}, "F16", new float[]{1, 2})
                .write(valid);
        byte[] good = Files.readAllBytes(valid);
        int headerEnd = 8 + (int) java.nio.ByteBuffer.wrap(good, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Path p = dir.resolve("mutant.safetensors");
        byte[] values = {0, (byte) 0xFF, '{', '}', '"', '9', '-', ',', '[', ' ', 'I', (byte) 0x80};
        for (int pos = 0; pos < headerEnd; pos++) {
            for (byte v : values) {
                if (good[pos] == v) continue;
                byte[] m = good.clone();
                m[pos] = v;
                check(p, m, "byte " + pos + " := " + v);
            }
        }
        for (int len = 0; len < good.length; len++) {
            check(p, Arrays.copyOf(good, len), "truncated to " + len);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        check(p, longer, "3 trailing bytes");
        assertThat(opened).isPositive();   // some mutants (e.g. a changed metadata character) are still valid
        assertThat(rejected).isPositive();
    }
}
