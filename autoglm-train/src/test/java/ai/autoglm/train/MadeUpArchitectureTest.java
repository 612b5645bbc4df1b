package ai.autoglm.train;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.HfConfigKeys;
import ai.autoglm.core.model.HfLayout;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.RopeStyle;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * An architecture that exists only as one row of the architecture table: Llama's structure under another GGUF name,
 * another HF class and model_type, one HF tensor renamed and the context length under another config key. Nothing
 * else in the code knows it, yet a model of it trains, exports as an HF directory (tensor names and config keys from
 * the row), converts to GGUF (GGUF keys under the new name, q/k permuted as the row says) and loads from both; the
 * reference is the training forward pass, which shares no code with the inference engine's.
 */
class MadeUpArchitectureTest {
    static final String HF_CLASS = "MadeUpForCausalLM";

    static final Architecture MADE_UP = new Architecture("madeup", RopeStyle.NORMAL, RopeStyle.NEOX,
            false, false, false, false,
            java.util.List.of(new HfLayout(HF_CLASS, "made_up", true,
                    HfLayout.with(HfLayout.LLAMA_NAMES, TensorRole.FFN_UP, "model.layers.{bid}.mlp.w_up"),
                    new HfConfigKeys(HfConfigKeys.LLAMA.layers(), HfConfigKeys.LLAMA.kvHeads(), HfConfigKeys.LLAMA.headDim(),
                            HfConfigKeys.LLAMA.ffn(), HfConfigKeys.LLAMA.vocab(), HfConfigKeys.Key.of(1024, "n_positions"),
                            HfConfigKeys.LLAMA.rmsEps(), 1.0, HfConfigKeys.LLAMA.qkvBias(), false))));

    @TempDir
    Path dir;

    @BeforeAll
    static void register() {
        Architecture.register(MADE_UP);
    }

    @AfterAll
    static void unregister() {
        Architecture.unregister(MADE_UP);
    }

    @Test
    void trainsExportsConvertsAndLoadsFromOneRow() throws Exception {
        ModelConfig llama = TrainTestModels.llama(ModelFixtures.VOCAB_SIZE);
        ModelConfig config = new ModelConfig(MADE_UP, llama.dim(), llama.layers(), llama.heads(), llama.kvHeads(), llama.headDim(),
                llama.ffnDim(), llama.vocabSize(), llama.contextLength(), llama.rmsEps(), llama.ropeTheta(), RopeStyle.NEOX,
                llama.rotaryDim(), null, false, false);
        TrainableTransformer model = new TrainableTransformer(config);
        TrainTestModels.randomize(model, 31);
        Path tok = dir.resolve("tok");
        Files.createDirectories(tok);
        ObjectMapper om = new ObjectMapper();
        ModelFixtures.Spec spec = TrainTestModels.spec(config);
        om.writeValue(tok.resolve("tokenizer.json").toFile(), ModelFixtures.tokenizerJson(spec));
        om.writeValue(tok.resolve("tokenizer_config.json").toFile(), ModelFixtures.tokenizerConfigJson(spec));

        Path hf = dir.resolve("hf");
        ModelExport.writeHfDirectory(model, tok, hf);
        JsonNode written = om.readTree(hf.resolve("config.json").toFile());
        assertThat(written.get("architectures").get(0).asText()).isEqualTo(HF_CLASS);
        assertThat(written.get("model_type").asText()).isEqualTo("made_up");
        assertThat(written.get("n_positions").asInt()).isEqualTo(config.contextLength());
        assertThat(written.has("max_position_embeddings")).isFalse();
        try (var st = ai.autoglm.core.format.safetensors.SafetensorsFile.open(hf.resolve("model.safetensors"))) {
            assertThat(st.tensors().keySet()).contains("model.layers.1.mlp.w_up.weight").doesNotContain("model.layers.1.mlp.up_proj.weight");
        }

        Path gguf = dir.resolve("model.gguf");
        ModelExport.writeGguf(hf, gguf);
        try (GgufFile g = GgufFile.open(gguf)) {
            assertThat(g.metadata().get(GgufKeys.ARCHITECTURE).value()).isEqualTo("madeup");
            assertThat(g.metadata().get(GgufKeys.CONTEXT_LENGTH.of("madeup")).asLong()).isEqualTo(config.contextLength());
            assertThat(g.metadata().get(GgufKeys.BLOCK_COUNT.of("madeup")).asLong()).isEqualTo(config.layers());
            assertThat(g.tensorInfos().stream().map(t -> t.name()).toList()).contains("blk.1.ffn_up.weight");
        }

        int[] tokens = new int[12];
        Random r = new Random(31);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(config.vocabSize());
        float[] expected = model.forward(tokens, tokens.length).clone();
        for (Path p : new Path[]{hf, gguf}) {
            try (LanguageModel loaded = ModelLoader.load(p)) {
                assertThat(loaded.config().architecture()).isEqualTo(MADE_UP);
                assertThat(loaded.config().contextLength()).isEqualTo(config.contextLength());
                // the HF layout keeps rotate-half q/k rows; the GGUF has them permuted to interleaved pairs, as llama's
                assertThat(loaded.config().ropeStyle()).isEqualTo(p == hf ? RopeStyle.NEOX : RopeStyle.NORMAL);
                InferenceState s = loaded.newState(tokens.length);
                float[] logits = loaded.forward(s, tokens, 0, tokens.length, true);
                assertThat(logits).hasSameSizeAs(expected);
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) logits[i]).as(p.getFileName() + " logit " + i)
                            .isCloseTo(expected[i], within(1e-4 * Math.max(1, Math.abs(expected[i]))));
                }
            }
        }
    }
}
