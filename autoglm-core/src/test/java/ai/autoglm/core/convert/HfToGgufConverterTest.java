package ai.autoglm.core.convert;

import ai.autoglm.core.model.HfToGgufNames;
import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.model.HfRopeParameters;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.safetensors.HalfFloatReference;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Converts small random HF checkpoints and checks the GGUF against what convert_hf_to_gguf.py would write: names,
 * metadata, tokenizer, tensor types and values (Q/K permutation re-implemented independently below).
 */
class HfToGgufConverterTest {

    @TempDir
    Path tmp;

    /**
     * LlamaModel.permute written as numpy does it: view the rows as an array of shape (heads, 2, rows/heads/2, cols)
     * in row-major order, swap axes 1 and 2, read back row-major.
     */
    static float[] numpyPermute(float[] w, int rows, int cols, int heads) {
        int d = rows / heads / 2;
        int[] inShape = {heads, 2, d, cols};
        float[] out = new float[w.length];
        int[] idx = new int[4];
        for (int flat = 0; flat < w.length; flat++) {
            // output array has shape (heads, d, 2, cols); decompose its flat index
            int rem = flat;
            int c = rem % cols; rem /= cols;
            int k = rem % 2; rem /= 2;
            int j = rem % d; rem /= d;
            int h = rem;
            idx[0] = h; idx[1] = k; idx[2] = j; idx[3] = c; // swapped back: out[h][j][k][c] = in[h][k][j][c]
            int src = ((idx[0] * inShape[1] + idx[1]) * inShape[2] + idx[2]) * inShape[3] + idx[3];
            out[flat] = w[src];
        }
        return out;
    }

    private static Set<String> expectedNames(HfFixtures.Spec s, boolean ropeFreqs) {
        Set<String> n = new LinkedHashSet<>();
        if (ropeFreqs) n.add("rope_freqs.weight");
        n.add("token_embd.weight");
        n.add("output_norm.weight");
        if (!s.tiedEmbeddings()) n.add("output.weight");
        for (int l = 0; l < s.layers(); l++) {
            for (String t : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")) {
                n.add("blk." + l + "." + t + ".weight");
            }
            if (s.architecture().startsWith("Qwen2")) {
                for (String t : List.of("attn_q", "attn_k", "attn_v")) n.add("blk." + l + "." + t + ".bias");
            }
        }
        return n;
    }

    /** The HF tensor (values after permutation for llama q/k) that a GGUF tensor must hold. */
    private static float[] expectedValues(HfFixtures.Spec s, HfFixtures.Written w, String gguf, boolean permute) {
        HfToGgufNames names = HfToGgufNames.forArchitecture(s.architecture());
        String hf = names.toHf(gguf);
        float[] v = w.weights().get(hf);
        long[] shape = w.shapes().get(hf);
        int rows = (int) shape[0], cols = shape.length > 1 ? (int) shape[1] : 1;
        if (permute && gguf.contains("attn_q.")) return numpyPermute(v, rows, cols, s.heads());
        if (permute && gguf.contains("attn_k.")) return numpyPermute(v, rows, cols, s.kvHeads());
        return v;
    }

