package ai.autoglm.core.model;

import ai.autoglm.core.tensor.PanelGemm;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static ai.autoglm.core.model.LogitsAssert.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link TransformerModel#forwardBatch} against two references: the per-sequence {@link TransformerModel#forward}
 * on separate states and the double-precision {@link ReferenceForward} of each sequence's whole token history.
 * Batched and single rows agree to float rounding, not bit for bit: a chunk of {@link PanelGemm#MIN_TOKENS} rows or
 * more runs through the panel GEMM and a single decode row through the prepared-vector kernels, which sum in other
 * orders than the per-row {@code dotMany} kernels (the price of their speed; llama.cpp's batches are not
 * bit-invariant either). The greedy token must not change.
 */
class ForwardBatchTest {

    static Stream<Arguments> specs() {
        return Stream.of(
                Arguments.of("llama GQA", ModelFixtures.llama()),
                Arguments.of("qwen2 bias", ModelFixtures.qwen2()),
                Arguments.of("llama MQA", ModelFixtures.llama().withDims(64, 4, 1, 160)));
    }

    /** Sequences of different lengths decode together for several steps; prompts are prefilled per sequence. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void batchedDecodeEqualsPerSequenceForwardAndTheReference(String name, Spec s) {
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        TransformerModel model = TransformerModelTest.ggufModel(s, w);
        int[] lengths = {1, 7, 3, 12};
        int steps = 5;
        List<int[]> histories = new ArrayList<>();
        List<InferenceState> batched = new ArrayList<>(), alone = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            int[] tokens = TransformerModelTest.prompt(lengths[i] + steps, 100 + i);
            histories.add(tokens);
            InferenceState b = model.newState(32), a = model.newState(32);
            model.forward(b, tokens, 0, lengths[i], false);
            model.forward(a, tokens, 0, lengths[i], false);
            batched.add(b);
            alone.add(a);
        }
        for (int step = 0; step < steps; step++) {
            List<BatchEntry> entries = new ArrayList<>();
            for (int i = 0; i < lengths.length; i++) entries.add(new BatchEntry(batched.get(i), histories.get(i), lengths[i] + step, 1));
            float[][] got = model.forwardBatch(entries);
            for (int i = 0; i < lengths.length; i++) {
                float[] expected = model.forward(alone.get(i), histories.get(i), lengths[i] + step, 1, false);
                assertSameLogits(got[i], expected, name + " seq " + i + " step " + step);
                assertThat(batched.get(i).position()).isEqualTo(lengths[i] + step + 1);
                int[] seen = Arrays.copyOf(histories.get(i), lengths[i] + step + 1);
                double[][] ref = new ReferenceForward(s, w, seen.length).run(seen);
                assertThat(relativeError(got[i], 0, ref[ref.length - 1])).as("%s seq %d step %d vs reference", name, i, step)
                        .isLessThan(TransformerModelTest.TOL);
            }
        }
    }

    /**
     * Prefill chunks and decode tokens in one batch (what a scheduler does when a request joins between decode
     * steps), with more rows than one chunk holds so that an entry spans two chunks.
     */
    @Test
    void mixedPrefillAndDecodeRowsSpanningChunks() {
        Spec s = ModelFixtures.llama().withContext(256);
        TransformerModel model = TransformerModelTest.ggufModel(s, ModelFixtures.hfWeights(s));
        int[] a = TransformerModelTest.prompt(90, 1), b = TransformerModelTest.prompt(10, 2), c = TransformerModelTest.prompt(3, 3);
        InferenceState sa = model.newState(128), sb = model.newState(128), sc = model.newState(128);
        model.forward(sb, b, 0, 9, false); // b decodes its 10th token; a and c are prefilled whole
        float[][] got = model.forwardBatch(List.of(
                new BatchEntry(sb, b, 9, 1), new BatchEntry(sa, a, 0, a.length), new BatchEntry(sc, c, 0, c.length)));
        assertThat(TransformerModel.MAX_BATCH).isLessThan(1 + a.length + c.length);
        assertSameLogits(got[0], model.forward(model.newState(128), b, 0, b.length, false).clone(), "b");
        assertSameLogits(got[1], model.forward(model.newState(128), a, 0, a.length, false).clone(), "a");
        assertSameLogits(got[2], model.forward(model.newState(128), c, 0, c.length, false).clone(), "c");
        assertThat(new int[]{sa.position(), sb.position(), sc.position()}).containsExactly(90, 10, 3);
    }

    @Test
    void rejectsDuplicateStatesAndOverflowBeforeRunningAnything() {
        Spec s = ModelFixtures.llama();
        TransformerModel model = TransformerModelTest.ggufModel(s, ModelFixtures.hfWeights(s));
        InferenceState x = model.newState(4), y = model.newState(4);
        assertThatThrownBy(() -> model.forwardBatch(List.of(BatchEntry.of(x, 1), BatchEntry.of(x, 2))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
        assertThatThrownBy(() -> model.forwardBatch(List.of(BatchEntry.of(y, 1), new BatchEntry(x, new int[5], 0, 5))))
                .isInstanceOf(ContextOverflowException.class);
        assertThatThrownBy(() -> model.forwardBatch(List.of(BatchEntry.of(y, ModelFixtures.VOCAB_SIZE))))
                .hasMessageContaining("outside the vocabulary");
        assertThat(x.position()).isZero();
        assertThat(y.position()).isZero();
    }

    /** Within float rounding of each other (relative to the row's largest logit), with the same greedy token. */
    static void assertSameLogits(float[] got, float[] expected, String what) {
        assertThat(relativeError(got, 0, LogitsAssert.toDouble(expected, 0, expected.length))).as(what).isLessThan(1e-5);
        assertThat(argmax(got)).as("%s greedy token", what).isEqualTo(argmax(expected));
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
