package ai.autoglm.core.model;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.model.HfRopeParameters;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tensor.FloatTensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class HfWeightSourceTest {

    @TempDir
    Path dir;

    @Test
    void llamaUnderGgufNamesReversedShapesNoPermutation() {
        HfFixtures.Spec spec = HfFixtures.llama();
        HfFixtures.Written w = HfFixtures.write(dir, spec);
        HfToGgufNames names = HfToGgufNames.forArchitecture("LlamaForCausalLM");
        try (HfWeightSource src = HfWeightSource.open(dir)) {
            // every HF tensor but the rotary buffer is present under its GGUF name, plus the computed rope_freqs
            assertThat(src.names()).hasSize(w.weights().size() - 1 + 1).contains("rope_freqs.weight", "output.weight");
            for (Map.Entry<String, float[]> e : w.weights().entrySet()) {
                String gguf = names.toGguf(e.getKey());
                if (gguf == null) continue;
                long[] hf = w.shapes().get(e.getKey());
                long[] g = src.shape(gguf);
                assertThat(g).hasSize(hf.length);
                for (int i = 0; i < hf.length; i++) assertThat(g[i]).isEqualTo(hf[hf.length - 1 - i]);
                FloatTensor t = src.tensor(gguf);
                float[] v = e.getValue();
                assertThat(t.size()).isEqualTo(v.length);
                for (int i = 0; i < v.length; i++) assertThat(t.getFloat(i)).isEqualTo(v[i]); // same order: not permuted
            }
            assertThat(src.tensor("blk.9.attn_q.weight")).isNull();
            assertThat(src.shape("rope_freqs.weight")).containsExactly(spec.headDim() / 2);
        }
    }

    @Test
    void tiedQwen2HasNoOutputTensorAndNoRopeFreqs() {
        HfFixtures.write(dir, HfFixtures.qwen2());
        try (HfWeightSource src = HfWeightSource.open(dir)) {
            assertThat(src.names()).doesNotContain("output.weight", "rope_freqs.weight").contains("blk.1.attn_q.bias");
        }
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        HfFixtures.write(dir, HfFixtures.llama());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"MambaForCausalLM\"]}");
        assertThatThrownBy(() -> HfWeightSource.open(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("unsupported architecture MambaForCausalLM");
    }

    /** transformers modeling_rope_utils._compute_llama3_parameters, written out in double precision. */
    @Test
    void llama3RopeFactorsMatchTransformersFormula() throws IOException {
        var config = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"hidden_size": 4096, "num_attention_heads": 32, "rope_theta": 500000.0,
                 "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"}}""");
        float[] f = HfRopeParameters.llama3Factors(config);
        assertThat(f).hasSize(64);
        int smoothCount = 0;
        for (int i = 0; i < 64; i++) {
            double invFreq = 1.0 / Math.pow(500000.0, (2.0 * i) / 128);
            double wavelen = 2 * Math.PI / invFreq;
            double expected;
            if (wavelen < 8192 / 4.0) expected = 1;
            else if (wavelen > 8192 / 1.0) expected = 8;
            else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                // transformers scales inv_freq by ((1 - smooth) / factor + smooth); llama.cpp stores the reciprocal
                expected = 1 / ((1 - smooth) / 8 + smooth);
                smoothCount++;
            }
            assertThat((double) f[i]).as("factor " + i).isCloseTo(expected, within(1e-4 * expected));
        }
        assertThat(smoothCount).isPositive();
        assertThat(HfRopeParameters.llama3Factors(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{}"))).isNull();
    }
}
