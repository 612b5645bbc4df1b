package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.testing.ExternalReference;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * YaRN rope scaling read from Hugging Face configs and GGUF metadata, checked against src/test/python/yarn_reference.py
 * (numpy, float64): transformers' {@code _compute_yarn_parameters} for the HF cases and ggml's {@code rope_yarn} for
 * the GGUF ones, written there separately from {@link RopeScaling.Yarn}. Needs python3 with numpy (fails under CI=true
 * without them).
 */
class RopeYarnTest {
    static final Path SCRIPT = Path.of("src/test/python/yarn_reference.py");
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode reference(List<Map<String, Object>> cases) throws Exception {
        boolean python;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            python = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            python = false;
        }
        ExternalReference.require(python, "python3 with numpy runs the YaRN reference (src/test/python/yarn_reference.py)");
        assertThat(SCRIPT).isRegularFile();
        Process p = new ProcessBuilder("python3", SCRIPT.toString()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(JSON.writeValueAsBytes(Map.of("cases", cases)));
        }
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        return JSON.readTree(out).get("results");
    }

    /** A 4-head model of head dim 128 (64 rotary pairs), rope_theta 1e6, with the given rope_scaling edits. */
    static ObjectNode hfConfig(Consumer<ObjectNode> scaling) {
        ObjectNode c = ModelFixtures.hfConfig(ModelFixtures.llama().withDims(512, 4, 2, 1024).withContext(131072));
        c.put("rope_theta", 1_000_000.0);
        scaling.accept(c.putObject("rope_scaling"));
        return c;
    }

    static void assertMatches(ModelConfig c, JsonNode ref, String what) {
        double[] inv = c.ropeInvFreq();
        JsonNode expected = ref.get("inv_freq");
        assertThat(inv).as(what).hasSize(expected.size());
        for (int i = 0; i < inv.length; i++) {
            assertThat(inv[i]).as("%s pair %d", what, i).isCloseTo(expected.get(i).asDouble(), within(1e-12 * Math.abs(expected.get(i).asDouble()) + 1e-300));
        }
        assertThat(c.ropeAttentionFactor()).as(what).isCloseTo(ref.get("attention_factor").asDouble(), within(1e-12));
    }

    @Test
    void huggingFaceYarnConfigsGiveTransformersFrequenciesAndAttentionFactor() throws Exception {
        List<ObjectNode> configs = List.of(
                // Qwen2.5 / Qwen3 long-context recipe: type (older spelling), factor 4, original 32768
                hfConfig(s -> s.put("type", "yarn").put("factor", 4.0).put("original_max_position_embeddings", 32768)),
                // explicit betas and attention factor
                hfConfig(s -> s.put("rope_type", "yarn").put("factor", 8.0).put("original_max_position_embeddings", 8192)
                        .put("beta_fast", 16).put("beta_slow", 2).put("attention_factor", 1.25)),
                // DeepSeek style: mscale / mscale_all_dim, factor 40 over 4096
                hfConfig(s -> s.put("rope_type", "yarn").put("factor", 40.0).put("original_max_position_embeddings", 4096)
                        .put("mscale", 0.707).put("mscale_all_dim", 0.707)),
                // gpt-oss style: no truncation of the correction range
                hfConfig(s -> s.put("rope_type", "yarn").put("factor", 32.0).put("original_max_position_embeddings", 4096)
                        .put("truncate", false)),
                // original context from max_position_embeddings when the scaling does not say
                hfConfig(s -> s.put("rope_type", "yarn").put("factor", 2.0)));
        // transformers 5 spelling: rope_parameters with rope_theta inside
        ObjectNode v5 = hfConfig(s -> { });
        v5.remove("rope_scaling");
        v5.remove("rope_theta");
        v5.putObject("rope_parameters").put("rope_type", "yarn").put("rope_theta", 500000.0).put("factor", 4.0)
                .put("original_max_position_embeddings", 16384);
        List<ObjectNode> all = new ArrayList<>(configs);
        all.add(v5);
        List<Map<String, Object>> cases = new ArrayList<>();
        for (ObjectNode c : all) cases.add(Map.of("kind", "hf", "config", JSON.convertValue(c, Map.class)));
        JsonNode ref = reference(cases);
        for (int i = 0; i < all.size(); i++) {
            ModelConfig c = ModelConfig.fromHfConfig(Path.of("config.json"), all.get(i));
            assertThat(c.ropeScaling()).isInstanceOf(RopeScaling.Yarn.class);
            assertMatches(c, ref.get(i), "HF case " + i + " " + all.get(i).get(all.get(i).has("rope_scaling") ? "rope_scaling" : "rope_parameters"));
        }
        // the scaled frequencies really differ from the unscaled ones at both ends of the ramp
        ModelConfig qwen = ModelConfig.fromHfConfig(Path.of("config.json"), configs.get(0));
        double[] inv = qwen.ropeInvFreq();
        assertThat(inv[0]).isEqualTo(1.0); // highest frequency kept
        assertThat(inv[63] * 4).isCloseTo(Math.pow(1e6, -126.0 / 128), within(1e-15)); // lowest divided by the factor
    }

    @Test
    void ggufYarnKeysGiveGgmlFrequenciesAndMscale() throws Exception {
        List<Map<String, Object>> cases = new ArrayList<>();
        List<Map<String, GgufValue>> metas = new ArrayList<>();
        // qwen2 fixture: head dim 16, theta 1e6; original 4096 puts the ramp inside the 8 pairs
        double[][] params = {{4, 4096, 32, 1, 1, 1}, {16, 4096, 16, 2, 0.5, 1.1}, {8, 1024, 32, 1, 1, 1}};
        for (double[] p : params) {
            LinkedHashMap<String, GgufValue> m = ModelFixtures.ggufMetadata(ModelFixtures.qwen2());
            m.put("qwen2.rope.scaling.type", GgufValue.string("yarn"));
            m.put("qwen2.rope.scaling.factor", GgufValue.float32((float) p[0]));
            m.put("qwen2.rope.scaling.original_context_length", GgufValue.uint32((long) p[1]));
            m.put("qwen2.rope.scaling.yarn_beta_fast", GgufValue.float32((float) p[2]));
            m.put("qwen2.rope.scaling.yarn_beta_slow", GgufValue.float32((float) p[3]));
            m.put("qwen2.rope.scaling.yarn_ext_factor", GgufValue.float32((float) p[4]));
            m.put("qwen2.rope.scaling.yarn_attn_factor", GgufValue.float32((float) p[5]));
            metas.add(m);
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("kind", "gguf");
            c.put("n_dims", 16);
            c.put("freq_base", 1_000_000.0);
            c.put("factor", (double) (float) p[0]);
            c.put("n_ctx_orig", (int) p[1]);
            c.put("beta_fast", (double) (float) p[2]);
            c.put("beta_slow", (double) (float) p[3]);
            c.put("ext_factor", (double) (float) p[4]);
            c.put("attn_factor", (double) (float) p[5]);
            cases.add(c);
        }
        JsonNode ref = reference(cases);
        for (int i = 0; i < metas.size(); i++) {
            ModelConfig c = ModelConfig.fromGguf(Path.of("m.gguf"), metas.get(i), ModelConfigTest.NO_WEIGHTS);
            assertThat(c.rotaryDim()).isEqualTo(16);
            assertMatches(c, ref.get(i), "GGUF case " + i);
        }
    }

    @Test
    void badYarnSettingsAreOneClearError() {
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(Path.of("config.json"), hfConfig(s -> s.put("rope_type", "yarn"))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("yarn needs a factor");
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(Path.of("config.json"), hfConfig(s -> s.put("rope_type", "yarn")
                .put("factor", "four")))).isInstanceOf(ModelFormatException.class).hasMessageContaining("rope_scaling.factor must be a number");
        LinkedHashMap<String, GgufValue> m = ModelFixtures.ggufMetadata(ModelFixtures.qwen2());
        m.put("qwen2.rope.scaling.type", GgufValue.string("yarn"));
        m.put("qwen2.rope.scaling.factor", GgufValue.float32(4));
        assertThatThrownBy(() -> ModelConfig.fromGguf(Path.of("m.gguf"), m, ModelConfigTest.NO_WEIGHTS))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("original_context_length");
    }

    @Test
    void aConvertedDirectoryKeepsTheYarnOfTheDirectory(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        ModelFixtures.Spec spec = ModelFixtures.llama().withContext(512);
        Path hf = ModelFixtures.writeHf(spec, dir.resolve("hf"));
        ObjectNode config = (ObjectNode) JSON.readTree(hf.resolve("config.json").toFile());
        config.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0).put("original_max_position_embeddings", 128)
                .put("beta_fast", 16).put("attention_factor", 1.2);
        JSON.writeValue(hf.resolve("config.json").toFile(), config);
        Path gguf = dir.resolve("m.gguf");
        ai.autoglm.core.convert.HfToGgufConverter.convert(hf, gguf, ai.autoglm.core.tensor.GgmlType.F32);
        try (LanguageModel direct = ModelLoader.load(hf); LanguageModel converted = ModelLoader.load(gguf)) {
            assertThat(converted.config().ropeScaling()).isInstanceOf(RopeScaling.Yarn.class);
            double[] a = direct.config().ropeInvFreq(), b = converted.config().ropeInvFreq();
            for (int i = 0; i < a.length; i++) assertThat(b[i]).as("pair %d", i).isCloseTo(a[i], within(1e-7 * a[i]));
            // the explicit attention factor survives as yarn_attn_factor x (1 + 0.1 ln factor), in float32
            assertThat(converted.config().ropeAttentionFactor()).isCloseTo(1.2, within(1e-6));
            assertThat(direct.config().ropeAttentionFactor()).isEqualTo(1.2);
            int[] tokens = TransformerModelTest.prompt(40, 3);
            float[] x = direct.forward(direct.newState(40), tokens, 0, 40, false).clone();
            float[] y = converted.forward(converted.newState(40), tokens, 0, 40, false);
            for (int i = 0; i < x.length; i++) assertThat(y[i]).isCloseTo(x[i], within(1e-3f));
        }
    }
}
