package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * End to end from files: the same fixture weights written as an HF directory and as a GGUF file load
 * through {@link ModelLoader} and give the reference logits (1e-4 of the largest logit, see
 * TransformerModelTest for the derivation), with a working tokenizer and chat template.
 */
class ModelLoaderTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> specs() {
        return Stream.of(
                Arguments.of("llama", ModelFixtures.llama()),
                Arguments.of("llama tied", ModelFixtures.llamaTied()),
                Arguments.of("llama3 rope scaling", ModelFixtures.llama3Scaled()),
                Arguments.of("qwen2", ModelFixtures.qwen2()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void hfDirectoryAndGgufFileGiveTheReferenceLogits(String name, Spec s) {
        Map<String, float[]> w = ModelFixtures.hfWeights(s);
        Path dir = ModelFixtures.writeHf(s, tmp.resolve("hf"));
        Path gguf = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);

        try (LanguageModel hf = ModelLoader.load(dir); LanguageModel gg = ModelLoader.load(gguf)) {
            int[] tokens = hf.tokenizer().encode("hello world, the world", false);
            assertThat(tokens).isEqualTo(gg.tokenizer().encode("hello world, the world", false));
            assertThat(tokens).contains(ModelFixtures.TOKENS.indexOf("hello"), ModelFixtures.TOKENS.indexOf("Ġworld"));
            assertThat(hf.tokenizer().decode(tokens)).isEqualTo("hello world, the world");

            double[][] ref = new ReferenceForward(s, w, tokens.length).run(tokens);
            assertRowsClose(name + " HF dir", hf.forward(hf.newState(32), tokens, 0, tokens.length, true), ref, 1e-4);
            assertRowsClose(name + " GGUF", gg.forward(gg.newState(32), tokens, 0, tokens.length, true), ref, 1e-4);

            assertThat(hf.config().ropeStyle()).isEqualTo(RopeStyle.NEOX);
            assertThat(gg.config().ropeStyle()).isEqualTo(s.arch().equals("llama") ? RopeStyle.NORMAL : RopeStyle.NEOX);
            assertThat(hf.config().tiedEmbeddings()).isEqualTo(s.tiedEmbeddings());
            assertThat(gg.config().tiedEmbeddings()).isEqualTo(s.tiedEmbeddings());
            assertThat(hf.chatTemplate()).contains(ModelFixtures.CHAT_TEMPLATE);
            assertThat(gg.chatTemplate()).contains(ModelFixtures.CHAT_TEMPLATE);
        }
    }

    /** The hf helper's converter (convert_hf_to_gguf.py semantics) on the fixture directory gives the same logits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void convertedGgufGivesTheReferenceLogits(String name, Spec s) {
        Path dir = ModelFixtures.writeHf(s, tmp.resolve("hfc"));
        Path out = tmp.resolve("converted.gguf");
        ai.autoglm.core.convert.HfToGgufConverter.convert(dir, out, GgmlType.F32);
        int[] tokens = {3, 200, 77, 104, 101, 1, 0, 255};
        double[][] ref = new ReferenceForward(s, ModelFixtures.hfWeights(s), tokens.length).run(tokens);
        try (LanguageModel m = ModelLoader.load(out)) {
            assertRowsClose(name + " converted", m.forward(m.newState(16), tokens, 0, tokens.length, true), ref, 1e-4);
            assertThat(m.chatTemplate()).contains(ModelFixtures.CHAT_TEMPLATE);
        }
    }

    /**
     * transformers 5 writes {@code rope_theta} and the scaling inside {@code rope_parameters} instead of top-level
     * {@code rope_theta} + {@code rope_scaling}. The same directory in that spelling, loaded directly and converted,
     * gives the reference logits: before, the direct load ignored rope_parameters (base 10000, no llama3 scaling)
     * while the converter honoured it.
     */
    @Test
    void ropeParametersSpellingLoadsAndConvertsLikeRopeTheta() throws Exception {
        Spec l3 = ModelFixtures.llama3Scaled();
        Spec s = new Spec(l3.arch(), l3.dim(), l3.layers(), l3.heads(), l3.kvHeads(), l3.ffn(), l3.context(), l3.rmsEps(),
                500000.0, l3.tiedEmbeddings(), l3.qkvBias(), l3.llama3(), l3.seed());
        Path dir = ModelFixtures.writeHf(s, tmp.resolve("tf5"));
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(dir.resolve("config.json").toFile());
        var params = (com.fasterxml.jackson.databind.node.ObjectNode) config.remove("rope_scaling");
        params.set("rope_theta", config.remove("rope_theta"));
        config.set("rope_parameters", params);
        mapper.writeValue(dir.resolve("config.json").toFile(), config);
        assertThat(s.ropeTheta()).isNotEqualTo(10000.0);

        Path out = tmp.resolve("tf5.gguf");
        ai.autoglm.core.convert.HfToGgufConverter.convert(dir, out, GgmlType.F32);
        int[] tokens = {3, 200, 77, 104, 101, 1, 0, 255};
        double[][] ref = new ReferenceForward(s, ModelFixtures.hfWeights(s), tokens.length).run(tokens);
        try (LanguageModel direct = ModelLoader.load(dir); LanguageModel converted = ModelLoader.load(out)) {
            assertThat(direct.config().ropeTheta()).isEqualTo(s.ropeTheta());
            assertRowsClose("rope_parameters, HF dir", direct.forward(direct.newState(16), tokens, 0, tokens.length, true), ref, 1e-4);
            assertRowsClose("rope_parameters, converted", converted.forward(converted.newState(16), tokens, 0, tokens.length, true), ref, 1e-4);
        }
    }

    @Test
    void f16SafetensorsLoad() {
        Spec s = ModelFixtures.qwen2();
        Path dir = ModelFixtures.writeHf(s, tmp.resolve("hf16"), "F16");
        try (LanguageModel m = ModelLoader.load(dir)) {
            int[] tokens = {1, 2, 3};
            float[] logits = m.forward(m.newState(4), tokens, 0, 3, false);
            assertThat(logits).hasSize(ModelFixtures.VOCAB_SIZE);
        }
    }

    @Test
    void badPathsAreFormatErrors() throws Exception {
        assertThatThrownBy(() -> ModelLoader.load(tmp.resolve("missing.gguf")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no such file");
        Path text = Files.writeString(tmp.resolve("notes.gguf"), "hello, not a model");
        assertThatThrownBy(() -> ModelLoader.load(text))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("notes.gguf");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> ModelLoader.load(empty))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("empty");
    }

    @Test
    void unsupportedArchitectureInAFileIsNamed() {
        Spec s = ModelFixtures.llama();
        Path dir = ModelFixtures.writeHf(s, tmp.resolve("mamba"));
        try {
            String cfg = Files.readString(dir.resolve("config.json")).replace("LlamaForCausalLM", "MambaForCausalLM");
            Files.writeString(dir.resolve("config.json"), cfg);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThatThrownBy(() -> ModelLoader.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("MambaForCausalLM");
    }
}
