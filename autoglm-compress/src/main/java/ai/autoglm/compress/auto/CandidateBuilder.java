package ai.autoglm.compress.auto;

import ai.autoglm.compress.GgufModel;
import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.compress.prune.StructuredPlan;
import ai.autoglm.compress.prune.StructuredPruning;
import ai.autoglm.core.quant.ModelQuantizer;
import ai.autoglm.core.quant.ModelShape;
import ai.autoglm.core.quant.QuantPreset;
import ai.autoglm.core.quant.QuantizationOptions;
import ai.autoglm.core.quant.QuantizationPlan;
import ai.autoglm.core.quant.QuantizationPlanner;
import ai.autoglm.core.quant.QuantizedModel;
import ai.autoglm.core.quant.TensorTypeOverride;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.tensor.GgmlType;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Really builds a candidate as a GGUF file, with the same code the separate commands run: structured MLP pruning
 * ({@link StructuredPruning}, channels ranked by activation-weighted importance on the calibration text, as
 * {@code autoglm prune --ffn-keep}), then quantization ({@link QuantizationPlanner} with one {@code --tensor-type}
 * override per group, carried out by {@link ModelQuantizer}, as {@code autoglm quantize}). Pruning first, so the
 * quantizer sees the final shapes and its block fall-backs apply to them.
 */
public final class CandidateBuilder {
    private final GgufModel base;
    private final ActivationStatistics calibration;
    private final int ffnDim;

    /** @param calibration activation statistics of {@code base} on the calibration text (for pruning importance) */
    public CandidateBuilder(GgufModel base, ActivationStatistics calibration) {
        this.base = base;
        this.calibration = calibration;
        this.ffnDim = base.config().ffnDim();
        for (String name : base.weights().names()) {
            GgmlType t = base.weights().tensor(name).type();
            if (t.blockSize > 1) {
                throw new IllegalArgumentException("compress needs an F32, F16 or BF16 model (rounding already-quantized weights again "
                        + "only adds error); tensor " + name + " is " + t);
            }
        }
    }

    /** Writes the model {@code recipe} describes to {@code out} (atomically); spool files go to {@code workDir}. */
    public QuantizationPlan build(CompressionRecipe recipe, Path out, Path workDir) {
        GgufModel model = recipe.ffnChannels() == ffnDim ? base
                : StructuredPruning.prune(base, StructuredPlan.none().withFfnKeep((double) recipe.ffnChannels() / ffnDim), calibration);
        QuantizationPlan plan = QuantizationPlanner.plan(ModelShape.of(model.metadata(), model.weights()), options(recipe));
        try (QuantizedModel q = ModelQuantizer.quantize(model.metadata(), model.weights(), plan, null, workDir, null)) {
            // llama_ftype of the MLP type, the bulk of the weights ("mostly X" as llama.cpp names mixes); 1 = MOSTLY_F16.
            q.writer().put(GgufKeys.FILE_TYPE, GgufValue.uint32(recipe.ffnType() == GgmlType.F16 ? 1 : preset(recipe.ffnType()).fileType));
            q.write(out);
        }
        return plan;
    }

    /** One override per group, anchored so each matches only its own tensors. */
    static QuantizationOptions options(CompressionRecipe r) {
        return new QuantizationOptions(preset(r.ffnType()), List.of(
                override(CompressionSpace.ATTN, r.attnType()),
                override(CompressionSpace.FFN, r.ffnType()),
                override(CompressionSpace.EMBD, r.embdType())), false);
    }

    private static TensorTypeOverride override(Pattern group, GgmlType type) {
        return new TensorTypeOverride(Pattern.compile("^" + group.pattern() + "$"), type);
    }

    /** The preset whose default type is {@code t} (Q8_0 for F16: no llama.cpp quantization preset keeps F16). */
    static QuantPreset preset(GgmlType t) {
        return switch (t) {
            case Q4_0 -> QuantPreset.Q4_0;
            case Q4_K -> QuantPreset.Q4_K_M;
            case Q5_K -> QuantPreset.Q5_K_M;
            case Q6_K -> QuantPreset.Q6_K;
            default -> QuantPreset.Q8_0;
        };
    }
}
