package ai.autoglm.core.quant;

import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static ai.autoglm.core.tensor.GgmlType.F16;
import static ai.autoglm.core.tensor.GgmlType.F32;
import static ai.autoglm.core.tensor.GgmlType.Q4_0;
import static ai.autoglm.core.tensor.GgmlType.Q4_1;
import static ai.autoglm.core.tensor.GgmlType.Q4_K;
import static ai.autoglm.core.tensor.GgmlType.Q5_0;
import static ai.autoglm.core.tensor.GgmlType.Q5_1;
import static ai.autoglm.core.tensor.GgmlType.Q5_K;
import static ai.autoglm.core.tensor.GgmlType.Q6_K;
import static ai.autoglm.core.tensor.GgmlType.Q8_0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The planner's types against llama.cpp's rules written out by hand from src/llama-quant.cpp (the expected tables below
 * are worked out from the C code, not from our planner).
 */
class QuantizationPlannerTest {

    /** A llama-shaped model: {@code layers} blocks of width {@code dim}, ffn {@code 2*dim}, optional output head. */
    static ModelShape llama(int layers, int dim, boolean tied, GgmlType stored) {
        List<TensorDescriptor> t = new ArrayList<>();
        t.add(new TensorDescriptor("token_embd.weight", new long[]{dim, 300}, stored));
        t.add(new TensorDescriptor("output_norm.weight", new long[]{dim}, F32));
        if (!tied) t.add(new TensorDescriptor("output.weight", new long[]{dim, 300}, stored));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            t.add(new TensorDescriptor(p + "attn_norm.weight", new long[]{dim}, F32));
            for (String m : List.of("attn_q", "attn_k", "attn_v", "attn_output")) t.add(new TensorDescriptor(p + m + ".weight", new long[]{dim, dim}, stored));
            t.add(new TensorDescriptor(p + "attn_q.bias", new long[]{dim}, F32));
            t.add(new TensorDescriptor(p + "ffn_norm.weight", new long[]{dim}, F32));
            t.add(new TensorDescriptor(p + "ffn_gate.weight", new long[]{dim, 2L * dim}, stored));
            t.add(new TensorDescriptor(p + "ffn_up.weight", new long[]{dim, 2L * dim}, stored));
            t.add(new TensorDescriptor(p + "ffn_down.weight", new long[]{2L * dim, dim}, stored));
        }
        return new ModelShape("llama", layers, 8, 8, t);
    }

    static QuantizationPlan plan(ModelShape m, QuantPreset p, boolean imatrix, TensorTypeOverride... overrides) {
        return QuantizationPlanner.plan(m, new QuantizationOptions(p, List.of(overrides), imatrix));
    }

    static GgmlType type(QuantizationPlan plan, String name) {
        return plan.find(name).targetType();
    }

    /** use_more_bits for 16 layers: i < 2, i >= 14, or (i - 2) % 3 == 2, i.e. 0, 1, 4, 7, 10, 13, 14, 15. */
    static final Set<Integer> MORE_BITS_16 = Set.of(0, 1, 4, 7, 10, 13, 14, 15);

    @Test
    void q4KMGivesSixBitsToTheOutputAndToAttnVAndFfnDownInTheUseMoreBitsLayers() {
        QuantizationPlan p = plan(llama(16, 256, false, F16), QuantPreset.Q4_K_M, false);
        assertThat(type(p, "output.weight")).isEqualTo(Q6_K);
        assertThat(type(p, "token_embd.weight")).isEqualTo(Q4_K);
        assertThat(type(p, "output_norm.weight")).isEqualTo(F32);
        for (int l = 0; l < 16; l++) {
            GgmlType more = MORE_BITS_16.contains(l) ? Q6_K : Q4_K;
            assertThat(type(p, "blk." + l + ".attn_v.weight")).as("attn_v %d", l).isEqualTo(more);
            assertThat(type(p, "blk." + l + ".ffn_down.weight")).as("ffn_down %d", l).isEqualTo(more);
            for (String m : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) {
                assertThat(type(p, "blk." + l + "." + m + ".weight")).as(m + " " + l).isEqualTo(Q4_K);
            }
            assertThat(type(p, "blk." + l + ".attn_norm.weight")).isEqualTo(F32);
            assertThat(type(p, "blk." + l + ".attn_q.bias")).isEqualTo(F32);
        }
        assertThat(p.find("blk.4.attn_v.weight").reason()).contains("q6_k");
        assertThat(p.find("output_norm.weight").reason()).contains("1-D");
    }

    /** Preset, tensor, expected type: a 16-layer, 256-wide untied model, no imatrix. */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
            "Q4_K_S, blk.3.attn_v.weight, Q5_K",   // first 4 attn_v
            "Q4_K_S, blk.4.attn_v.weight, Q4_K",
            "Q4_K_S, blk.1.ffn_down.weight, Q5_K", // first n/8 = 2 ffn_down
            "Q4_K_S, blk.2.ffn_down.weight, Q4_K",
            "Q5_K_M, blk.13.attn_v.weight, Q6_K",
            "Q5_K_M, blk.12.attn_v.weight, Q5_K",
            "Q5_K_M, blk.15.ffn_down.weight, Q6_K",
            "Q5_K_S, blk.0.attn_v.weight, Q5_K",
            "Q5_K_S, output.weight, Q6_K",
            "Q6_K, output.weight, Q6_K",
            "Q6_K, blk.0.ffn_down.weight, Q6_K",
            "Q8_0, output.weight, Q8_0",           // output keeps Q8_0 when that is the preset
            "Q8_0, token_embd.weight, Q8_0",
            "Q4_0, output.weight, Q6_K",
            "Q4_0, blk.0.ffn_down.weight, Q4_0",   // the Q4_1 guard needs an imatrix
            "Q4_1, blk.0.ffn_down.weight, Q4_1",
            "Q5_0, blk.0.attn_v.weight, Q5_0",
            "Q5_1, output.weight, Q6_K",
    })
    void mixRules(QuantPreset preset, String tensor, GgmlType expected) {
        assertThat(type(plan(llama(16, 256, false, F32), preset, false), tensor)).isEqualTo(expected);
    }

    @Test
    void withAnImatrixQ4_0AndQ5_0GuardTheFirstEighthOfFfnDown() {
        for (QuantPreset p : List.of(QuantPreset.Q4_0, QuantPreset.Q5_0)) {
            QuantizationPlan plan = plan(llama(16, 256, false, F32), p, true);
            GgmlType one = p == QuantPreset.Q4_0 ? Q4_1 : Q5_1;
            assertThat(type(plan, "blk.0.ffn_down.weight")).isEqualTo(one);
            assertThat(type(plan, "blk.1.ffn_down.weight")).isEqualTo(one);
            assertThat(type(plan, "blk.2.ffn_down.weight")).isEqualTo(p.defaultType);
        }
    }

    @Test
    void tiedTokenEmbeddingsAreTreatedAsTheOutputHead() {
        assertThat(type(plan(llama(4, 256, true, F32), QuantPreset.Q4_K_M, false), "token_embd.weight")).isEqualTo(Q6_K);
        assertThat(type(plan(llama(4, 256, true, F32), QuantPreset.Q4_0, false), "token_embd.weight")).isEqualTo(Q6_K);
        assertThat(type(plan(llama(4, 256, true, F32), QuantPreset.Q8_0, false), "token_embd.weight")).isEqualTo(Q8_0);
    }

    @ParameterizedTest(name = "width {1}: {0} -> {2}")
    @CsvSource({
            "Q4_K_M, 96, Q5_0",  // Q4_K -> Q5_0
            "Q5_K_S, 96, Q5_1",  // Q5_K -> Q5_1
            "Q6_K, 96, Q8_0",    // Q6_K -> Q8_0
            "Q4_K_M, 48, F16",   // not even whole blocks of 32: F16
            "Q4_0, 48, F16",
    })
    void rowsThatAreNotWholeBlocksFallBack(QuantPreset preset, int width, GgmlType expected) {
        QuantizationPlan p = plan(llama(4, width, false, F32), preset, false);
        assertThat(type(p, "blk.2.attn_q.weight")).isEqualTo(expected);
        assertThat(p.find("blk.2.attn_q.weight").reason()).contains("fall-back");
    }

    @Test
    void theOutputHeadOfANarrowModelIsQ8_0() {
        // nx % blck_size(Q4_K) != 0 -> Q8_0 in the output rule itself
        assertThat(type(plan(llama(4, 96, false, F32), QuantPreset.Q4_K_M, false), "output.weight")).isEqualTo(Q8_0);
        // Q4_0: 64 % 32 == 0 -> Q6_K, then 64 % 256 != 0 -> Q8_0 by the fall-back
        assertThat(type(plan(llama(4, 64, false, F32), QuantPreset.Q4_0, false), "output.weight")).isEqualTo(Q8_0);
    }

    @Test
    void fusedQkvCountsAsAttnV() {
        List<TensorDescriptor> t = new ArrayList<>();
        for (int l = 0; l < 8; l++) {
            t.add(new TensorDescriptor("blk." + l + ".attn_qkv.weight", new long[]{256, 768}, F32));
            t.add(new TensorDescriptor("blk." + l + ".ffn_down.weight", new long[]{512, 256}, F32));
        }
        QuantizationPlan p = QuantizationPlanner.plan(new ModelShape("chatglm", 8, 2, 2, t), QuantizationOptions.of(QuantPreset.Q4_K_M));
        // 8 layers: use_more_bits = i < 1 || i >= 7 || (i - 1) % 3 == 2 -> 0, 3, 6, 7
        for (int l = 0; l < 8; l++) {
            GgmlType more = Set.of(0, 3, 6, 7).contains(l) ? Q6_K : Q4_K;
            assertThat(type(p, "blk." + l + ".attn_qkv.weight")).as("qkv %d", l).isEqualTo(more);
        }
    }

    @Test
    void a70BLlamaGivesAttnVFiveBits() {
        ModelShape base = llama(80, 256, false, F32);
        ModelShape gqa = new ModelShape("llama", 80, 64, 8, base.tensors());
        QuantizationPlan p = plan(gqa, QuantPreset.Q4_K_M, false);
        assertThat(type(p, "blk.20.attn_v.weight")).isEqualTo(Q5_K); // not a more-bits layer: Q4_K -> Q5_K
        assertThat(type(p, "blk.0.attn_v.weight")).isEqualTo(Q6_K);
        assertThat(type(plan(base, QuantPreset.Q4_K_M, false), "blk.20.attn_v.weight")).isEqualTo(Q4_K);
    }

    @Test
    void tensorsComeInLlamaCppOrder() {
        QuantizationPlan p = plan(llama(11, 256, false, F32), QuantPreset.Q8_0, false);
        List<String> names = p.tensors().stream().map(PlannedTensor::name).toList();
        assertThat(names.subList(0, 3)).containsExactly("output.weight", "output_norm.weight", "token_embd.weight");
        assertThat(names.indexOf("blk.10.attn_k.weight")).isGreaterThan(names.indexOf("blk.9.ffn_up.weight"));
        assertThat(names.get(3)).isEqualTo("blk.0.attn_k.weight");
    }

    @Test
    void overridesWinByFirstMatchAndSkipTheMixRulesAndTheirCounters() {
        ModelShape m = llama(16, 256, false, F32);
        QuantizationPlan p = plan(m, QuantPreset.Q4_K_M, false,
                TensorTypeOverride.parse("blk\\.0\\.attn_v=q8_0"), TensorTypeOverride.parse("attn_(q|k)=q5_k"),
                TensorTypeOverride.parse("attn_q=f16"));
        assertThat(type(p, "blk.0.attn_v.weight")).isEqualTo(Q8_0);
        assertThat(p.find("blk.0.attn_v.weight").reason()).contains("--tensor-type");
        assertThat(type(p, "blk.7.attn_q.weight")).isEqualTo(Q5_K); // the first matching override, not attn_q=f16
        assertThat(type(p, "blk.7.attn_k.weight")).isEqualTo(Q5_K);
        // llama.cpp advances the attn_v counter only in the mix rules: with layer 0 overridden, layer l is the
        // (l-1)-th attn_v the rules see, so the six-bit layers shift by one (1,2,5,8,11,14,15 of 0..15).
        for (int l = 1; l < 16; l++) {
            GgmlType more = MORE_BITS_16.contains(l - 1) ? Q6_K : Q4_K;
            assertThat(type(p, "blk." + l + ".attn_v.weight")).as("attn_v %d", l).isEqualTo(more);
        }
        // an override to a K type on rows that are not whole super-blocks still falls back
        QuantizationPlan narrow = plan(llama(2, 96, false, F32), QuantPreset.Q8_0, false, TensorTypeOverride.parse("ffn_up=q6_k"));
        assertThat(type(narrow, "blk.1.ffn_up.weight")).isEqualTo(Q8_0);
    }

    @Test
    void overrideParsingNamesTheProblem() {
        assertThatThrownBy(() -> TensorTypeOverride.parse("attn_(v=q4_0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad regular expression");
        assertThatThrownBy(() -> TensorTypeOverride.parse("attn_v=q3_x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown type 'q3_x'");
        assertThatThrownBy(() -> TensorTypeOverride.parse("attn_v")).hasMessageContaining("REGEX=TYPE");
        assertThatThrownBy(() -> TensorTypeOverride.parse("attn_v=")).hasMessageContaining("REGEX=TYPE");
        assertThatThrownBy(() -> TensorTypeOverride.parse("=q4_0")).hasMessageContaining("REGEX=TYPE");
        assertThatThrownBy(() -> TensorTypeOverride.parse("attn_v=q2_k")).hasMessageContaining("cannot write");
        assertThat(TensorTypeOverride.parse("a=b=Q4_K").pattern().pattern()).isEqualTo("a=b");
        assertThat(TensorTypeOverride.parse("x=BF16").type()).isEqualTo(GgmlType.BF16);
    }

    @Test
    void presetNames() {
        assertThat(QuantPreset.parse("q4_k")).isEqualTo(QuantPreset.Q4_K_M);
        assertThat(QuantPreset.parse("Q5_K")).isEqualTo(QuantPreset.Q5_K_M);
        assertThat(QuantPreset.parse("q8_0").fileType).isEqualTo(7);
        assertThat(QuantPreset.parse("q4_k_s").fileType).isEqualTo(14);
        assertThatThrownBy(() -> QuantPreset.parse("q3_k")).hasMessageContaining("--type");
    }

    @Test
    void alreadyQuantizedTensorsAreNotRequantized() {
        ModelShape m = llama(2, 256, false, Q8_0);
        assertThat(type(plan(m, QuantPreset.Q8_0, false), "blk.0.attn_q.weight")).isEqualTo(Q8_0);
        assertThatThrownBy(() -> plan(m, QuantPreset.Q4_K_M, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requantizing");
    }

    @Test
    void patternIsASearchNotAFullMatch() {
        TensorTypeOverride o = new TensorTypeOverride(Pattern.compile("ffn"), Q5_0);
        assertThat(o.matches("blk.3.ffn_down.weight")).isTrue();
        assertThat(o.matches("blk.3.attn_q.weight")).isFalse();
    }
}
