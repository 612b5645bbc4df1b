package ai.autoglm.core.model;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.SegmentTensor;
import ai.autoglm.core.testing.MoeFixtures;
import ai.autoglm.core.testing.MoeFixtures.Spec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the MoE forward pass reads of the expert weights, measured on the real GGUF weight source: every expert view
 * the engine gets from {@link WeightSource#expert} is wrapped in a tensor that counts the elements each read touches
 * (every kernel reads weights through {@code dot}, {@code dotMany}, {@code copyTo} or {@code getFloat}). Per decode
 * step, the bytes read of each layer's expert tensors are exactly the selected experts' bytes (three matrices each),
 * an expert nobody selected is never read, and a prefill chunk reads each selected expert's matrices once however
 * many of its rows picked it. Also: the GGUF source's expert views are the experts' own byte ranges of the mapping.
 */
class ExpertReadsTest {
    @TempDir
    Path tmp;

    /** Element reads of one expert matrix, by (tensor, expert). */
    static final class Counts {
        final Map<String, AtomicLong> elements = new HashMap<>();

        AtomicLong of(String name, int expert) {
            return elements.computeIfAbsent(name + "#" + expert, k -> new AtomicLong());
        }

        void reset() {
            elements.values().forEach(a -> a.set(0));
        }

        long get(String name, int expert) {
            AtomicLong a = elements.get(name + "#" + expert);
            return a == null ? 0 : a.get();
        }
    }

    /** A view that counts the elements read through it. */
    static final class CountingTensor extends FloatTensor {
        private final FloatTensor base;
        private final AtomicLong read;

        CountingTensor(FloatTensor base, AtomicLong read) {
            this.base = base;
            this.read = read;
        }

        @Override
        public long size() {
            return base.size();
        }

        @Override
        public GgmlType type() {
            return base.type();
        }

        @Override
        public float getFloat(long index) {
            read.incrementAndGet();
            return base.getFloat(index);
        }

        @Override
        public float dot(long offset, float[] x, int xOffset, int n) {
            read.addAndGet(n);
            return base.dot(offset, x, xOffset, n);
        }

        @Override
        public void dotMany(long offset, int n, float[] x, int xOffset, int xStride, int count, float[] out, int outOffset, int outStride) {
            read.addAndGet(n); // one row, applied to count tokens
            base.dotMany(offset, n, x, xOffset, xStride, count, out, outOffset, outStride);
        }

        @Override
        public void copyTo(long offset, float[] out, int outOffset, int n) {
            read.addAndGet(n);
            base.copyTo(offset, out, outOffset, n);
        }
    }

    /** The GGUF file's weights, each expert view counted. */
    static final class CountingWeightSource implements WeightSource {
        final GgufWeightSource base;
        final Counts counts = new Counts();

        CountingWeightSource(GgufWeightSource base) {
            this.base = base;
        }

        @Override
        public Set<String> names() {
            return base.names();
        }

        @Override
        public FloatTensor tensor(String name) {
            return base.tensor(name);
        }

        @Override
        public long[] shape(String name) {
            return base.shape(name);
        }

        @Override
        public FloatTensor expert(String name, int expert) {
            return new CountingTensor(base.expert(name, expert), counts.of(name, expert));
        }

        @Override
        public void close() {
            base.close();
        }
    }

    @Test
    void decodeReadsExactlyTheSelectedExpertsAndPrefillReadsEachOnce() {
        Spec s = MoeFixtures.glm45();
        Path file = MoeFixtures.writeGguf(s, tmp.resolve("glm45-q8.gguf"), GgmlType.Q8_0);
        CountingWeightSource weights = new CountingWeightSource(new GgufWeightSource(GgufFile.open(file)));
        ModelConfig config = ModelConfig.fromGguf(file, weights.base.file().metadata(), weights);
        try (TransformerModel m = new TransformerModel(config, weights, null, null, file)) {
            List<int[]>[] routed = MoeModelTest.perLayer(s);
            m.observeRouting((layer, experts, w) -> routed[layer].add(experts));
            InferenceState st = m.newState(64);
            int[] prompt = MoeModelTest.sequence(40, 3);

            // prefill one chunk: each expert any row picked is read once (its whole matrices), the others not at all
            m.forward(st, prompt, 0, 30, false);
            assertReads(s, weights, routed, 30, 1);

            // decode: exactly the selected experts' bytes, token after token
            for (int t = 30; t < 40; t++) {
                weights.counts.reset();
                for (List<int[]> r : routed) r.clear();
                m.forward(st, prompt, t, 1, false);
                long bytes = assertReads(s, weights, routed, 1, 1);
                long perExpert = 3 * GgmlType.Q8_0.bytesFor((long) s.dim() * s.expertFfn());
                assertThat(bytes).isEqualTo((long) (s.layers() - s.leadingDense()) * s.used() * perExpert);
            }
        }
    }

    /**
     * Checks every routed layer: an expert selected by some of the last {@code rows} rows was read {@code times}
     * times in full (gate, up, down), the others never. Returns the expert bytes read.
     */
    private static long assertReads(Spec s, CountingWeightSource w, List<int[]>[] routed, int rows, int times) {
        long bytes = 0;
        for (int l = 0; l < s.layers(); l++) {
            if (!s.moeLayer(l)) continue;
            assertThat(routed[l]).hasSize(rows);
            Set<Integer> used = new HashSet<>();
            for (int[] r : routed[l]) for (int e : r) used.add(e);
            for (String t : List.of("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps")) {
                String name = "blk." + l + "." + t + ".weight";
                long matrix = (long) s.dim() * s.expertFfn();
                for (int e = 0; e < s.experts(); e++) {
                    long read = w.counts.get(name, e);
                    assertThat(read).as("%s expert %d (selected: %s)", name, e, used.contains(e))
                            .isEqualTo(used.contains(e) ? times * matrix : 0);
                    bytes += GgmlType.Q8_0.bytesFor(read);
                }
            }
        }
        return bytes;
    }

    @Test
    void ggufExpertViewsAreTheExpertsOwnByteRanges() {
        Spec s = MoeFixtures.qwen3Moe();
        Path file = MoeFixtures.writeGguf(s, tmp.resolve("q3moe-q8.gguf"), GgmlType.Q8_0);
        try (GgufWeightSource w = new GgufWeightSource(GgufFile.open(file))) {
            String name = "blk.1.ffn_down_exps.weight";
            SegmentTensor all = (SegmentTensor) w.tensor(name);
            long per = GgmlType.Q8_0.bytesFor((long) s.dim() * s.expertFfn());
            List<Long> starts = new ArrayList<>();
            for (int e = 0; e < s.experts(); e++) {
                SegmentTensor view = (SegmentTensor) w.expert(name, e);
                assertThat(view.segment().byteSize()).isEqualTo(per);
                assertThat(view.segment().address() - all.segment().address()).isEqualTo(e * per);
                starts.add(view.segment().address());
                // and the same values as the stacked tensor's e-th slice
                for (long i = 0; i < view.size(); i += 97) assertThat(view.getFloat(i)).isEqualTo(all.getFloat(e * view.size() + i));
            }
            assertThat(starts).doesNotHaveDuplicates();
        }
    }
}
