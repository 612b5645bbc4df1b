package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.testing.ModelFixtures;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelConfigTest {
    static final MapWeightSource NO_WEIGHTS = new MapWeightSource();

    static ModelConfig hf(Consumer<ObjectNode> edit) {
        ObjectNode c = ModelFixtures.hfConfig(ModelFixtures.llama());
        edit.accept(c);
        return ModelConfig.fromHfConfig(Path.of("dir/config.json"), c);
    }

    static ModelConfig gguf(Consumer<Map<String, GgufValue>> edit) {
        LinkedHashMap<String, GgufValue> m = ModelFixtures.ggufMetadata(ModelFixtures.qwen2());
        edit.accept(m);
        return ModelConfig.fromGguf(Path.of("m.gguf"), m, NO_WEIGHTS);
    }

    @Test
    void readsHfConfig() {
        ModelConfig c = hf(x -> x.put("head_dim", 32));
        assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
        assertThat(c.headDim()).isEqualTo(32);
        assertThat(c.qDim()).isEqualTo(128);
        assertThat(c.kvHeads()).isEqualTo(2);
        assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
        assertThat(c.rotaryDim()).isEqualTo(32);
        assertThat(c.qkvBias()).isFalse();
        ModelConfig q = ModelConfig.fromHfConfig(ModelFixtures.hfConfig(ModelFixtures.qwen2()));
        assertThat(q.architecture()).isEqualTo(Architecture.QWEN2);
        assertThat(q.qkvBias()).isTrue();
        assertThat(q.tiedEmbeddings()).isTrue();
        assertThat(q.ropeTheta()).isEqualTo(1e6);
    }

    @Test
    void readsGgufMetadata() {
        ModelConfig c = gguf(m -> { });
        assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
        assertThat(c.dim()).isEqualTo(64);
        assertThat(c.vocabSize()).isEqualTo(ModelFixtures.VOCAB_SIZE);
        assertThat(c.contextLength()).isEqualTo(128);
        assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
        assertThat(c.rmsEps()).isEqualTo(1e-6f);
        assertThat(c.ropeScaling()).isNull();
        ModelConfig lin = gguf(m -> {
            m.put("qwen2.rope.scaling.type", GgufValue.string("linear"));
            m.put("qwen2.rope.scaling.factor", GgufValue.float32(4f));
        });
        assertThat(lin.ropeInvFreq()[1]).isEqualTo(c.ropeInvFreq()[1] / 4);
    }

    @Test
    void unknownArchitectureIsNamed() {
        assertThatThrownBy(() -> hf(x -> x.putArray("architectures").add("MambaForCausalLM")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("dir/config.json")
                .hasMessageContaining("unsupported architecture 'MambaForCausalLM'");
        assertThatThrownBy(() -> gguf(m -> m.put("general.architecture", GgufValue.string("rwkv6"))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("m.gguf")
                .hasMessageContaining("unsupported architecture 'rwkv6'");
        assertThatThrownBy(() -> gguf(m -> m.remove("general.architecture")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("general.architecture");
    }

    @Test
    void absurdDimensionsAreRejected() {
        assertThatThrownBy(() -> hf(x -> x.put("hidden_size", -64))).isInstanceOf(ModelFormatException.class);
        assertThatThrownBy(() -> hf(x -> x.put("hidden_size", 1 << 30))).isInstanceOf(ModelFormatException.class);
        assertThatThrownBy(() -> hf(x -> x.put("num_attention_heads", 5)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("does not divide the embedding length 64");
        assertThatThrownBy(() -> hf(x -> x.put("num_key_value_heads", 3)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("does not divide head count 4");
        assertThatThrownBy(() -> hf(x -> x.put("num_attention_heads", 0))).isInstanceOf(ModelFormatException.class);
        assertThatThrownBy(() -> hf(x -> x.put("max_position_embeddings", Integer.MAX_VALUE)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("context length");
        assertThatThrownBy(() -> hf(x -> x.put("vocab_size", "many"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("vocab_size");
        assertThatThrownBy(() -> hf(x -> x.remove("intermediate_size"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("missing intermediate_size");
        assertThatThrownBy(() -> hf(x -> x.putObject("rope_scaling").put("rope_type", "yarn")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("yarn");
        assertThatThrownBy(() -> gguf(m -> m.put("qwen2.block_count", GgufValue.of(ai.autoglm.core.format.gguf.GgufValueType.UINT64, 1L << 40))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("qwen2.block_count");
        assertThatThrownBy(() -> gguf(m -> m.put("qwen2.attention.head_count", GgufValue.string("4"))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("should be an integer");
        assertThatThrownBy(() -> gguf(m -> m.put("qwen2.rope.dimension_count", GgufValue.uint32(15))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("rotary dimension 15");
        assertThatThrownBy(() -> gguf(m -> m.put("qwen2.attention.head_count_kv", GgufValue.uint32(0))))
                .isInstanceOf(ModelFormatException.class);
    }
}
