package ai.autoglm.core.convert;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Spec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The converter on the three GLM layouts. Expected tensor names and metadata keys are written out here from gguf-py
 * (constants.py TENSOR_NAMES + MODEL_TENSORS[CHATGLM] / [GLM4], Keys.LLM / Keys.Attention / Keys.Rope / Keys.Tokenizer)
 * and convert_hf_to_gguf.py (ChatGLMModel.set_gguf_parameters / set_vocab, Glm4Model.set_gguf_parameters / set_vocab),
 * not taken from the converter's tables; the converted file must also give the logits of the HF directory.
 */
class GlmConverterTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of(Layout.CHATGLM_REMOTE, GlmFixtures.chatglm3(), "chatglm"),
                Arguments.of(Layout.CHATGLM_REMOTE, GlmFixtures.glm4_9b(), "chatglm"),
                Arguments.of(Layout.GLM_HF, GlmFixtures.glm4_9b(), "chatglm"),
                Arguments.of(Layout.GLM4_HF, GlmFixtures.glm4_0414(), "glm4"));
    }

    /** gguf-py TENSOR_NAMES for the tensors each HF layout has (MODEL_TENSORS lists attn_qkv and attn_q/k/v both). */
    static Set<String> expectedTensors(Spec s, Layout layout) {
        Set<String> names = new TreeSet<>(List.of("token_embd.weight", "output_norm.weight", "output.weight"));
        for (int b = 0; b < s.layers(); b++) {
            String p = "blk." + b + ".";
            List<String> perBlock = new ArrayList<>(List.of("attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                    "ffn_up.weight", "ffn_down.weight"));
            if (layout == Layout.CHATGLM_REMOTE) {
                perBlock.add("attn_qkv.weight");
                if (s.qkvBias()) perBlock.add("attn_qkv.bias");
            } else {
                perBlock.addAll(List.of("attn_q.weight", "attn_k.weight", "attn_v.weight"));
                if (s.qkvBias()) perBlock.addAll(List.of("attn_q.bias", "attn_k.bias", "attn_v.bias"));
            }
            if (layout == Layout.GLM4_HF) perBlock.addAll(List.of("post_attention_norm.weight", "post_ffw_norm.weight"));
            for (String t : perBlock) names.add(p + t);
        }
        return names;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layouts")
    void namesKeysAndLogitsAsLlamaCpp(Layout layout, Spec s, String arch) {
        Path dir = GlmFixtures.writeHf(s, layout, tmp.resolve("hf"));
        Path out = tmp.resolve("out.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F16);
        try (GgufFile g = GgufFile.open(out)) {
            Set<String> names = new TreeSet<>();
            for (GgufTensorInfo t : g.tensorInfos()) names.add(t.name());
            assertThat(names).isEqualTo(expectedTensors(s, layout));
            // fused tensors keep their fused widths: q|k|v rows and gate|up rows, GGUF order [in, out]
            String first = layout == Layout.CHATGLM_REMOTE ? "blk.0.attn_qkv.weight" : "blk.0.attn_q.weight";
            long rows = layout == Layout.CHATGLM_REMOTE ? s.qDim() + 2L * s.kvDim() : s.qDim();
            assertThat(g.tensorInfo(first).shape()).containsExactly(s.dim(), rows);
            assertThat(g.tensorInfo("blk.0.ffn_up.weight").shape()).containsExactly(s.dim(), 2L * s.ffn());
            assertThat(g.tensorInfo("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(g.tensorInfo("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.F16);

            assertThat(g.getString("general.architecture", null)).isEqualTo(arch);
            for (String key : List.of("context_length", "embedding_length", "feed_forward_length", "block_count",
                    "attention.head_count", "attention.head_count_kv", "attention.layer_norm_rms_epsilon",
                    "rope.dimension_count", "rope.freq_base")) {
                assertThat(g.metadata()).as(key).containsKey(arch + "." + key);
            }
            assertThat(g.metadata().get(arch + ".embedding_length").asLong()).isEqualTo(s.dim());
            assertThat(g.metadata().get(arch + ".feed_forward_length").asLong()).isEqualTo(s.ffn());
            assertThat(g.metadata().get(arch + ".block_count").asLong()).isEqualTo(s.layers());
            assertThat(g.metadata().get(arch + ".attention.head_count_kv").asLong()).isEqualTo(s.kvHeads());
            assertThat(g.metadata().get(arch + ".context_length").asLong()).isEqualTo(s.context());
            assertThat(g.metadata().get(arch + ".rope.dimension_count").asLong()).isEqualTo(s.headDim() / 2);
            assertThat(((Number) g.metadata().get(arch + ".rope.freq_base").value()).doubleValue()).isEqualTo((float) s.ropeTheta());
            assertThat(((Number) g.metadata().get(arch + ".attention.layer_norm_rms_epsilon").value()).floatValue()).isEqualTo(s.eps());
            assertThat(g.metadata().get("general.file_type").asLong()).isEqualTo(1);
            if (arch.equals("chatglm")) assertThat(g.metadata().get("tokenizer.ggml.add_bos_token").value()).isEqualTo(false);
            if (arch.equals("glm4")) assertThat(g.metadata().get("glm4.attention.key_length").asLong()).isEqualTo(s.headDim());

            assertThat(g.getString("tokenizer.ggml.model", null)).isEqualTo("gpt2");
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("glm4");
            assertThat((List<?>) g.metadata().get("tokenizer.ggml.tokens").value()).hasSize(s.paddedVocab());
            assertThat(g.metadata().get("tokenizer.ggml.eos_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
            assertThat(g.metadata().get("tokenizer.ggml.unknown_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
            assertThat(g.metadata().get("tokenizer.ggml.eot_token_id").asLong()).isEqualTo(GlmFixtures.USER_ID);
            if (arch.equals("glm4")) assertThat(g.metadata().get("tokenizer.ggml.bos_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
        }
        int[] tokens = {GlmFixtures.GMASK_ID, GlmFixtures.SOP_ID, GlmFixtures.USER_ID, 104, 101, 263, GlmFixtures.ASSISTANT_ID, 9};
        try (LanguageModel fromHf = ModelLoader.load(dir); LanguageModel fromGguf = ModelLoader.load(out)) {
            float[] a = fromHf.forward(fromHf.newState(16), tokens, 0, tokens.length, true);
            float[] b = fromGguf.forward(fromGguf.newState(16), tokens, 0, tokens.length, true);
            double max = 0, diff = 0;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            // F16 weights: relative rounding 2^-11 per weight, averaged over rows of 64..192 products
            assertThat(diff / max).isLessThan(5e-3);
        }
    }

    @Test
    void f32ConversionIsExact() {
        Spec s = GlmFixtures.glm4_9b();
        Path dir = GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("hf32"));
        Path out = tmp.resolve("out32.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F32);
        Path fixture = GlmFixtures.writeGguf(s, Layout.CHATGLM_REMOTE, tmp.resolve("fixture.gguf"));
        try (GgufFile a = GgufFile.open(out); GgufFile b = GgufFile.open(fixture)) {
            for (GgufTensorInfo t : b.tensorInfos()) {
                var x = a.tensor(t.name());
                var y = b.tensor(t.name());
                for (long i = 0; i < y.size(); i++) assertThat(x.getFloat(i)).as(t.name()).isEqualTo(y.getFloat(i));
            }
        }
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        Spec s = GlmFixtures.glm4_9b();
        Path dir = GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("bad"));
        ObjectNode c = GlmFixtures.hfConfig(s, Layout.CHATGLM_REMOTE);
        c.putArray("architectures").add("NotAGlm");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), c);
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, tmp.resolve("x.gguf"), GgmlType.F32))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("NotAGlm");
    }

    @Test
    void tiktokenOnlyDirectoryIsReportedNotGuessed() throws IOException {
        Spec s = GlmFixtures.glm4_9b();
        Path dir = GlmFixtures.writeHf(s, Layout.CHATGLM_REMOTE, tmp.resolve("tk"));
        java.nio.file.Files.delete(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, tmp.resolve("y.gguf"), GgmlType.F32))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.json");
    }
}
