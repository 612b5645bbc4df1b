package ai.autoglm.compress.prune;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.core.testing.MoeFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Structured pruning and layer dropping refuse a mixture-of-experts model with one clear error instead of half pruning it. */
class MoePruningRefusedTest {
    @TempDir
    Path tmp;

    @Test
    void mixtureOfExpertsModelsAreRefused() {
        try (GgufModel m = GgufModel.open(MoeFixtures.writeGguf(MoeFixtures.qwen3Moe(), tmp.resolve("moe.gguf")))) {
            assertThatThrownBy(() -> StructuredPruning.shrink(m, List.of()))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("mixture-of-experts").hasMessageContaining("qwen3moe");
            assertThatThrownBy(() -> LayerDropping.drop(m, Set.of(1)))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("mixture-of-experts");
        }
    }
}
