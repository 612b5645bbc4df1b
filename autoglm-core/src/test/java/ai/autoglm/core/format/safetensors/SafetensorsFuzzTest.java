package ai.autoglm.core.format.safetensors;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes {@link SafetensorsFile#open}: any byte string either opens, with every readable tensor readable end to end,
 * or fails with a ModelFormatException; never another exception or an OutOfMemoryError. Under plain {@code mvn test}
 * Jazzer runs in regression mode over the seeds in {@code src/test/resources/.../SafetensorsFuzzTestInputs};
 * {@code JAZZER_FUZZ=1} fuzzes for real.
 */
class SafetensorsFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void openNeverFailsOtherwise(byte[] input) throws IOException {
        if (input.length > 1 << 20) return; // keep each run small
        Path p = Files.createTempFile("fuzz", ".safetensors");
        try {
            Files.write(p, input);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (SafetensorsTensorInfo info : f.tensors().values()) {
                    FloatTensor t;
                    try {
                        t = f.tensor(info.name());
                    } catch (ModelFormatException unsupported) {
                        continue;
                    }
                    if (t.size() > 0) {
                        t.getFloat(0);
                        t.getFloat(t.size() - 1);
                    }
                }
            } catch (ModelFormatException expected) {
                // the one allowed failure
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }
}