    private static void assertValues(FloatTensor t, float[] expected, DoubleUnaryOperator round, String what) {
        assertThat(t.size()).as(what).isEqualTo(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) t.getFloat(i)).as(what + "[" + i + "]").isEqualTo(round.applyAsDouble(expected[i]));
        }
    }

    private static List<Object> list(GgufFile g, String key) {
        assertThat(g.metadata()).as(key).containsKey(key);
        return g.metadata().get(key).asList();
    }

    @Test
    void llamaToF16() {
        HfFixtures.Spec s = HfFixtures.llama();
        Path dir = tmp.resolve("Tiny-Llama-3");
        HfFixtures.Written w = HfFixtures.write(dir, s);
        Path out = tmp.resolve("tiny.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F16);

        try (GgufFile g = GgufFile.open(out)) {
            // metadata: values from config.json, keys as TextModel/LlamaModel.set_gguf_parameters write them
            assertThat(g.getString("general.architecture", null)).isEqualTo("llama");
            assertThat(g.getString("general.name", null)).isEqualTo("Tiny-Llama-3");
            assertThat(g.getLong("llama.block_count", -1)).isEqualTo(s.layers());
            assertThat(g.getLong("llama.context_length", -1)).isEqualTo(4096);
            assertThat(g.getLong("llama.embedding_length", -1)).isEqualTo(s.hidden());
            assertThat(g.getLong("llama.feed_forward_length", -1)).isEqualTo(s.ffn());
            assertThat(g.getLong("llama.attention.head_count", -1)).isEqualTo(s.heads());
            assertThat(g.getLong("llama.attention.head_count_kv", -1)).isEqualTo(s.kvHeads());
            assertThat(g.getFloat("llama.attention.layer_norm_rms_epsilon", -1)).isEqualTo(1e-5f);
            assertThat(g.getFloat("llama.rope.freq_base", -1)).isEqualTo(500000f);
            assertThat(g.getLong("llama.rope.dimension_count", -1)).isEqualTo(s.headDim());
            assertThat(g.getLong("llama.vocab_size", -1)).isEqualTo(w.vocabSize());
            assertThat(g.getLong("general.file_type", -1)).isEqualTo(1);   // MOSTLY_F16
            assertThat(g.getLong("general.quantization_version", -1)).isEqualTo(2);

            // tokenizer: byte-level BPE, Llama-3 pre-tokenizer
            assertThat(g.getString("tokenizer.ggml.model", null)).isEqualTo("gpt2");
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("llama-bpe");
            List<Object> tokens = list(g, "tokenizer.ggml.tokens");
            List<String> expectedTokens = new ArrayList<>(w.vocab());
            expectedTokens.add("[PAD" + w.vocab().size() + "]");
            assertThat(tokens).containsExactlyElementsOf(expectedTokens);
            List<Object> types = list(g, "tokenizer.ggml.token_type");
            int specials = 3, base = w.vocab().size() - specials;
            for (int i = 0; i < types.size(); i++) {
                int expected = i < base ? 1 : i < base + specials ? 3 : 5; // NORMAL, CONTROL, UNUSED
                assertThat(((Number) types.get(i)).intValue()).as("type of " + tokens.get(i)).isEqualTo(expected);
            }
            assertThat(list(g, "tokenizer.ggml.merges")).containsExactly("Ġ t", "h e", "Ġt he", "i n", "Ġ a");
            assertThat(g.getLong("tokenizer.ggml.bos_token_id", -1)).isEqualTo(w.vocab().indexOf("<|begin_of_text|>"));
            assertThat(g.getLong("tokenizer.ggml.eos_token_id", -1)).isEqualTo(w.vocab().indexOf("<|eot_id|>"));
            assertThat(g.getBoolean("tokenizer.ggml.add_bos_token", false)).isTrue(); // from TemplateProcessing
            assertThat(g.getString("tokenizer.chat_template", "")).contains("<|start_header_id|>");

            // tensors: names (rope_freqs first, as generate_extra_tensors comes first), shapes, types, values
            assertThat(g.tensorInfos().stream().map(GgufTensorInfo::name).toList())
                    .containsExactlyInAnyOrderElementsOf(expectedNames(s, true));
            assertThat(g.tensorInfos().get(0).name()).isEqualTo("rope_freqs.weight");
            for (GgufTensorInfo info : g.tensorInfos()) {
                String name = info.name();
                if (name.equals("rope_freqs.weight")) {
                    assertThat(info.type()).isEqualTo(GgmlType.F32);
                    assertThat(info.shape()).containsExactly(s.headDim() / 2);
                    continue;
                }
                String hf = HfToGgufNames.forArchitecture(s.architecture()).toHf(name);
                long[] hfShape = w.shapes().get(hf);
                assertThat(info.shape()).as(name).hasSize(hfShape.length);
                for (int i = 0; i < hfShape.length; i++) assertThat(info.shape()[i]).isEqualTo(hfShape[hfShape.length - 1 - i]);
                boolean f32 = hfShape.length == 1;
                assertThat(info.type()).as(name).isEqualTo(f32 ? GgmlType.F32 : GgmlType.F16);
                DoubleUnaryOperator round = f32 ? x -> (float) x : x -> HalfFloatReference.nearestF16((float) x);
                assertValues(g.tensor(name), expectedValues(s, w, name, true), round, name);
            }
            // the permutation really moved rows: q differs from the unpermuted HF order
            FloatTensor q = g.tensor("blk.0.attn_q.weight");
            float[] hfQ = w.weights().get("model.layers.0.self_attn.q_proj.weight");
            boolean differs = false;
            for (int i = 0; i < hfQ.length && !differs; i++) differs = q.getFloat(i) != (float) HalfFloatReference.nearestF16(hfQ[i]);
            assertThat(differs).isTrue();

            FloatTensor rf = g.tensor("rope_freqs.weight");
            float[] expected = HfRopeParameters.llama3Factors(HfCheckpoint.readJson(dir.resolve("config.json")));
            for (int i = 0; i < expected.length; i++) assertThat(rf.getFloat(i)).isEqualTo(expected[i]);
        }
    }

    @Test
    void qwen2Bf16StaysBf16WithBiasesAndNoPermutation() {
        HfFixtures.Spec s = HfFixtures.qwen2();
        Path dir = tmp.resolve("qwen");
        HfFixtures.Written w = HfFixtures.write(dir, s);
        Path out = tmp.resolve("qwen.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.BF16);
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getString("general.architecture", null)).isEqualTo("qwen2");
            assertThat(g.getLong("qwen2.block_count", -1)).isEqualTo(s.layers());
            assertThat(g.getLong("qwen2.embedding_length", -1)).isEqualTo(s.hidden());
            assertThat(g.getLong("qwen2.feed_forward_length", -1)).isEqualTo(s.ffn());
            assertThat(g.getLong("qwen2.attention.head_count_kv", -1)).isEqualTo(s.kvHeads());
            assertThat(g.getFloat("qwen2.rope.freq_base", -1)).isEqualTo(1000000f);
            assertThat(g.metadata()).doesNotContainKeys("qwen2.vocab_size", "qwen2.rope.dimension_count");
            assertThat(g.getLong("general.file_type", -1)).isEqualTo(32); // MOSTLY_BF16
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("qwen2");
            assertThat(g.getLong("tokenizer.ggml.bos_token_id", -1)).isEqualTo(w.vocab().indexOf("<|endoftext|>"));
            assertThat(g.getLong("tokenizer.ggml.eos_token_id", -1)).isEqualTo(w.vocab().indexOf("<|im_end|>"));
            assertThat(g.getLong("tokenizer.ggml.padding_token_id", -1)).isEqualTo(w.vocab().indexOf("<|endoftext|>"));
            assertThat(g.metadata()).doesNotContainKey("tokenizer.ggml.add_bos_token");
            assertThat(g.getString("tokenizer.chat_template", "")).contains("<|im_start|>");

            assertThat(g.tensorInfos().stream().map(GgufTensorInfo::name).toList())
                    .containsExactlyInAnyOrderElementsOf(expectedNames(s, false));
            for (GgufTensorInfo info : g.tensorInfos()) {
                String name = info.name();
                boolean f32 = info.shape().length == 1; // norms and biases
                assertThat(info.type()).as(name).isEqualTo(f32 ? GgmlType.F32 : GgmlType.BF16);
                // BF16 -> BF16 and BF16 -> F32 are exact; no permutation for qwen2
                assertValues(g.tensor(name), expectedValues(s, w, name, false), x -> (float) x, name);
            }
        }
    }

    @Test
    void llamaToQ8_0FallsBackWhereRowsAreNotBlocks() {
        HfFixtures.Spec s = HfFixtures.llama(); // ffn = 80: ffn_down rows are not a multiple of 32
        Path dir = tmp.resolve("llama");
        HfFixtures.Written w = HfFixtures.write(dir, s);
        Path out = tmp.resolve("q8.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.Q8_0);
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getLong("general.file_type", -1)).isEqualTo(7); // MOSTLY_Q8_0
            for (GgufTensorInfo info : g.tensorInfos()) {
                String name = info.name();
                GgmlType expectedType = info.shape().length == 1 ? GgmlType.F32
                        : info.shape()[0] % 32 != 0 ? GgmlType.F16 : GgmlType.Q8_0;
                assertThat(info.type()).as(name).isEqualTo(expectedType);
                if (expectedType != GgmlType.Q8_0) continue;
                // Q8_0 (ggml quantize_row_q8_0_ref): d = amax/127, q = round(x/d), stored scale fp16(d), so
                // |x - q*fp16(d)| <= d/2 + 127*|d - fp16(d)|
                float[] v = expectedValues(s, w, name, true);
                FloatTensor t = g.tensor(name);
                for (int b = 0; b < v.length; b += 32) {
                    float amax = 0;
                    for (int i = b; i < b + 32; i++) amax = Math.max(amax, Math.abs(v[i]));
                    double d = amax / 127.0;
                    double bound = d / 2 + 127 * Math.abs(d - HalfFloatReference.nearestF16((float) d)) + 1e-6;
                    for (int i = b; i < b + 32; i++) {
                        assertThat((double) t.getFloat(i)).as(name + "[" + i + "]").isCloseTo(v[i], within(bound));
                    }
                }
            }
            assertThat(g.tensorInfo("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F16);
            assertThat(g.tensorInfo("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.Q8_0);
        }
    }

    @Test
    void llama2SentencePieceVocabularyToF32() {
        HfFixtures.Spec s = new HfFixtures.Spec("LlamaForCausalLM", 64, 4, 4, 1, 64, "F16", false, false, "llama2", 3);
        Path dir = tmp.resolve("llama2");
        HfFixtures.Written w = HfFixtures.write(dir, s);
        Path out = tmp.resolve("l2.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F32);
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getString("tokenizer.ggml.model", null)).isEqualTo("llama");
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("default");
            assertThat(g.metadata()).doesNotContainKeys("tokenizer.ggml.merges", "rope_freqs.weight");
            List<Object> tokens = list(g, "tokenizer.ggml.tokens");
            List<Object> scores = list(g, "tokenizer.ggml.scores");
            List<Object> types = list(g, "tokenizer.ggml.token_type");
            assertThat(tokens).hasSize(w.vocabSize()).startsWith("<unk>", "<s>", "</s>", "<0x00>");
            assertThat(tokens.get(w.vocabSize() - 1)).isEqualTo("[PAD1]");
            Map<String, Integer> expectedType = Map.of("<unk>", 2, "<s>", 3, "</s>", 3, "<0x41>", 6, "▁the", 1, "e", 1, "[PAD1]", 5);
            expectedType.forEach((tok, type) ->
                    assertThat(((Number) types.get(tokens.indexOf(tok))).intValue()).as("type of " + tok).isEqualTo(type));
            // merges in tokenizer.json order: "▁t", "he", "▁the", "▁a" -> strictly decreasing scores, all above
            // the unmerged single characters, so SPM bigram merging follows the BPE merge order
            float[] merged = new float[4];
            String[] mergedTokens = {"▁t", "he", "▁the", "▁a"};
            for (int i = 0; i < 4; i++) merged[i] = ((Number) scores.get(tokens.indexOf(mergedTokens[i]))).floatValue();
            for (int i = 1; i < 4; i++) assertThat(merged[i]).isLessThan(merged[i - 1]);
            for (String single : List.of("▁", "t", "h", "e", "a")) {
                assertThat(((Number) scores.get(tokens.indexOf(single))).floatValue()).isLessThan(merged[3]);
            }
            assertThat(g.getLong("tokenizer.ggml.bos_token_id", -1)).isEqualTo(1);
            assertThat(g.getLong("tokenizer.ggml.eos_token_id", -1)).isEqualTo(2);
            assertThat(g.getLong("tokenizer.ggml.unknown_token_id", -1)).isEqualTo(0);
            assertThat(g.getBoolean("tokenizer.ggml.add_bos_token", false)).isTrue();
            assertThat(g.getBoolean("tokenizer.ggml.add_eos_token", true)).isFalse();
            assertThat(g.getString("tokenizer.chat_template", "")).contains("[INST]");
            assertThat(g.getLong("general.file_type", -1)).isEqualTo(0); // ALL_F32
            for (GgufTensorInfo info : g.tensorInfos()) {
                assertThat(info.type()).isEqualTo(GgmlType.F32);
                assertValues(g.tensor(info.name()), expectedValues(s, w, info.name(), true), x -> (float) x, info.name());
            }
        }
    }

    @Test
    void errorsNameTheFileAndProblem() throws IOException {
        Path dir = tmp.resolve("bad");
        HfFixtures.write(dir, HfFixtures.llama());
        Path out = tmp.resolve("bad.gguf");
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, out, GgmlType.Q4_0)).isInstanceOf(IllegalArgumentException.class);

        String tok = Files.readString(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), tok.replace("\\\\p{N}{1,3}", "\\\\p{N}{1,4}"));
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, out, GgmlType.F16))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("pre-tokenizer was not recognized");

        Files.delete(dir.resolve("tokenizer.json"));
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, out, GgmlType.F16))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("missing");
        assertThat(out).doesNotExist();
    }

    @Test
    void unmappedTensorIsAnError() throws IOException {
        Path dir = tmp.resolve("extra");
        HfFixtures.write(dir, HfFixtures.qwen2());
        // unindexed shards: the fixture's weights plus a second file with a tensor no table row maps
        Files.move(dir.resolve("model.safetensors"), dir.resolve("model-00001-of-00002.safetensors"));
        new ai.autoglm.core.format.safetensors.SafetensorsWriter()
                .add("model.layers.0.mystery.weight", new long[]{2}, "F32", new float[]{1, 2})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> HfToGgufConverter.convert(dir, tmp.resolve("x.gguf"), GgmlType.F16))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model-00002-of-00002.safetensors")
                .hasMessageContaining("can not map tensor 'model.layers.0.mystery.weight'");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }
}
