package ai.autoglm.train;

import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.train.qat.FakeQuantization;
import ai.autoglm.train.qat.TensorTypeRule;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The extension points distillation and quantization-aware training use: gradients injected at hidden states,
 * the weight transform with straight-through gradients, and a training step that allocates no batch-sized buffers.
 */
class TrainableTransformerHooksTest {
    private static final int SEQ = 6;

    private static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    private static float[] randn(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** {@code L = g0 . logits + sum_l g_l . hidden_l}, in double, from the float forward pass. */
    private static double probe(TrainableTransformer m, int[] tokens, float[] gLogits, float[][] gHidden) {
        float[] logits = m.forward(tokens, SEQ);
        double s = 0;
        for (int i = 0; i < logits.length; i++) s += (double) gLogits[i] * logits[i];
        for (int l = 0; l < gHidden.length; l++) {
            if (gHidden[l] == null) continue;
            float[] h = m.hiddenState(l);
            for (int i = 0; i < h.length; i++) s += (double) gHidden[l][i] * h[i];
        }
        return s;
    }

    /**
     * The gradient of a probe of logits and hidden states, through {@link TrainableTransformer#backward}, against
     * central differences of the same probe. The forward runs in float, so the step is large (1e-2) and the
     * tolerance 2% of the largest gradient: a gradient added at the wrong block, or not at all, is off by its own size.
     */
    @Test
    void gradientsInjectedAtHiddenStatesMatchFiniteDifferences() {
        for (ModelConfig c : new ModelConfig[]{TrainTestModels.llama(ModelFixtures.VOCAB_SIZE), TrainTestModels.glmShaped(ModelFixtures.VOCAB_SIZE)}) {
            TrainableTransformer m = new TrainableTransformer(c);
            TrainTestModels.randomize(m, 5);
            int[] tokens = tokens(2 * SEQ, c.vocabSize(), 6);
            int n = tokens.length;
            float[] gLogits = randn(n * c.vocabSize(), 7);
            for (int i = 0; i < gLogits.length; i++) gLogits[i] *= 0.01f;
            float[][] gHidden = {randn(n * c.dim(), 8), null};
            m.parameters().zeroGradients();
            m.forward(tokens, SEQ);
            m.backward(gLogits.clone(), gHidden);
            for (String name : new String[]{"blk.0.ffn_down.weight", "blk.0.attn_norm.weight", "token_embd.weight", "blk.1.ffn_norm.weight"}) {
                Parameter p = m.parameters().get(name);
                double scale = 0;
                for (float g : p.grad()) scale = Math.max(scale, Math.abs(g));
                assertThat(scale).as(name + " gradient").isGreaterThan(1e-3);
                for (int k = 0; k < 12; k++) {
                    int i = (int) ((long) k * 7919 % p.size());
                    float saved = p.value()[i];
                    double h = 1e-2;
                    p.value()[i] = (float) (saved + h);
                    double plus = probe(m, tokens, gLogits, gHidden);
                    p.value()[i] = (float) (saved - h);
                    double minus = probe(m, tokens, gLogits, gHidden);
                    p.value()[i] = saved;
                    double numeric = (plus - minus) / (2 * h);
                    assertThat((double) p.grad()[i]).as(c.architecture() + " " + name + "[" + i + "]").isCloseTo(numeric, within(0.02 * scale));
                }
            }
        }
    }

    /**
     * With fake quantization, the forward pass equals that of a plain model holding the dequantized weights, and the
     * master weights receive exactly that model's gradients (straight-through estimator).
     */
    @Test
    void fakeQuantizationForwardsTheDequantizedWeightsAndPassesGradientsStraightThrough() {
        ModelConfig c = new ModelConfig(ai.autoglm.core.model.Architecture.LLAMA, 64, 2, 4, 2, 16, 96, ModelFixtures.VOCAB_SIZE, 32,
                1e-5f, 10000.0, ai.autoglm.core.model.RopeStyle.NEOX, 16, null, false, false);
        TrainableTransformer quantized = new TrainableTransformer(c);
        TrainTestModels.randomize(quantized, 9);
        TensorTypeRule rule = TensorTypeRule.llamaQuantize(quantized, QuantPreset.Q4_0);
        quantized.setWeightTransform(new FakeQuantization(rule));
        TrainableTransformer plain = new TrainableTransformer(c);
        for (Parameter p : quantized.parameters().all()) {
            Parameter q = plain.parameters().get(p.name());
            GgmlType type = rule.typeOf(p.name(), p.shape());
            // dequantized independently: whole tensor through the Quantizer and the engine's tensor view
            float[] deq = new float[p.size()];
            ai.autoglm.core.tensor.Tensors.view(type, ai.autoglm.core.tensor.Quantizer.quantize(type, p.value()), p.size()).copyTo(0, deq, 0, p.size());
            System.arraycopy(deq, 0, q.value(), 0, deq.length);
            if (type != GgmlType.F32) {
                assertThat(deq).as(p.name() + " is changed by quantization").isNotEqualTo(p.value());
                float[] viaTransform = new float[p.size()];
                new FakeQuantization(rule).apply(p, viaTransform);
                assertThat(viaTransform).as(p.name() + " fake-quantized in row chunks").containsExactly(deq);
            }
        }
        int[] tokens = tokens(2 * SEQ, c.vocabSize(), 10), targets = tokens(2 * SEQ, c.vocabSize(), 11);
        quantized.parameters().zeroGradients();
        plain.parameters().zeroGradients();
        double lq = quantized.forwardBackward(tokens, targets, SEQ);
        double lp = plain.forwardBackward(tokens, targets, SEQ);
        // Equal up to float rounding: the Vector API's lane reduction order may change once the JIT compiles the kernels.
        assertThat(lq).isCloseTo(lp, within(1e-6 * lp));
        for (Parameter p : quantized.parameters().all()) {
            float[] expected = plain.parameters().get(p.name()).grad();
            double scale = 0;
            for (float g : expected) scale = Math.max(scale, Math.abs(g));
            for (int i = 0; i < expected.length; i++) {
                assertThat((double) p.grad()[i]).as(p.name() + "[" + i + "]").isCloseTo(expected[i], within(1e-4 * scale));
            }
        }
        // the master weights are untouched by the forward pass
        TrainableTransformer fresh = new TrainableTransformer(c);
        TrainTestModels.randomize(fresh, 9);
        for (Parameter p : quantized.parameters().all()) assertThat(p.value()).containsExactly(fresh.parameters().get(p.name()).value());
    }

    /**
     * A training step reuses its buffers: bytes allocated by the step's threads over steps after the first stay far
     * below one activation buffer (before this was fixed, each backward allocated about a dozen rows-times-width
     * arrays). Measured in a fresh JVM: in the suite's JVM, profiles left by earlier test classes can keep C2 from
     * scalar-replacing the Vector API's temporaries (25 MB a step seen), which says nothing about the step's buffers.
     */
    @Test
    void trainingStepsAllocateNoBatchSizedBuffers() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                TrainableTransformerHooksTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        long perStep = out.lines().filter(l -> l.startsWith("allocated per training step: "))
                .mapToLong(l -> Long.parseLong(l.substring("allocated per training step: ".length()).replace(" bytes", "")))
                .findFirst().orElseThrow(() -> new AssertionError(out));
        System.out.println("allocated per training step: " + perStep + " bytes");
        long oneBuffer = 8L * 64 * 64 * Float.BYTES; // one [rows][dim] float array of the child's model: 128 KiB
        assertThat(perStep).isLessThan(oneBuffer);
    }

    /** The child of {@link #trainingStepsAllocateNoBatchSizedBuffers}: prints the bytes a training step allocates. */
    public static void main(String[] args) {
        ModelConfig c = new ModelConfig(ai.autoglm.core.model.Architecture.LLAMA, 64, 2, 4, 2, 16, 128, ModelFixtures.VOCAB_SIZE, 64,
                1e-5f, 10000.0, ai.autoglm.core.model.RopeStyle.NEOX, 16, null, false, false);
        int[] data = tokens(4000, c.vocabSize(), 12);
        Pretrainer run = Pretrainer.start(new TrainableTransformer(c), TokenDataset.split(data, 0.1), TrainingOptions.defaults(20, 8, 64, 1e-3, 3));
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 3; i++) run.trainStep(); // allocate the activations, warm the thread pool up
        // the threads that run the step: this one and the compute pool's workers
        long[] ids = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("autoglm-compute-"))
                .mapToLong(Thread::threadId).toArray();
        long before = java.util.Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum();
        int steps = 3;
        for (int i = 0; i < steps; i++) run.trainStep();
        long perStep = (java.util.Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum() - before) / steps;
        System.out.println("allocated per training step: " + perStep + " bytes");
    }
}
