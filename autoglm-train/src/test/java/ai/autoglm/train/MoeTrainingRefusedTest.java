package ai.autoglm.train;

import ai.autoglm.core.model.Architecture;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.MoeConfig;
import ai.autoglm.core.model.RopeStyle;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The trainable model has backward passes for the dense block only: a mixture-of-experts config and Qwen3's per-head
 * q/k norms are refused with one clear error rather than trained with missing gradients.
 */
class MoeTrainingRefusedTest {
    @Test
    void mixtureOfExpertsAndQkNormConfigsAreRefused() {
        MoeConfig moe = new MoeConfig(8, 2, 32, 0, 0, MoeConfig.Gating.SOFTMAX, true, 1.0, 1, 1, 0);
        ModelConfig qwen3moe = new ModelConfig(Architecture.QWEN3MOE, 64, 2, 4, 2, 16, 96, 300, 64, 1e-6f, 1e6, RopeStyle.NEOX, 16,
                null, false, false, true, moe);
        assertThatThrownBy(() -> new TrainableTransformer(qwen3moe))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("mixture-of-experts");
        ModelConfig qwen3 = new ModelConfig(Architecture.QWEN3, 64, 2, 4, 2, 16, 96, 300, 64, 1e-6f, 1e6, RopeStyle.NEOX, 16,
                null, false, false);
        assertThatThrownBy(() -> new TrainableTransformer(qwen3))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("q/k norms");
    }
}
