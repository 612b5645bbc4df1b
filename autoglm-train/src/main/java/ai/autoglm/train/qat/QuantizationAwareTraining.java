package ai.autoglm.train.qat;

import ai.autoglm.train.SplitMix64;
import ai.autoglm.train.TokenDataset;
import ai.autoglm.train.TrainableTransformer;
import ai.autoglm.train.TrainingOptions;
import ai.autoglm.train.distill.DistillationOptions;
import ai.autoglm.train.distill.Distiller;

import java.util.List;

/**
 * Quantization-aware fine-tuning of a trained model: a copy of it with {@link FakeQuantization} in its forward pass
 * (straight-through gradients to the F32 master weights) is trained towards the full-precision model's next-token
 * distributions, i.e. a {@link Distiller} whose teacher is the base model itself (the data-free recipe of LLM-QAT,
 * Liu et al. 2023, "LLM-QAT: Data-Free Quantization Aware Training for Large Language Models", section 2.2, with
 * the logit distillation loss, on given text here). With {@code alpha = 1} and {@code T = 1} the loss is exactly the
 * mean KL divergence of the quantized model from the base, the quantity llama.cpp's KLD measures; a smaller alpha
 * mixes in the cross-entropy on the text.
 */
public final class QuantizationAwareTraining {
    private QuantizationAwareTraining() {
    }

    /**
     * @param base    the full-precision model (not changed)
     * @param student a second copy of the same weights; it gets the fake quantization of {@code rule} and is trained
     */
    public static Distiller start(TrainableTransformer base, TrainableTransformer student, TensorTypeRule rule, TokenDataset data,
                                  TrainingOptions options, double temperature, double alpha) {
        student.setWeightTransform(new FakeQuantization(rule));
        return new Distiller(student, base, data, options, new DistillationOptions(temperature, alpha, List.of(), 0),
                new SplitMix64(options.seed()));
    }
}
