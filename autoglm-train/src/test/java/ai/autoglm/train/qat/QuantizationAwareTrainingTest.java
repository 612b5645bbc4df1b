package ai.autoglm.train.qat;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.RopeStyle;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.KernelChoice;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.train.MarkovText;
import ai.autoglm.train.ModelExport;
import ai.autoglm.train.PretrainedWeights;
import ai.autoglm.train.Pretrainer;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.distill.Distiller;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Quantization-aware training to Q4_0 ends closer to the full-precision model than post-training quantization of the
 * same model: mean KL divergence of the next-token distributions over held-out text, computed here in double from
 * the logits the inference engine produces from the three GGUF files (base F32, PTQ Q4_0, QAT Q4_0).
 */
class QuantizationAwareTrainingTest {
    private static final int SEQ = 32;
    @TempDir
    static Path dir;
    private static TokenDataset data;
    private static Path baseGguf;

    @BeforeAll
    static void trainBase() throws IOException {
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 64, 2, 4, 2, 16, 128, ModelFixtures.VOCAB_SIZE, 64, 1e-5f, 10000.0,
                RopeStyle.NEOX, 16, null, false, false);
        data = TokenDataset.split(MarkovText.tokens(30000, 24, 3), 0.1);
        Pretrainer run = Pretrainer.start(new TrainableTransformer(c), data, TrainingOptions.defaults(150, 8, SEQ, 1e-2, 4));
        while (!run.done()) run.trainStep();
        Path tok = dir.resolve("tok"), hf = dir.resolve("base");
        Files.createDirectories(tok);
        ModelFixtures.Spec spec = new ModelFixtures.Spec("llama", c.dim(), c.layers(), c.heads(), c.kvHeads(), c.ffnDim(), c.contextLength(),
                c.rmsEps(), c.ropeTheta(), false, false, null, 1);
        ObjectMapper om = new ObjectMapper();
        om.writeValue(tok.resolve("tokenizer.json").toFile(), ModelFixtures.tokenizerJson(spec));
        om.writeValue(tok.resolve("tokenizer_config.json").toFile(), ModelFixtures.tokenizerConfigJson(spec));
        ModelExport.writeHfDirectory(run.model(), tok, hf);
        baseGguf = dir.resolve("base.gguf");
        ModelExport.writeGguf(hf, baseGguf);
    }

    /** Next-token distributions of the model at {@code path} after every held-out token, from the inference engine. */
    private static float[][] engineLogits(Path path, int windows) {
        float[][] out = new float[windows][];
        try (LanguageModel m = ModelLoader.load(path)) {
            for (int w = 0; w < windows; w++) {
                InferenceState s = m.newState(SEQ);
                out[w] = m.forward(s, data.heldOut(), w * SEQ, SEQ, true);
            }
        }
        return out;
    }

    /** Mean over positions of KL(p || q), p = softmax(base), q = softmax(other), in double. */
    private static double meanKld(float[][] base, float[][] other, int vocab) {
        double total = 0;
        int count = 0;
        for (int w = 0; w < base.length; w++) {
            for (int t = 0; t < base[w].length / vocab; t++) {
                double[] lp = logSoftmax(base[w], t * vocab, vocab), lq = logSoftmax(other[w], t * vocab, vocab);
                double kl = 0;
                for (int i = 0; i < vocab; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
                total += kl;
                count++;
            }
        }
        return total / count;
    }

    private static double[] logSoftmax(float[] z, int off, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, z[off + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(z[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = z[off + i] - lse;
        return out;
    }

    @Test
    void qatQ4_0IsCloserToTheBaseThanPostTrainingQ4_0() {
        TrainableTransformer base = PretrainedWeights.load(baseGguf);
        TensorTypeRule rule = TensorTypeRule.llamaQuantize(baseGguf, QuantPreset.Q4_0);
        Path ptq = dir.resolve("ptq.gguf"), qat = dir.resolve("qat.gguf");
        QuantizedGgufExport.write(base, baseGguf, rule, QuantPreset.Q4_0.fileType, ptq);

        TrainableTransformer student = PretrainedWeights.load(baseGguf);
        Distiller run = QuantizationAwareTraining.start(base, student, rule, data, TrainingOptions.defaults(60, 8, SEQ, 1e-3, 8), 1, 1);
        while (!run.done()) run.trainStep();
        QuantizedGgufExport.write(student, baseGguf, rule, QuantPreset.Q4_0.fileType, qat);

        try (GgufFile f = GgufFile.open(qat)) {
            assertThat(f.tensorInfo("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(f.tensorInfo("blk.1.ffn_down.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(f.tensorInfo("token_embd.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(f.tensorInfo("output.weight").type()).isEqualTo(GgmlType.Q8_0); // 64-wide rows: Q6_K does not fit
            assertThat(f.tensorInfo("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(f.getLong("general.file_type", -1)).isEqualTo(2);
        }
        int windows = 16, vocab = base.config().vocabSize();
        // The Java kernels (float activations), so that the 1e-3 bound below measures the export, not the native
        // kernels' 8-bit activation rounding (Q4_0 runs native at every token count where the library is built).
        KernelChoice.Mode kernelsBefore = KernelChoice.mode();
        float[][] baseLogits, ptqLogits, qatLogits;
        try {
            KernelChoice.set(KernelChoice.Mode.JAVA);
            baseLogits = engineLogits(baseGguf, windows);
            ptqLogits = engineLogits(ptq, windows);
            qatLogits = engineLogits(qat, windows);
        } finally {
            KernelChoice.set(kernelsBefore);
        }
        // the file holds what QAT trained: the engine on it gives the fake-quantized forward's logits
        int[] window = java.util.Arrays.copyOfRange(data.heldOut(), 0, SEQ);
        float[] trained = student.forward(window, SEQ);
        for (int i = 0; i < trained.length; i++) {
            assertThat((double) qatLogits[0][i]).as("logit " + i).isCloseTo(trained[i], within(1e-3 * Math.max(1, Math.abs(trained[i]))));
        }
        double kldPtq = meanKld(baseLogits, ptqLogits, vocab), kldQat = meanKld(baseLogits, qatLogits, vocab);
        System.out.printf("mean KLD to the F32 base over %d held-out tokens: PTQ Q4_0 %.5f, QAT Q4_0 %.5f%n", windows * SEQ, kldPtq, kldQat);
        assertThat(kldPtq).as("Q4_0 changes the model").isGreaterThan(1e-4);
        assertThat(kldQat).isLessThan(0.8 * kldPtq);
    }
}
