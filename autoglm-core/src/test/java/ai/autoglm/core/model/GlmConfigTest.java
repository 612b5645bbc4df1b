package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GLM config.json / GGUF parsing: the real checkpoints' keys, transformers' defaults, and hostile values refused by name. */
class GlmConfigTest {
    @TempDir
    Path tmp;

    /** glm-4-9b-chat's published config.json numbers (THUDM/glm-4-9b-chat config.json). */
    @Test
    void glm4_9bChatRemoteConfig() {
        ObjectNode c = GlmFixtures.hfConfig(GlmFixtures.glm4_9b(), Layout.CHATGLM_REMOTE);
        c.put("hidden_size", 4096).put("ffn_hidden_size", 13696).put("kv_channels", 128).put("num_attention_heads", 32)
                .put("multi_query_group_num", 2).put("num_layers", 40).put("padded_vocab_size", 151552).put("rope_ratio", 500)
                .put("seq_length", 131072).put("layernorm_epsilon", 1.5625e-07);
        ModelConfig m = ModelConfig.fromHfConfig(c);
        assertThat(m.architecture()).isEqualTo(Architecture.CHATGLM);
        assertThat(m.kvHeads()).isEqualTo(2);
        assertThat(m.headDim()).isEqualTo(128);
        assertThat(m.rotaryDim()).isEqualTo(64);
        assertThat(m.ropeTheta()).isEqualTo(5_000_000.0);
        assertThat(m.vocabSize()).isEqualTo(151552);
        assertThat(m.contextLength()).isEqualTo(131072);
        assertThat(m.ffnDim()).isEqualTo(13696);
        assertThat(m.qkvBias()).isTrue();
        assertThat(m.ropeStyle()).isEqualTo(RopeStyle.NORMAL);
        // inverse frequencies of RotaryEmbedding(64): base^(-2i/64), i < 32
        assertThat(m.ropeInvFreq()).hasSize(32);
        assertThat(m.ropeInvFreq()[1]).isCloseTo(Math.pow(5_000_000.0, -2.0 / 64), org.assertj.core.data.Offset.offset(1e-15));
    }

    /** GlmForCausalLM without the keys transformers defaults (configuration_glm.py): head_dim 128, partial 0.5, bias. */
    @Test
    void glmHfDefaults() {
        ObjectNode c = GlmFixtures.hfConfig(GlmFixtures.glm4_9b(), Layout.GLM_HF);
        c.put("hidden_size", 4096).put("num_attention_heads", 32);
        c.remove(java.util.List.of("head_dim", "partial_rotary_factor", "attention_bias", "num_key_value_heads", "rms_norm_eps"));
        ModelConfig m = ModelConfig.fromHfConfig(c);
        assertThat(m.architecture()).isEqualTo(Architecture.CHATGLM);
        assertThat(m.headDim()).isEqualTo(128);
        assertThat(m.rotaryDim()).isEqualTo(64);
        assertThat(m.kvHeads()).isEqualTo(2);
        assertThat(m.qkvBias()).isTrue();
        assertThat(m.rmsEps()).isEqualTo(1.5625e-7f);
        ObjectNode g4 = GlmFixtures.hfConfig(GlmFixtures.glm4_0414(), Layout.GLM4_HF);
        assertThat(ModelConfig.fromHfConfig(g4).architecture()).isEqualTo(Architecture.GLM4);
        assertThat(ModelConfig.fromHfConfig(g4).architecture().postNorms()).isTrue();
    }

