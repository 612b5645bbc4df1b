package ai.autoglm.core.model;

import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Past 4,096 positions (a small random-weight model: 4 heads of 32 over 2 KV heads, 2 layers): a 4,500-token prompt
 * prefilled in one call (chunks of MAX_BATCH rows) gives the logits of the same prompt run as a 4,400-token prefill
 * and 100 decode steps; a q8_0 cache gives nearly the same distribution; the cache holds whole chunks of the positions
 * written; and the position after the capacity is a {@link ContextOverflowException}.
 */
class LongContextTest {
    static final int POSITIONS = 4500;

    @Test
    void aLongPromptRunsAndChunkedPrefillEqualsDecoding() {
        ModelFixtures.Spec s = ModelFixtures.llama().withDims(128, 4, 2, 256).withContext(8192).withSeed(11);
        TransformerModel model = TransformerModelTest.ggufModel(s, ModelFixtures.hfWeights(s));
        int[] tokens = TransformerModelTest.prompt(POSITIONS + 1, 5);

        InferenceState a = model.newState(POSITIONS);
        float[] oneShot = model.forward(a, tokens, 0, POSITIONS, false).clone();
        assertThat(a.kvCache().bytes()).isEqualTo(KvCache.bytesFor(model.config(), KvCacheTypes.DEFAULT, POSITIONS, POSITIONS))
                .isEqualTo(18L * 256 * 2 * 2 * 64 * 4); // 18 chunks of 256 positions x 2 layers x K,V x 64 floats
        assertThatThrownBy(() -> model.forward(a, tokens, POSITIONS, 1, false)).isInstanceOf(ContextOverflowException.class);

        InferenceState b = model.newState(POSITIONS);
        model.forward(b, tokens, 0, POSITIONS - 100, false);
        float[] decoded = null;
        for (int i = POSITIONS - 100; i < POSITIONS; i++) decoded = model.forward(b, tokens, i, 1, false);
        double scale = 0;
        for (float v : oneShot) scale = Math.max(scale, Math.abs(v));
        assertThat(scale).isGreaterThan(0.1);
        for (int i = 0; i < oneShot.length; i++) {
            assertThat((double) decoded[i]).as("logit %d", i).isCloseTo(oneShot[i], org.assertj.core.data.Offset.offset(1e-4 * scale));
        }

        InferenceState q = model.newState(POSITIONS, new KvCacheTypes(KvCacheType.Q8_0, KvCacheType.Q8_0));
        float[] q8 = model.forward(q, tokens, 0, POSITIONS, false);
        assertThat(argmax(q8)).isEqualTo(argmax(oneShot));
        assertThat(kld(oneShot, q8)).as("KLD of the q8_0 cache's next-token distribution").isLessThan(1e-3);
        assertThat(q.kvCache().bytes()).isEqualTo(18L * 256 * 2 * 2 * (2 * 34)); // 64-element rows = 2 blocks of 34 bytes
        a.close();
        b.close();
        q.close();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** KL(softmax(p) || softmax(q)) in double. */
    static double kld(float[] p, float[] q) {
        double[] lp = logSoftmax(p), lq = logSoftmax(q);
        double k = 0;
        for (int i = 0; i < p.length; i++) k += Math.exp(lp[i]) * (lp[i] - lq[i]);
        return k;
    }

    static double[] logSoftmax(float[] v) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float x : v) max = Math.max(max, x);
        for (float x : v) sum += Math.exp(x - max);
        double lse = max + Math.log(sum);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] - lse;
        return out;
    }
}
