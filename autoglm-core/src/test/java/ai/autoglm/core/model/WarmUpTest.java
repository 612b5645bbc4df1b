package ai.autoglm.core.model;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The load-time warm-up ({@link WarmUp}) runs on a state of its own: a generation after it gives the same logits as
 * the same generation on a copy of the model that was never warmed, for every weight type whose kernels it compiles
 * (to float rounding: the Vector API's lane reductions may sum in another order before and after C2 compiles them,
 * which is the point of the warm-up; a state leaking from it would move the logits by far more); it fits models whose
 * context is shorter than its own length and leaves other models alone.
 */
class WarmUpTest {
    @TempDir
    Path tmp;

    @Test
    void aWarmedModelGeneratesExactlyWhatAColdOneDoes() {
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K}) {
            Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withDims(256, 4, 2, 512).withSeed(5), tmp.resolve(type + ".gguf"), type);
            try (LanguageModel cold = ModelLoader.load(file); LanguageModel warmed = ModelLoader.load(file)) {
                assertThat(WarmUp.run(warmed)).as(type + ": warmed").isPositive();
                float[] after = greedyLogits(warmed), without = greedyLogits(cold);
                assertThat(after).as(type + ": logits of every step after the warm-up")
                        .containsExactly(without, org.assertj.core.data.Offset.offset(1e-4f));
            }
        }
    }

    @Test
    void aContextShorterThanTheWarmUpIsNoError() {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withContext(6), tmp.resolve("short.gguf"), GgmlType.F32);
        try (LanguageModel m = ModelLoader.load(file)) {
            assertThat(WarmUp.run(m)).isPositive();
            assertThat(greedyLogits(m)).isNotEmpty();
        }
    }

    @Test
    void switchedOffOrNotATransformerItDoesNothing() {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama(), tmp.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel m = ModelLoader.load(file)) {
            System.setProperty("autoglm.warmUp", "false");
            try {
                assertThat(WarmUp.enabled()).isFalse();
                assertThat(WarmUp.run(m)).isZero();
            } finally {
                System.clearProperty("autoglm.warmUp");
            }
            assertThat(WarmUp.enabled()).isTrue();
        }
        assertThat(WarmUp.run(null)).as("not a TransformerModel").isZero();
    }

    /** Five greedy steps after a three-token prompt, every step's logits concatenated. */
    private static float[] greedyLogits(LanguageModel m) {
        int steps = Math.min(5, m.config().contextLength() - 3);
        float[] all = new float[steps * m.config().vocabSize()];
        try (InferenceState s = m.newState(3 + steps)) {
            int[] tokens = new int[3 + steps];
            tokens[0] = 1;
            tokens[1] = 7;
            tokens[2] = 3;
            float[] logits = m.forward(s, tokens, 0, 3, false);
            for (int i = 0; i < steps; i++) {
                System.arraycopy(logits, 0, all, i * logits.length, logits.length);
                if (i + 1 == steps) break;
                int next = 0;
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
                tokens[3 + i] = next;
                logits = m.forward(s, tokens, 3 + i, 1, false);
            }
        }
        return all;
    }
}
