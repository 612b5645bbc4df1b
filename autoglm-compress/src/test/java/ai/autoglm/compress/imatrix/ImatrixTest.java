package ai.autoglm.compress.imatrix;

import ai.autoglm.core.quant.ImportanceMatrix;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ReferenceForward;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Importance-matrix collection against a plain double-precision recomputation, and both file formats. */
class ImatrixTest {
    @TempDir
    Path tmp;

    static final String TEXT = "hello world, the world! hello the world, hello world! ".repeat(12);

    @Test
    void sumsEqualAPlainRecomputationOverTheSameChunks() {
        ModelFixtures.Spec s = ModelFixtures.llama();
        Path model = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);
        int ctx = 16;
        ImportanceMatrix im = ImatrixCollector.collect(model, TEXT, "calib.txt", new ImatrixCollector.Settings(ctx, 1, 3, false), null);

        // Independent: tokenize the same way (no prefix for this vocabulary? use the tokenizer's own prefix), run each
        // chunk through the double-precision reference forward, and sum x_j^2 at every linear input.
        Tokenizer tok;
        try (GgufFile g = GgufFile.open(model)) {
            tok = Tokenizers.fromGguf(g.metadata(), model);
        }
        int[] prefix = tok.prefixTokens();
        int[] tokens = tok.encode(TEXT, false);
        int per = ctx - prefix.length;
        Map<String, double[]> sums = new HashMap<>();
        Map<String, Integer> rows = new HashMap<>();
        for (int c = 1; c <= 3; c++) { // --chunk 1 skips the first chunk
            int[] chunk = new int[ctx];
            System.arraycopy(prefix, 0, chunk, 0, prefix.length);
            System.arraycopy(tokens, c * per, chunk, prefix.length, per);
            new ReferenceForward(s, ModelFixtures.hfWeights(s), ctx).onLinearInput((hfName, x) -> {
                double[] acc = sums.computeIfAbsent(ModelFixtures.ggufName(hfName), k -> new double[x.length]);
                for (int j = 0; j < x.length; j++) acc[j] += x[j] * x[j];
                rows.merge(ModelFixtures.ggufName(hfName), 1, Integer::sum);
            }).run(chunk);
        }
        assertThat(im.chunkCount()).isEqualTo(3);
        assertThat(im.chunkSize()).isEqualTo(ctx);
        assertThat(im.datasets()).containsExactly("calib.txt");
        List<String> expectedNames = sums.keySet().stream().filter(n -> n.startsWith("blk.")).sorted().toList();
        assertThat(im.entries().keySet()).containsExactlyElementsOf(expectedNames); // output.weight only with --process-output
        for (String name : expectedNames) {
            ImportanceMatrix.Entry e = im.entries().get(name);
            assertThat(e.counts()).as(name).containsExactly((float) (3 * ctx));
            assertThat(rows.get(name)).isEqualTo(3 * ctx);
            double[] want = sums.get(name);
            assertThat(e.sums()).hasSize(want.length);
            for (int j = 0; j < want.length; j++) {
                assertThat((double) e.sums()[j]).as("%s column %d", name, j).isCloseTo(want[j], within(1e-4 * Math.max(1, want[j])));
            }
        }
    }

    @Test
    void processOutputAddsTheOutputHead() {
        ModelFixtures.Spec s = ModelFixtures.llama();
        Path model = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);
        ImportanceMatrix im = ImatrixCollector.collect(model, TEXT, "t", new ImatrixCollector.Settings(16, 0, 1, true), null);
        assertThat(im.entries()).containsKey("output.weight");
        assertThat(im.entries().get("output.weight").counts()).containsExactly(16f);
    }

    @Test
    void tooLittleTextIsAClearError() {
        Path model = ModelFixtures.writeGguf(ModelFixtures.llama(), tmp.resolve("m.gguf"), GgmlType.F32);
        assertThatThrownBy(() -> ImatrixCollector.collect(model, "hello", "t", new ImatrixCollector.Settings(64, 0, -1, false), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--text has");
    }

    static ImportanceMatrix sample() {
        return new ImportanceMatrix(List.of("a.txt", "b.txt"), 7, 512, Map.of(
                "blk.0.attn_q.weight", new ImportanceMatrix.Entry(new float[]{1f, 2.5f, 1e6f, 0f}, new float[]{1024}),
                "blk.1.ffn_down.weight", new ImportanceMatrix.Entry(new float[]{3f, 4f, 5f, 6f, 7f, 8f}, new float[]{3584}),
                "blk.2.ffn_up.weight", new ImportanceMatrix.Entry(new float[]{9f, 9f}, new float[]{0})), false);
    }

    @Test
    void ggufRoundTripAndLayout() {
        Path f = tmp.resolve("imatrix.gguf");
        ImportanceMatrix m = sample();
        ImatrixFiles.write(m, f);
        // The layout llama-quantize reads, checked with the plain GGUF reader.
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.metadata().get("general.type").asString()).isEqualTo("imatrix");
            assertThat(g.metadata().get("imatrix.datasets").asStringList()).containsExactly("a.txt", "b.txt");
            assertThat(g.metadata().get("imatrix.chunk_count").type()).isEqualTo(GgufValueType.UINT32);
            assertThat(g.metadata().get("imatrix.chunk_size").asLong()).isEqualTo(512);
            assertThat(g.tensorInfo("blk.1.ffn_down.weight.in_sum2").shape()).containsExactly(6, 1);
            assertThat(g.tensorInfo("blk.1.ffn_down.weight.counts").shape()).containsExactly(1, 1);
            assertThat(g.tensorInfo("blk.1.ffn_down.weight.counts").type()).isEqualTo(GgmlType.F32);
        }
        ImportanceMatrix back = ImatrixFiles.read(f);
        assertThat(back.datasets()).isEqualTo(m.datasets());
        assertThat(back.chunkCount()).isEqualTo(7);
        for (var e : m.entries().entrySet()) {
            assertThat(back.entries().get(e.getKey()).sums()).containsExactly(e.getValue().sums());
            assertThat(back.entries().get(e.getKey()).counts()).containsExactly(e.getValue().counts());
        }
        // llama-quantize's values: sums / count, and 1 where a tensor saw no tokens
        assertThat(back.quantWeights("blk.0.attn_q.weight")).containsExactly(1f / 1024, 2.5f / 1024, 1e6f / 1024, 0f);
        assertThat(back.quantWeights("blk.2.ffn_up.weight")).containsExactly(1f, 1f);
        assertThat(back.quantWeights("no.such.weight")).isNull();
    }

    @Test
    void legacyLayoutIsImatrixCppsSaveImatrixLegacy() throws IOException {
        Path f = tmp.resolve("imatrix.dat");
        ImatrixFiles.write(sample(), f);
        // Expected bytes written out by hand from imatrix.cpp save_imatrix_legacy: sorted names, entries whose counts
        // are all 0 skipped, ncall = ceil(count / chunk_size), values (sum / count) * ncall, trailer chunk count + dataset.
        ByteBuffer want = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        want.putInt(2);
        entry(want, "blk.0.attn_q.weight", 2, new float[]{1f / 1024 * 2, 2.5f / 1024 * 2, 1e6f / 1024 * 2, 0});
        entry(want, "blk.1.ffn_down.weight", 7, new float[]{3f / 3584 * 7, 4f / 3584 * 7, 5f / 3584 * 7, 6f / 3584 * 7, 7f / 3584 * 7, 8f / 3584 * 7});
        want.putInt(7);
        want.putInt(5).put("b.txt".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readAllBytes(f)).isEqualTo(Arrays.copyOf(want.array(), want.position()));

        ImportanceMatrix back = ImatrixFiles.read(f);
        assertThat(back.legacy()).isTrue();
        assertThat(back.chunkCount()).isEqualTo(7);
        assertThat(back.datasets()).containsExactly("b.txt");
        float[] qw = back.quantWeights("blk.1.ffn_down.weight"); // stored / ncall, ~ sum / count
        for (int j = 0; j < 6; j++) assertThat(qw[j]).isCloseTo((3f + j) / 3584, within(1e-9f));
        // a legacy file written again is the same file
        Path again = tmp.resolve("again.dat");
        ImatrixFiles.write(back, again);
        assertThat(Files.mismatch(f, again)).isEqualTo(-1);
    }

    private static void entry(ByteBuffer b, String name, int ncall, float[] values) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        b.putInt(n.length).put(n).putInt(ncall).putInt(values.length);
        for (float v : values) b.putFloat(v);
    }

    @Test
    void hostileFilesGetOneClearError() throws IOException {
        Path truncated = tmp.resolve("t.dat");
        ImatrixFiles.write(sample(), truncated);
        byte[] all = Files.readAllBytes(truncated);
        Files.write(truncated, Arrays.copyOf(all, 40));
        assertThatThrownBy(() -> ImatrixFiles.read(truncated)).isInstanceOf(ModelFormatException.class).hasMessageContaining("t.dat");

        Path huge = tmp.resolve("h.dat");
        Files.write(huge, ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(Integer.MAX_VALUE).putInt(0).array());
        assertThatThrownBy(() -> ImatrixFiles.read(huge)).isInstanceOf(ModelFormatException.class).hasMessageContaining("name length");

        Path empty = tmp.resolve("e.dat");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> ImatrixFiles.read(empty)).isInstanceOf(ModelFormatException.class);

        Path model = ModelFixtures.writeGguf(ModelFixtures.llama(), tmp.resolve("not-imatrix.gguf"), GgmlType.F32);
        assertThatThrownBy(() -> ImatrixFiles.read(model)).isInstanceOf(ModelFormatException.class).hasMessageContaining("imatrix.datasets");
    }
}
