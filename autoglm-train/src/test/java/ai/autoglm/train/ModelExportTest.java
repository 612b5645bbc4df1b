package ai.autoglm.train;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.RopeStyle;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.train.tokenizer.BpeTrainer;
import ai.autoglm.train.tokenizer.BpeTrainerTest;
import ai.autoglm.train.tokenizer.GlmTokenizerFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A trained model written as an HF directory and as GGUF loads through core's ModelLoader (the inference engine)
 * and gives the training forward pass's logits, and loads back for training ({@link PretrainedWeights}) unchanged.
 */
class ModelExportTest {
    @TempDir
    Path dir;

    /** GLM models get a tokenizer made by this module's BPE trainer (the GGUF converter wants the GLM specials). */
    private static final BpeTrainer.Vocabulary GLM_TOKENS = new BpeTrainer().add(BpeTrainerTest.corpus(50, 5)).train(40, 2);
    private static final int GLM_VOCAB = GlmTokenizerFiles.vocabSize(GLM_TOKENS);

    @Test
    void llamaHfDirectoryAndGgufGiveTheTrainingLogits() throws IOException {
        check(TrainTestModels.llama(ModelFixtures.VOCAB_SIZE), 21);
    }

    @Test
    void tiedEmbeddingsExportToo() throws IOException {
        ModelConfig c = TrainTestModels.llama(ModelFixtures.VOCAB_SIZE);
        check(new ModelConfig(c.architecture(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(), c.vocabSize(),
                c.contextLength(), c.rmsEps(), c.ropeTheta(), c.ropeStyle(), c.rotaryDim(), null, true, false), 22);
    }

    @Test
    void glm4AsGlm4ForCausalLmAndGguf() throws IOException {
        check(new TrainableTransformer(TrainTestModels.glm4(GLM_VOCAB), false), 23, "Glm4ForCausalLM");
    }

    @Test
    void chatglmAsGlmForCausalLmAndGguf() throws IOException {
        ModelConfig g = TrainTestModels.glm4(GLM_VOCAB);
        ModelConfig c = new ModelConfig(Architecture.CHATGLM, g.dim(), g.layers(), g.heads(), g.kvHeads(), g.headDim(), g.ffnDim(),
                g.vocabSize(), g.contextLength(), g.rmsEps(), 5e5, RopeStyle.NORMAL, g.rotaryDim(), null, false, true);
        check(new TrainableTransformer(c, false), 24, "GlmForCausalLM");
    }

    private void check(ModelConfig config, long seed) throws IOException {
        check(new TrainableTransformer(config), seed, "LlamaForCausalLM");
    }

    private void check(TrainableTransformer model, long seed, String hfClass) throws IOException {
        ModelConfig config = model.config();
        TrainTestModels.randomize(model, seed);
        Path tok = dir.resolve("tok");
        java.nio.file.Files.createDirectories(tok);
        ObjectMapper om = new ObjectMapper();
        if (hfClass.startsWith("Glm")) {
            GlmTokenizerFiles.write(GLM_TOKENS, config.contextLength(), tok);
        } else {
            ModelFixtures.Spec spec = TrainTestModels.spec(config);
            om.writeValue(tok.resolve("tokenizer.json").toFile(), ModelFixtures.tokenizerJson(spec));
            om.writeValue(tok.resolve("tokenizer_config.json").toFile(), ModelFixtures.tokenizerConfigJson(spec));
        }

        Path hf = dir.resolve("hf");
        ModelExport.writeHfDirectory(model, tok, hf);
        assertThat(om.readTree(hf.resolve("config.json").toFile()).get("architectures").get(0).asText()).isEqualTo(hfClass);
        Path gguf = dir.resolve("model.gguf");
        ModelExport.writeGguf(hf, gguf);

        int[] tokens = new int[12];
        Random r = new Random(seed);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(config.vocabSize());
        float[] expected = model.forward(tokens, tokens.length).clone();
        for (Path p : new Path[]{hf, gguf}) {
            try (LanguageModel loaded = ModelLoader.load(p)) {
                assertThat(loaded.config().architecture()).isEqualTo(config.architecture());
                assertThat(loaded.config().rotaryDim()).isEqualTo(config.rotaryDim());
                assertThat(loaded.config().qkvBias()).isEqualTo(config.qkvBias());
                InferenceState s = loaded.newState(tokens.length);
                float[] logits = loaded.forward(s, tokens, 0, tokens.length, true);
                assertThat(logits).hasSameSizeAs(expected);
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) logits[i]).as(p.getFileName() + " logit " + i).isCloseTo(expected[i], within(1e-4 * Math.max(1, Math.abs(expected[i]))));
                }
            }
            // Loading it back for training gives the same F32 parameters, so the same training logits.
            float[] reloaded = PretrainedWeights.load(p).forward(tokens, tokens.length);
            for (int i = 0; i < expected.length; i++) {
                assertThat(reloaded[i]).as(p.getFileName() + " reloaded logit " + i).isCloseTo(expected[i], within(1e-5f * Math.max(1, Math.abs(expected[i]))));
            }
        }
    }
}
