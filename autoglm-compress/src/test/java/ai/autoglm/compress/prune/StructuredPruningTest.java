package ai.autoglm.compress.prune;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.TestModels;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.model.DenseProjection;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.ProjectionDecorator;
import ai.autoglm.core.tensor.ArrayFloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StructuredPruningTest {
    @TempDir
    Path dir;

    /** The unpruned model with the heads and channels {@code selections} remove masked out: the reference. */
    private static float[] maskedLogits(GgufModel model, List<LayerSelection> selections) {
        ModelConfig c = model.config();
        TestModels.Mask mask = new TestModels.Mask();
        for (int l = 0; l < c.layers(); l++) {
            LayerSelection s = selections.get(l);
            List<Integer> headCols = new ArrayList<>(), ffnCols = new ArrayList<>();
            for (int h = 0; h < c.heads(); h++) {
                if (!contains(s.keptHeads(), h)) for (int i = 0; i < c.headDim(); i++) headCols.add(h * c.headDim() + i);
            }
            for (int i = 0; i < c.ffnDim(); i++) if (!contains(s.keptFfn(), i)) ffnCols.add(i);
            mask.zeroInputs("blk." + l + ".attn_output.weight", c.qDim(), headCols);
            mask.zeroInputs("blk." + l + ".ffn_down.weight", c.ffnDim(), ffnCols);
        }
        return TestModels.logits(model.load(mask));
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    private void headsAndChannelsEqualTheMaskedModel(Supplier<GgufModel> fixture, StructuredPlan plan, int heads, int kvHeads, int ffn) {
        GgufModel model = fixture.get();
        ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 512);
        List<LayerSelection> sel = StructuredPruning.select(model, plan, stats);
        GgufModel pruned = StructuredPruning.shrink(model, sel);
        ModelConfig c = pruned.config();
        assertThat(c.heads()).isEqualTo(heads);
        assertThat(c.kvHeads()).isEqualTo(kvHeads);
        assertThat(c.ffnDim()).isEqualTo(ffn);
        assertThat(c.headDim()).isEqualTo(model.config().headDim());
        float[] actual = TestModels.logits(pruned.load(ProjectionDecorator.NONE));
        TestModels.assertClose(actual, maskedLogits(model, sel), 1e-5);
        assertThat(maxDiff(actual, TestModels.logits(model.load(ProjectionDecorator.NONE)))).as("pruning changed the model").isGreaterThan(1e-2);
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void llamaQueryHeadsWithinGroupsAndChannels() {
        headsAndChannelsEqualTheMaskedModel(TestModels::llama, StructuredPlan.none().withHeads(2).withFfnKeep(0.5), 2, 2, 80);
    }

    @Test
    void llamaWholeKeyValueGroup() {
        headsAndChannelsEqualTheMaskedModel(TestModels::llama, StructuredPlan.none().withKvGroups(1), 2, 1, 160);
    }

    @Test
    void chatglmFusedQkvWithBiasAndFusedGateUp() {
        headsAndChannelsEqualTheMaskedModel(TestModels::chatglm, StructuredPlan.none().withHeads(2).withFfnKeep(0.75), 2, 2, 72);
    }

    @Test
    void chatglmWholeGroupWrittenAsSplitQkv() {
        headsAndChannelsEqualTheMaskedModel(TestModels::chatglm, StructuredPlan.none().withKvGroups(1), 2, 1, 96);
        GgufModel model = TestModels.chatglm();
        GgufModel pruned = StructuredPruning.prune(model, StructuredPlan.none().withKvGroups(1), Calibration.collect(model, TestModels.CALIBRATION, 128));
        assertThat(pruned.weights().names()).contains("blk.0.attn_q.weight", "blk.0.attn_k.bias").doesNotContain("blk.0.attn_qkv.weight");
        assertThat(pruned.weights().shape("blk.1.attn_v.weight")).containsExactly(64, 16);
        GgufModel ffnOnly = StructuredPruning.prune(model, StructuredPlan.none().withFfnKeep(0.5), Calibration.collect(model, TestModels.CALIBRATION, 128));
        assertThat(ffnOnly.weights().names()).contains("blk.0.attn_qkv.weight").doesNotContain("blk.0.attn_q.weight");
    }

    @Test
    void glm4PostNormsWithGroupAndChannels() {
        headsAndChannelsEqualTheMaskedModel(TestModels::glm4, StructuredPlan.none().withKvGroups(1).withFfnKeep(0.5), 2, 1, 48);
    }

    @Test
    void handPickedSelectionsDifferentInEachLayer() {
        GgufModel model = TestModels.llama();
        List<LayerSelection> sel = List.of(
                new LayerSelection(new int[]{1, 3}, new int[]{0, 1}, range(0, 160, 2)),
                new LayerSelection(new int[]{0, 2}, new int[]{0, 1}, range(1, 160, 2)));
        GgufModel pruned = StructuredPruning.shrink(model, sel);
        TestModels.assertClose(TestModels.logits(pruned.load(ProjectionDecorator.NONE)), maskedLogits(model, sel), 1e-5);
    }

    private static int[] range(int from, int to, int step) {
        List<Integer> r = new ArrayList<>();
        for (int i = from; i < to; i += step) r.add(i);
        return r.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void theWrittenFileHasSmallerTensorsAndKvCacheAndRunsTheSame() {
        GgufModel model = TestModels.llama();
        ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 512);
        GgufModel pruned = StructuredPruning.prune(model, StructuredPlan.none().withHeads(2).withFfnKeep(0.5), stats);
        Path before = dir.resolve("before.gguf"), after = dir.resolve("after.gguf");
        model.write(before);
        pruned.write(after);
        // dim 64, head 16: q/k/v 2 heads = 32 rows, output 32 columns; MLP 80 channels (F32: 4 bytes each)
        Map<String, long[]> expected = Map.of("blk.0.attn_q.weight", new long[]{64, 32}, "blk.0.attn_k.weight", new long[]{64, 32},
                "blk.0.attn_v.weight", new long[]{64, 32}, "blk.0.attn_output.weight", new long[]{32, 64},
                "blk.0.ffn_gate.weight", new long[]{64, 80}, "blk.0.ffn_up.weight", new long[]{64, 80}, "blk.0.ffn_down.weight", new long[]{80, 64});
        long saved = 0;
        try (GgufFile a = GgufFile.open(after); GgufFile b = GgufFile.open(before)) {
            for (var e : expected.entrySet()) {
                GgufTensorInfo t = a.tensorInfo(e.getKey());
                assertThat(t.shape()).as(e.getKey()).isEqualTo(e.getValue());
                assertThat(t.byteSize()).isEqualTo(e.getValue()[0] * e.getValue()[1] * 4);
            }
            for (GgufTensorInfo t : b.tensorInfos()) saved += t.byteSize() - a.tensorInfo(t.name()).byteSize();
            assertThat(a.getLong("llama.attention.head_count", 0)).isEqualTo(2);
            assertThat(a.getLong("llama.attention.key_length", 0)).isEqualTo(16);
            assertThat(a.getLong("llama.feed_forward_length", 0)).isEqualTo(80);
        }
        // per layer: q,k,v lose 64x16 each... q loses 2 heads (64*32), k/v none, o loses 32*64, MLP 3 * 64*80
        long perLayer = 64 * 32 + 32 * 64 + 3L * 64 * 80;
        assertThat(saved).isEqualTo(2 * perLayer * 4);
        try (LanguageModel m = ModelLoader.load(after)) {
            assertThat(m.config().kvDim()).isEqualTo(32);
            assertThat(m.config().qDim()).isEqualTo(32);
        }
        TestModels.assertClose(TestModels.logits(ModelLoader.load(after)), TestModels.logits(pruned.load(ProjectionDecorator.NONE)), 1e-6);
        // whole KV groups shrink the cache: kv dim 16 instead of 32
        GgufModel fewerGroups = StructuredPruning.prune(model, StructuredPlan.none().withKvGroups(1), stats);
        assertThat(fewerGroups.config().kvDim()).isEqualTo(16);
    }

    @Test
    void calibrationDecidesWhichHeadsAndChannelsStay() {
        GgufModel model = TestModels.llama();
        ModelConfig c = model.config();
        for (boolean evenLoud : new boolean[]{true, false}) {
            ActivationStatistics stats = new ActivationStatistics();
            for (int l = 0; l < c.layers(); l++) {
                feed(stats, model, "blk." + l + ".attn_output.weight", c.qDim(), j -> (j / c.headDim()) % 2 == 0 == evenLoud);
                feed(stats, model, "blk." + l + ".ffn_down.weight", c.ffnDim(), j -> j < 40 == evenLoud);
            }
            List<LayerSelection> sel = StructuredPruning.select(model, StructuredPlan.none().withHeads(2).withFfnKeep(0.75), stats);
            for (LayerSelection s : sel) {
                assertThat(s.keptHeads()).containsExactly(evenLoud ? new int[]{0, 2} : new int[]{1, 3});
                if (evenLoud) assertThat(s.keptFfn()).contains(range(0, 40, 1));
                else assertThat(s.keptFfn()).contains(range(40, 160, 1));
            }
        }
    }

    /** Runs inputs through a projection named {@code name} whose columns are loud (x100) where {@code loud} says. */
    private static void feed(ActivationStatistics stats, GgufModel model, String name, int cols, java.util.function.IntPredicate loud) {
        long[] shape = model.weights().shape(name);
        var p = stats.decorate(name, new DenseProjection(new ArrayFloatTensor(ai.autoglm.compress.EditedWeights.floats(model.weights(), name)),
                (int) shape[0], (int) shape[1]));
        java.util.Random r = new java.util.Random(7);
        int n = 8;
        float[] x = new float[n * cols];
        for (int t = 0; t < n; t++) for (int j = 0; j < cols; j++) x[t * cols + j] = (float) (r.nextGaussian() * (loud.test(j) ? 100 : 1));
        p.apply(x, 0, new float[n * (int) shape[1]], 0, n);
    }

    @Test
    void droppingLayersEqualsSkippingThem() {
        for (Supplier<GgufModel> fixture : List.<Supplier<GgufModel>>of(TestModels::llama, TestModels::glm4)) {
            GgufModel model = fixture.get();
            Map<String, GgufValue> md = new LinkedHashMap<>(model.metadata());
            String perLayer = model.key("test_per_layer");
            md.put(perLayer, GgufValue.array(GgufValueType.INT32, List.of(7, 9)));
            model = model.derive(md, model.weights());
            GgufModel dropped = LayerDropping.drop(model, Set.of(0));
            assertThat(dropped.config().layers()).isEqualTo(1);
            assertThat(dropped.metadata().get(perLayer).asList()).containsExactly(9);
            assertThat(dropped.weights().names()).noneMatch(n -> n.startsWith("blk.1."));
            TestModels.Mask skip = new TestModels.Mask().zeroOutput("blk.0.attn_output.weight").zeroOutput("blk.0.ffn_down.weight");
            TestModels.assertClose(TestModels.logits(dropped.load(ProjectionDecorator.NONE)), TestModels.logits(model.load(skip)), 1e-5);
        }
    }

    @Test
    void headsChannelsAndALayerTogether() {
        GgufModel model = TestModels.llama();
        ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 512);
        StructuredPlan plan = StructuredPlan.none().withHeads(2).withFfnKeep(0.5).withDropLayers(Set.of(1));
        GgufModel pruned = StructuredPruning.prune(model, plan, stats);
        assertThat(pruned.config().layers()).isEqualTo(1);
        LayerSelection kept = StructuredPruning.select(model, plan, stats).getFirst();
        ModelConfig c = model.config();
        List<Integer> headCols = new ArrayList<>(), ffnCols = new ArrayList<>();
        for (int j = 0; j < c.qDim(); j++) if (!contains(kept.keptHeads(), j / c.headDim())) headCols.add(j);
        for (int i = 0; i < c.ffnDim(); i++) if (!contains(kept.keptFfn(), i)) ffnCols.add(i);
        TestModels.Mask mask = new TestModels.Mask().zeroInputs("blk.0.attn_output.weight", c.qDim(), headCols)
                .zeroInputs("blk.0.ffn_down.weight", c.ffnDim(), ffnCols)
                .zeroOutput("blk.1.attn_output.weight").zeroOutput("blk.1.ffn_down.weight");
        TestModels.assertClose(TestModels.logits(pruned.load(ProjectionDecorator.NONE)), TestModels.logits(model.load(mask)), 1e-5);
    }

    @Test
    void quantizedFileKeepsItsTypeInWholeBlocksAndUntouchedTensorsByteForByte() throws Exception {
        ai.autoglm.core.testing.ModelFixtures.Spec spec = ai.autoglm.core.testing.ModelFixtures.llama();
        Path q8 = ai.autoglm.core.testing.ModelFixtures.writeGguf(spec, dir.resolve("q8.gguf"), ai.autoglm.core.tensor.GgmlType.Q8_0);
        Path out = dir.resolve("q8-pruned.gguf");
        try (GgufModel model = GgufModel.open(q8)) {
            ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 256);
            GgufModel pruned = StructuredPruning.prune(model, StructuredPlan.none().withHeads(2).withFfnKeep(0.5), stats);
            assertThat(pruned.config().ffnDim()).as("80 channels rounded to whole Q8_0 blocks of 32").isEqualTo(96);
            pruned.write(out);
        }
        try (GgufFile a = GgufFile.open(out); GgufFile b = GgufFile.open(q8)) {
            assertThat(a.tensorInfo("blk.0.ffn_down.weight").type()).isEqualTo(ai.autoglm.core.tensor.GgmlType.Q8_0);
            assertThat(a.tensorInfo("blk.0.ffn_down.weight").shape()).containsExactly(96, 64);
            assertThat(a.tensorInfo("blk.0.attn_output.weight").type()).isEqualTo(ai.autoglm.core.tensor.GgmlType.Q8_0);
            assertThat(a.tensorData("token_embd.weight").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    .isEqualTo(b.tensorData("token_embd.weight").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertThat(a.tensorInfo("blk.0.ffn_gate.weight").shape()).containsExactly(64, 96);
        }
        for (float v : TestModels.logits(ModelLoader.load(out))) assertThat(Float.isFinite(v)).isTrue();
    }

    @Test
    void badPlansAreRefusedWithTheParameterNamed() {
        GgufModel model = TestModels.llama();
        ActivationStatistics stats = Calibration.collect(model, TestModels.CALIBRATION, 64);
        assertThatThrownBy(() -> LayerDropping.drop(model, Set.of(0, 1))).hasMessageContaining("all 2 layers");
        assertThatThrownBy(() -> LayerDropping.drop(model, Set.of(2))).hasMessageContaining("layer 2 does not exist");
        assertThatThrownBy(() -> StructuredPruning.select(model, StructuredPlan.none().withHeads(3), stats)).hasMessageContaining("--heads 3");
        assertThatThrownBy(() -> StructuredPruning.select(model, StructuredPlan.none().withKvGroups(2), stats)).hasMessageContaining("leaves none");
        assertThatThrownBy(() -> StructuredPlan.none().withFfnKeep(0)).hasMessageContaining("--ffn-keep");
        assertThatThrownBy(() -> StructuredPruning.select(model, StructuredPlan.none().withFfnKeep(0.5), null)).hasMessageContaining("--calib");
        assertThatThrownBy(() -> StructuredPruning.shrink(model, List.of(
                new LayerSelection(new int[]{0, 2}, new int[]{0, 1}, range(0, 160, 1)),
                new LayerSelection(new int[]{0, 1}, new int[]{0, 1}, range(0, 160, 1))))).hasMessageContaining("same number of query heads");
    }
}
