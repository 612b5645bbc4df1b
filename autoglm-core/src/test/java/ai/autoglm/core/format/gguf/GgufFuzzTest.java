package ai.autoglm.core.format.gguf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes {@link GgufFile#open}: whatever the bytes, the only exception that may escape is
 * {@link ModelFormatException} (no OutOfMemoryError, IndexOutOfBounds, StackOverflowError, ...), and a file
 * that opens must have readable metadata and tensors.
 *
 * <p>Under plain {@code mvn test} Jazzer runs in regression mode: only the seed inputs in
 * {@code src/test/resources/ai/autoglm/core/format/gguf/GgufFuzzTestInputs/openAcceptsOrRejectsCleanly/}
 * (small valid files written by GgufWriter and hand-assembled hostile ones), so it takes well under a second. To fuzz for real
 * (coverage-guided, new crashing inputs are written next to the seeds):
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl autoglm-core test -Dtest=GgufFuzzTest
 * </pre>
 * which runs for {@code maxDuration} below (raise it there for a longer run). Caveat on JDK 25: Jazzer 0.24.0's
 * bundled ASM cannot instrument class files of major version 69 ("Unsupported class file major version 69"),
 * so the fuzzer gets no coverage feedback from our classes and degrades to blind mutation (it does run: 173k
 * executions in 2 minutes, no finding). {@link GgufMutationTest} is the bounded, deterministic structure-aware
 * mutation test that covers this gap under plain {@code mvn test}.
 */
class GgufFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void openAcceptsOrRejectsCleanly(byte[] data) throws IOException {
        Path p = Files.createTempFile("gguf-fuzz", ".gguf");
        try {
            Files.write(p, data);
            try (GgufFile f = GgufFile.open(p)) {
                f.metadata().forEach((k, v) -> v.value());
                for (GgufTensorInfo info : f.tensorInfos()) {
                    FloatTensor t = f.tensor(info.name());
                    if (t.size() > 0) {
                        t.getFloat(0);
                        t.getFloat(t.size() - 1);
                        int n = (int) Math.min(t.size(), 512);
                        t.dot(0, new float[n], 0, n);
                    }
                }
            } catch (ModelFormatException expected) {
                // the one allowed outcome for bad input
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }
}
