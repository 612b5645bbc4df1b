package ai.autoglm.compress.quant;

import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import static ai.autoglm.compress.quant.WeightTypeRule.typeFor;
import static org.assertj.core.api.Assertions.assertThat;

/** The cases of llama.cpp's llama_tensor_get_type (src/llama-quant.cpp) the rule keeps, one by one. */
class WeightTypeRuleTest {
    static final long[] MATRIX = {4096, 4096}, VECTOR = {4096};

    @Test
    void normsAndBiasesStayF32() {
        assertThat(typeFor("blk.0.attn_norm.weight", VECTOR, GgmlType.Q4_0, true)).isEqualTo(GgmlType.F32);
        assertThat(typeFor("blk.0.attn_q.bias", VECTOR, GgmlType.Q8_0, true)).isEqualTo(GgmlType.F32);
    }

    @Test
    void outputGetsQ6_KExceptForQ8_0AndUnquantizedTargets() {
        assertThat(typeFor("output.weight", MATRIX, GgmlType.Q4_0, true)).isEqualTo(GgmlType.Q6_K);
        assertThat(typeFor("output.weight", MATRIX, GgmlType.Q4_K, true)).isEqualTo(GgmlType.Q6_K);
        assertThat(typeFor("output.weight", MATRIX, GgmlType.Q8_0, true)).isEqualTo(GgmlType.Q8_0);
        assertThat(typeFor("output.weight", MATRIX, GgmlType.F16, true)).isEqualTo(GgmlType.F16);
        assertThat(typeFor("output.weight", new long[]{64, 1000}, GgmlType.Q4_0, true)).isEqualTo(GgmlType.Q8_0);
    }

    @Test
    void tiedEmbeddingsAreTheOutputUntiedKeepTheTarget() {
        assertThat(typeFor("token_embd.weight", MATRIX, GgmlType.Q4_0, false)).isEqualTo(GgmlType.Q6_K);
        assertThat(typeFor("token_embd.weight", MATRIX, GgmlType.Q4_0, true)).isEqualTo(GgmlType.Q4_0);
    }

    @Test
    void kQuantsFallBackOnRowsThatAreNotWholeBlocks() {
        assertThat(typeFor("blk.0.ffn_down.weight", new long[]{704, 256}, GgmlType.Q4_K, true)).isEqualTo(GgmlType.Q5_0);
        assertThat(typeFor("blk.0.ffn_down.weight", new long[]{700, 256}, GgmlType.Q4_K, true)).isEqualTo(GgmlType.F16);
        assertThat(typeFor("blk.0.ffn_up.weight", new long[]{256, 704}, GgmlType.Q4_K, true)).isEqualTo(GgmlType.Q4_K);
        assertThat(typeFor("blk.0.ffn_up.weight", new long[]{100, 704}, GgmlType.Q4_0, true)).isEqualTo(GgmlType.F16);
    }
}
