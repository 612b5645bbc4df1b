package ai.autoglm.compress.auto;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.search.Candidate;
import ai.autoglm.compress.search.Dimension;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompressionSpaceTest {
    @TempDir
    Path dir;

    @Test
    void offersOnlyTypesWhoseBlocksDivideTheRowsAndRoundsChannelsToBlocks() {
        // dim 64: rows of 64 are whole 32-blocks (q8_0, q4_0) but not 256-blocks (the K-quants); ffn 160.
        Path f = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("m.gguf"), GgmlType.F32);
        try (GgufModel m = GgufModel.open(f)) {
            CompressionSpace s = CompressionSpace.of(m, CompressionSpace.DEFAULT_TYPES, List.of(1.0, 0.875, 0.75, 0.5));
            List<Dimension> d = s.searchSpace().dimensions();
            assertThat(d.get(0).options()).containsExactly("f16", "q8_0", "q4_0");
            assertThat(d.get(1).options()).containsExactly("f16", "q8_0", "q4_0");
            assertThat(d.get(2).options()).containsExactly("f16", "q8_0", "q4_0");
            // 160 * 0.875 = 140 -> 128 (4 blocks of 32); 0.75 -> 120 -> 128 again (dropped as a repeat); 0.5 -> 80 -> 96 (2.5 rounds half up).
            assertThat(d.get(3).options()).containsExactly("1.0", "0.875", "0.5");
            CompressionRecipe r = s.recipe(new Candidate(Map.of(CompressionSpace.ATTN_TYPE, "q8_0", CompressionSpace.FFN_TYPE, "q4_0",
                    CompressionSpace.EMBD_TYPE, "f16", CompressionSpace.FFN_KEEP, "0.5")));
            assertThat(r).isEqualTo(new CompressionRecipe(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16, 96));
            assertThatThrownBy(() -> CompressionSpace.of(m, List.of(GgmlType.Q4_K), List.of(1.0)))
                    .hasMessageContaining("none of the types [q4_k] fits the row length");
        }
    }

    @Test
    void channelCounts() {
        assertThat(CompressionSpace.channels(704, 0.875)).isEqualTo(608); // 616 / 32 = 19.25 -> 19 blocks
        assertThat(CompressionSpace.channels(704, 0.75)).isEqualTo(544);  // 528 / 32 = 16.5 -> 17 blocks
        assertThat(CompressionSpace.channels(704, 1.0)).isEqualTo(704);
        assertThat(CompressionSpace.channels(100, 0.75)).isEqualTo(75);   // not a multiple of 32: plain rounding
        assertThat(CompressionSpace.channels(32, 0.1)).isEqualTo(3);
    }
}