    static Stream<Arguments> hostileRemoteConfigs() {
        return Stream.of(
                Arguments.of("multi_query_attention", (Consumer<ObjectNode>) c -> c.put("multi_query_attention", false)),
                Arguments.of("rmsnorm", (Consumer<ObjectNode>) c -> c.put("rmsnorm", false)),
                Arguments.of("add_bias_linear", (Consumer<ObjectNode>) c -> c.put("add_bias_linear", true)),
                Arguments.of("apply_residual_connection_post_layernorm", (Consumer<ObjectNode>) c -> c.put("apply_residual_connection_post_layernorm", true)),
                Arguments.of("post_layer_norm", (Consumer<ObjectNode>) c -> c.put("post_layer_norm", false)),
                Arguments.of("rope_ratio", (Consumer<ObjectNode>) c -> c.put("rope_ratio", -5)),
                Arguments.of("rope_ratio", (Consumer<ObjectNode>) c -> c.put("rope_ratio", "big")),
                Arguments.of("does not divide head count", (Consumer<ObjectNode>) c -> c.put("multi_query_group_num", 3)),
                Arguments.of("multi_query_group_num", (Consumer<ObjectNode>) c -> c.remove("multi_query_group_num")),
                Arguments.of("rotary dimension", (Consumer<ObjectNode>) c -> c.put("kv_channels", 6)),
                Arguments.of("head dimension", (Consumer<ObjectNode>) c -> c.put("kv_channels", 1 << 20)),
                Arguments.of("seq_length", (Consumer<ObjectNode>) c -> c.remove("seq_length")),
                Arguments.of("padded_vocab_size", (Consumer<ObjectNode>) c -> c.put("padded_vocab_size", 2.5)),
                Arguments.of("vocabulary size", (Consumer<ObjectNode>) c -> c.put("padded_vocab_size", -1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileRemoteConfigs")
    void hostileRemoteConfigsAreRefusedByName(String expected, Consumer<ObjectNode> mutate) {
        ObjectNode c = GlmFixtures.hfConfig(GlmFixtures.glm4_9b(), Layout.CHATGLM_REMOTE);
        mutate.accept(c);
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(Path.of("glm/config.json"), c))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("glm/config.json").hasMessageContaining(expected);
    }

    @Test
    void hostileHfConfig() {
        ObjectNode c = GlmFixtures.hfConfig(GlmFixtures.glm4_0414(), Layout.GLM4_HF);
        c.put("partial_rotary_factor", 3.0);
        assertThatThrownBy(() -> ModelConfig.fromHfConfig(c)).isInstanceOf(ModelFormatException.class).hasMessageContaining("partial_rotary_factor");
    }

    /** GGUF files with a rotary width past the head or the fused q|k|v of the wrong width are refused, naming the file. */
    @Test
    void hostileGguf() {
        var s = GlmFixtures.glm4_9b();
        Path bad = tmp.resolve("rot.gguf");
        GgufWriter g = new GgufWriter();
        GlmFixtures.ggufMetadata(s, Layout.CHATGLM_REMOTE).forEach(g::put);
        g.put("chatglm.rope.dimension_count", GgufValue.uint32(s.headDim() + 2));
        GlmFixtures.ggufTensors(s, Layout.CHATGLM_REMOTE, GlmFixtures.weights(s))
                .forEach((n, t) -> g.addTensor(n, t.shape(), t.values(), GgmlType.F32));
        g.write(bad);
        assertThatThrownBy(() -> ModelLoader.load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("rot.gguf").hasMessageContaining("rotary dimension");

        Path narrow = tmp.resolve("qkv.gguf");
        GgufWriter h = new GgufWriter();
        GlmFixtures.ggufMetadata(s, Layout.CHATGLM_REMOTE).forEach(h::put);
        GlmFixtures.ggufTensors(s, Layout.CHATGLM_REMOTE, GlmFixtures.weights(s)).forEach((n, t) -> {
            if (n.equals("blk.1.attn_qkv.weight")) h.addTensor(n, new long[]{s.dim(), s.qDim()}, new float[s.dim() * s.qDim()], GgmlType.F32);
            else h.addTensor(n, t.shape(), t.values(), GgmlType.F32);
        });
        h.write(narrow);
        assertThatThrownBy(() -> ModelLoader.load(narrow)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("qkv.gguf").hasMessageContaining("blk.1.attn_qkv.weight");
        try (GgufFile f = GgufFile.open(narrow)) {
            assertThat(f.tensorInfo("blk.0.attn_qkv.weight")).isNotNull();
        }
    }
}
