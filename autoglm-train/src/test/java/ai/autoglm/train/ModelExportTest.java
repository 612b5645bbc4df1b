package ai.autoglm.train;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.testing.ModelFixtures;
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
 * and gives the training forward pass's logits.
 */
class ModelExportTest {
    @TempDir
    Path dir;

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

    private void check(ModelConfig config, long seed) throws IOException {
        TrainableTransformer model = new TrainableTransformer(config);
        TrainTestModels.randomize(model, seed);
        Path tok = dir.resolve("tok");
        java.nio.file.Files.createDirectories(tok);
        ModelFixtures.Spec spec = TrainTestModels.spec(config);
        ObjectMapper om = new ObjectMapper();
        om.writeValue(tok.resolve("tokenizer.json").toFile(), ModelFixtures.tokenizerJson(spec));
        om.writeValue(tok.resolve("tokenizer_config.json").toFile(), ModelFixtures.tokenizerConfigJson(spec));

        Path hf = dir.resolve("hf");
        ModelExport.writeHfDirectory(model, tok, hf);
        Path gguf = dir.resolve("model.gguf");
        ModelExport.writeGguf(hf, gguf);

        int[] tokens = new int[12];
        Random r = new Random(seed);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(config.vocabSize());
        float[] expected = model.forward(tokens, tokens.length).clone();
        for (Path p : new Path[]{hf, gguf}) {
            try (LanguageModel loaded = ModelLoader.load(p)) {
                assertThat(loaded.config().rotaryDim()).isEqualTo(config.rotaryDim());
                InferenceState s = loaded.newState(tokens.length);
                float[] logits = loaded.forward(s, tokens, 0, tokens.length, true);
                assertThat(logits).hasSameSizeAs(expected);
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) logits[i]).as(p.getFileName() + " logit " + i).isCloseTo(expected[i], within(1e-4 * Math.max(1, Math.abs(expected[i]))));
                }
            }
        }
    }
}
