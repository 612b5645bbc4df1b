package ai.autoglm.compress.prune;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.TestModels;
import ai.autoglm.compress.calib.Calibration;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.testing.LlamaCppReference;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Structurally pruned files read by llama.cpp itself (node-llama-cpp's prebuilt CPU library, as core's
 * LlamaCppForwardTest): its loader checks every tensor shape against the new head counts, key length and MLP width,
 * and its next-token distributions must match ours on the same file (relative centered logit error below 1e-5, the
 * F32 bound of LlamaCppForwardTest).
 */
class PrunedFilesInLlamaCppTest {
    @TempDir
    Path dir;

    static final int[] PROMPT = {ModelFixtures.BOS_ID, 263, 266, 44, 267, 260, 261, 108, 100, 33, 10, 72};

    @Test
    void llamaCppLoadsPrunedFilesAndAgreesWithUs() {
        // LlamaCppReference finds its npm project from the module directory of core's tests; from this module, the root.
        String basedir = System.getProperty("basedir", System.getProperty("user.dir"));
        System.setProperty("basedir", Path.of(basedir).toAbsolutePath().getParent().toString());
        try {
            run();
        } finally {
            System.setProperty("basedir", basedir);
        }
    }

    private void run() {
        Map<String, Path> files = new LinkedHashMap<>();
        Supplier<GgufModel> qwen2 = () -> {
            ModelFixtures.Spec s = ModelFixtures.qwen2();
            return GgufModel.of(null, ModelFixtures.ggufMetadata(s), ModelFixtures.ggufLayout(s, ModelFixtures.hfWeights(s)));
        };
        files.put("llama heads+ffn+drop", write("a", TestModels::llama, StructuredPlan.none().withHeads(2).withFfnKeep(0.5).withDropLayers(Set.of(1))));
        files.put("llama kv group", write("b", TestModels::llama, StructuredPlan.none().withKvGroups(1)));
        // llama.cpp's qwen2 and chatglm loaders want q as [n_embd, n_embd]: head-pruned files of those run in this engine only
        files.put("qwen2 ffn+drop", write("c", qwen2, StructuredPlan.none().withFfnKeep(0.75).withDropLayers(Set.of(1))));
        files.put("chatglm ffn+drop (fused qkv kept)", write("d", TestModels::chatglm, StructuredPlan.none().withFfnKeep(0.5).withDropLayers(Set.of(0))));
        files.put("glm4 heads+ffn (split qkv)", write("e", TestModels::glm4, StructuredPlan.none().withHeads(2).withFfnKeep(0.5)));

        LlamaCppReference.Batch batch = new LlamaCppReference.Batch();
        Map<String, LlamaCppReference.Handle<double[][][]>> ref = new LinkedHashMap<>();
        files.forEach((name, f) -> ref.put(name, batch.nextTokenLogits(f, List.of(PROMPT))));
        batch.run();
        for (var e : files.entrySet()) {
            double[][] theirs = ref.get(e.getKey()).get()[0];
            try (LanguageModel m = ModelLoader.load(e.getValue())) {
                int vocab = m.config().vocabSize();
                float[] ours = m.forward(m.newState(PROMPT.length), PROMPT, 0, PROMPT.length, true);
                for (int t = 0; t < PROMPT.length; t++) {
                    assertThat(relativeError(ours, t * vocab, vocab, theirs[t])).as("%s position %d", e.getKey(), t).isLessThan(1e-5);
                }
            }
        }
    }

    private Path write(String file, Supplier<GgufModel> fixture, StructuredPlan plan) {
        GgufModel model = fixture.get();
        Path out = dir.resolve(file + ".gguf");
        StructuredPruning.prune(model, plan, Calibration.collect(model, TestModels.CALIBRATION, 256)).write(out);
        return out;
    }

    /** RMS of the centered logit difference over the RMS of our centered logits (llama.cpp's are known up to a constant). */
    private static double relativeError(float[] ours, int off, int vocab, double[] theirs) {
        double meanD = 0, meanZ = 0;
        for (int i = 0; i < vocab; i++) {
            meanD += ours[off + i] - theirs[i];
            meanZ += ours[off + i];
        }
        meanD /= vocab;
        meanZ /= vocab;
        double err = 0, z = 0;
        for (int i = 0; i < vocab; i++) {
            double d = ours[off + i] - theirs[i] - meanD;
            err += d * d;
            z += (ours[off + i] - meanZ) * (ours[off + i] - meanZ);
        }
        return Math.sqrt(err / z);
    }
}
