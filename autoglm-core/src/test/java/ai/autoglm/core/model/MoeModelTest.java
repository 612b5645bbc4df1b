package ai.autoglm.core.model;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.MoeFixtures;
import ai.autoglm.core.testing.MoeFixtures.Spec;
import ai.autoglm.core.testing.MoeReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen3, Qwen3-MoE and GLM-4.5 end to end from files: one set of random weights written as the HF checkpoint and as
 * the GGUF llama.cpp's converter makes from it (both by {@link MoeFixtures}, not by the project's converter), loaded
 * through {@link ModelLoader}; both give the logits of {@link MoeReferenceForward} (double precision, written from the
 * transformers modeling files) within 1e-4 of the largest logit, and each other's; the project's converter turns the
 * HF checkpoint into a GGUF with exactly the fixture's tensor names, shapes and MoE keys, which gives the same logits.
 */
class MoeModelTest {
    @TempDir
    Path tmp;

    static final int[] TOKENS = {256, 104, 101, 108, 108, 111, 32, 119, 263, 10, 7, 200, 33, 91, 270, 40, 41, 99};

    static Stream<Arguments> specs() {
        return Stream.of(Arguments.of("Qwen3 dense", MoeFixtures.qwen3()),
                Arguments.of("Qwen3-MoE", MoeFixtures.qwen3Moe()),
                Arguments.of("GLM-4.5", MoeFixtures.glm45()),
                Arguments.of("GLM-4.5 grouped top-k, q/k norm", MoeFixtures.glm45GroupedQkNorm()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void hfAndGgufGiveTheReferenceLogits(String name, Spec s) {
        double[][] ref = new MoeReferenceForward(s, MoeFixtures.hfTensors(s), TOKENS.length).run(TOKENS);
        Path hf = MoeFixtures.writeHf(s, tmp.resolve("hf"));
        Path gguf = MoeFixtures.writeGguf(s, tmp.resolve("m.gguf"));
        float[] fromHf = logits(hf, s);
        float[] fromGguf = logits(gguf, s);
        assertRowsClose(name + " HF dir", fromHf, ref, 1e-4);
        assertRowsClose(name + " GGUF", fromGguf, ref, 1e-4);
        assertRowsClose(name + " GGUF vs HF", fromGguf, rows(fromHf, s.vocab()), 1e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void convertWritesWhatLlamaCppWritesAndKeepsTheLogits(String name, Spec s) {
        Path hf = MoeFixtures.writeHf(s, tmp.resolve("hf"));
        Path converted = tmp.resolve("converted.gguf");
        HfToGgufConverter.convert(hf, converted, GgmlType.F32);
        Map<String, MoeFixtures.Named> expected = MoeFixtures.ggufTensors(s, MoeFixtures.hfTensors(s));
        try (GgufFile g = GgufFile.open(converted)) {
            // the same tensors (names and GGUF shapes) as convert_hf_to_gguf.py writes, in any order
            Map<String, List<Long>> shapes = new LinkedHashMap<>();
            g.tensorInfos().forEach(t -> shapes.put(t.name(), Arrays.stream(t.shape()).boxed().toList()));
            Map<String, List<Long>> want = new LinkedHashMap<>();
            expected.forEach((k, v) -> want.put(k, Arrays.stream(v.shape()).boxed().toList()));
            assertThat(new TreeSet<>(shapes.keySet())).isEqualTo(new TreeSet<>(want.keySet()));
            assertThat(shapes).containsAllEntriesOf(want);
            // every architecture key of the reference's metadata, with its value
            String a = s.kind().ggufArch;
            for (Map.Entry<String, GgufValue> e : MoeFixtures.ggufMetadata(s).entrySet()) {
                if (!e.getKey().startsWith(a + ".")) continue;
                assertThat(g.metadata()).as(e.getKey()).containsKey(e.getKey());
                assertThat(g.metadata().get(e.getKey()).value()).as(e.getKey()).isEqualTo(e.getValue().value());
            }
            assertThat(g.tensorInfo(s.moe() ? "blk." + (s.layers() - 1) + ".ffn_gate_inp.weight" : "blk.0.attn_q.weight").type()).isEqualTo(GgmlType.F32);
        }
        assertRowsClose(name + " converted GGUF vs HF", logits(converted, s), rows(logits(hf, s), s.vocab()), 1e-5);
    }

    @Test
    void qwen3QkNormsAndGlmSelectionBiasChangeTheFunction() {
        // the reference is sensitive to what the engine must get right: without q/k norms (Qwen3) or without the
        // selection bias (GLM-4.5) its logits differ, so agreeing with it means implementing them
        Spec q = MoeFixtures.qwen3();
        Map<String, MoeFixtures.Named> w = MoeFixtures.hfTensors(q);
        double[][] ref = new MoeReferenceForward(q, w, TOKENS.length).run(TOKENS);
        Map<String, MoeFixtures.Named> noNorm = new LinkedHashMap<>(w);
        noNorm.keySet().removeIf(k -> k.contains("q_norm") || k.contains("k_norm"));
        double[][] plain = new MoeReferenceForward(q, noNorm, TOKENS.length).run(TOKENS);
        assertThat(LogitsAssert.relativeError(toFloat(plain[TOKENS.length - 1]), 0, ref[TOKENS.length - 1])).isGreaterThan(1e-2);

        Spec g = MoeFixtures.glm45();
        Map<String, MoeFixtures.Named> gw = MoeFixtures.hfTensors(g);
        MoeReferenceForward withBias = new MoeReferenceForward(g, gw, 200);
        withBias.run(sequence(200, 5));
        Map<String, MoeFixtures.Named> zeroBias = new LinkedHashMap<>(gw);
        zeroBias.replaceAll((k, v) -> k.endsWith("e_score_correction_bias") ? new MoeFixtures.Named(new float[v.values().length], v.shape()) : v);
        MoeReferenceForward noBias = new MoeReferenceForward(g, zeroBias, 200);
        noBias.run(sequence(200, 5));
        int differ = 0;
        for (int t = 0; t < 200; t++) if (!Arrays.equals(withBias.routing().get(t)[1], noBias.routing().get(t)[1])) differ++;
        assertThat(differ).as("tokens whose layer-1 experts change with the selection bias").isGreaterThan(10);
    }

    static Stream<Arguments> moeSpecs() {
        return Stream.of(Arguments.of("Qwen3-MoE", MoeFixtures.qwen3Moe()), Arguments.of("GLM-4.5", MoeFixtures.glm45()),
                Arguments.of("GLM-4.5 grouped", MoeFixtures.glm45GroupedQkNorm()));
    }

    /** The engine selects the reference's top-k sets for 1,000 tokens in every routed layer (prefill chunks and decode). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("moeSpecs")
    void routingMatchesTheReferenceOn1000Tokens(String name, Spec s) {
        int n = 1000;
        int[] tokens = sequence(n, 11);
        MoeReferenceForward ref = new MoeReferenceForward(s, MoeFixtures.hfTensors(s), n);
        ref.run(tokens);
        Path gguf = MoeFixtures.writeGguf(s, tmp.resolve("m.gguf"));
        try (TransformerModel m = (TransformerModel) ModelLoader.load(gguf)) {
            List<int[]>[] seen = perLayer(s);
            m.observeRouting((layer, experts, weights) -> {
                int[] sorted = experts.clone();
                Arrays.sort(sorted);
                seen[layer].add(sorted);
            });
            InferenceState st = m.newState(n);
            m.forward(st, tokens, 0, 900, false);  // prefill: chunks of 64 rows grouped by expert
            for (int t = 900; t < n; t++) m.forward(st, tokens, t, 1, false); // decode
            int compared = 0;
            for (int l = 0; l < s.layers(); l++) {
                if (!s.moeLayer(l)) {
                    assertThat(seen[l]).isEmpty();
                    continue;
                }
                assertThat(seen[l]).hasSize(n);
                for (int t = 0; t < n; t++) {
                    assertThat(seen[l].get(t)).as("layer %d token %d", l, t).isEqualTo(ref.routing().get(t)[l]);
                    compared++;
                }
            }
            assertThat(compared).isGreaterThanOrEqualTo(n);
        }
    }

    /**
     * A batched step over several sequences (the server's continuous batching: rows of different sequences grouped by
     * expert together) gives each sequence the logits it gets alone.
     */
    @Test
    void forwardBatchOfSeveralSequencesEqualsEachAlone() {
        Spec s = MoeFixtures.glm45();
        try (TransformerModel m = (TransformerModel) ModelLoader.load(MoeFixtures.writeGguf(s, tmp.resolve("g.gguf")))) {
            int[] a = sequence(20, 1), b = sequence(7, 2), c = sequence(33, 3);
            float[][] alone = new float[3][];
            int[][] seqs = {a, b, c};
            for (int i = 0; i < 3; i++) alone[i] = m.forward(m.newState(64), seqs[i], 0, seqs[i].length, false).clone();
            InferenceState[] st = {m.newState(64), m.newState(64), m.newState(64)};
            float[][] batched = m.forwardBatch(List.of(new BatchEntry(st[0], a, 0, a.length), new BatchEntry(st[1], b, 0, b.length),
                    new BatchEntry(st[2], c, 0, c.length)));
            for (int i = 0; i < 3; i++) {
                assertRowsClose("sequence " + i, batched[i], new double[][]{LogitsAssert.toDouble(alone[i], 0, alone[i].length)}, 1e-5);
            }
        }
    }

    /**
     * {@code --quantize q8_0} at load (serve/run): an HF MoE checkpoint's stacked experts become Q8_0 3-D tensors (the
     * router and the selection bias stay F32, as llama-quantize keeps them), with the very bytes of the Q8_0 GGUF written
     * from the same weights, so the two give the same logits. (Not compared with F32: rounding moves near-tied routing
     * decisions, and one flipped expert changes a token's output by far more than the rounding itself.)
     */
    @Test
    void inMemoryQuantizationOfAnHfMoeCheckpoint() {
        Spec s = MoeFixtures.glm45();
        Path hf = MoeFixtures.writeHf(s, tmp.resolve("hf"));
        float[] q8File;
        try (LanguageModel m = ModelLoader.load(MoeFixtures.writeGguf(s, tmp.resolve("q8.gguf"), GgmlType.Q8_0))) {
            q8File = m.forward(m.newState(32), TOKENS, 0, TOKENS.length, true);
        }
        try (TransformerModel m = (TransformerModel) ai.autoglm.core.quant.InMemoryQuantizer.load(hf, GgmlType.Q8_0)) {
            WeightSource w = m.weights();
            assertThat(w.tensor("blk.1.ffn_gate_exps.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(w.shape("blk.1.ffn_down_exps.weight")).containsExactly(s.expertFfn(), s.dim(), s.experts());
            assertThat(w.tensor("blk.1.ffn_gate_inp.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(w.tensor("blk.1.exp_probs_b.bias").type()).isEqualTo(GgmlType.F32);
            float[] q = m.forward(m.newState(32), TOKENS, 0, TOKENS.length, true);
            assertRowsClose("in-memory Q8_0 of the HF dir vs the Q8_0 GGUF", q, rows(q8File, s.vocab()), 1e-5);
        }
    }

    /** info's "total / active per token": every stored element vs those a token runs (used of experts; no MTP block). */
    @Test
    void parameterCountsOfGguAndHfAgreeWithTheTensorList() {
        Spec s = MoeFixtures.glm45();
        long total = 0, active = 0;
        for (Map.Entry<String, MoeFixtures.Named> e : MoeFixtures.ggufTensors(s, MoeFixtures.hfTensors(s)).entrySet()) {
            long n = e.getValue().values().length;
            total += n;
            if (e.getKey().startsWith("blk." + s.layers() + ".")) continue; // the MTP block
            active += e.getKey().contains("_exps.") ? n / s.experts() * s.used() : n;
        }
        assertThat(active).isLessThan(total);
        for (Path p : List.of(MoeFixtures.writeGguf(s, tmp.resolve("g.gguf")), MoeFixtures.writeHf(s, tmp.resolve("hf")))) {
            try (TransformerModel m = (TransformerModel) ModelLoader.load(p)) {
                assertThat(ParameterCounts.of(m.config(), m.weights())).isEqualTo(new ParameterCounts(total, active));
            }
        }
        Spec q = MoeFixtures.qwen3();
        try (TransformerModel m = (TransformerModel) ModelLoader.load(MoeFixtures.writeGguf(q, tmp.resolve("q.gguf")))) {
            ParameterCounts c = ParameterCounts.of(m.config(), m.weights());
            assertThat(c.active()).isEqualTo(c.total());
        }
    }

    private static float[] logits(Path model, Spec s) {
        try (LanguageModel m = ModelLoader.load(model)) {
            int vocab = m.config().vocabSize();
            assertThat(vocab).isEqualTo(s.vocab());
            InferenceState st = m.newState(32);
            float[] all = new float[TOKENS.length * vocab];
            int split = 11;
            System.arraycopy(m.forward(st, TOKENS, 0, split, true), 0, all, 0, split * vocab);
            for (int t = split; t < TOKENS.length; t++) System.arraycopy(m.forward(st, TOKENS, t, 1, true), 0, all, t * vocab, vocab);
            return all;
        }
    }

    @SuppressWarnings("unchecked")
    static List<int[]>[] perLayer(Spec s) {
        List<int[]>[] seen = new List[s.layers()];
        for (int l = 0; l < seen.length; l++) seen[l] = new ArrayList<>();
        return seen;
    }

    /** A deterministic token sequence over the whole vocabulary. */
    static int[] sequence(int n, int seed) {
        java.util.Random r = new java.util.Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(ai.autoglm.core.testing.ModelFixtures.VOCAB_SIZE);
        return t;
    }

    private static double[][] rows(float[] flat, int vocab) {
        double[][] r = new double[flat.length / vocab][];
        for (int t = 0; t < r.length; t++) r[t] = LogitsAssert.toDouble(flat, t * vocab, vocab);
        return r;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
