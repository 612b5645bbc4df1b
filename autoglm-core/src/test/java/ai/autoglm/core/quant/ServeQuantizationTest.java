package ai.autoglm.core.quant;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code serve --quantize}'s decision on the bundled F16 model, with budgets set around each candidate's estimate. */
class ServeQuantizationTest {
    static final Path DEFAULT_MODEL = Path.of("..", "models", "default", "model.gguf");
    static ModelConfig config;
    static List<TensorSpec> stored;

    @BeforeAll
    static void read() {
        try (LanguageModel m = ModelLoader.load(DEFAULT_MODEL)) {
            config = m.config();
            stored = TensorSpec.of(((TransformerModel) m).weights());
        }
    }

    /** The serving estimate of {@code t} computed here from the rule and the memory model, 4 slots x 256 positions. */
    static long need(GgmlType t) {
        return MemoryModel.forServing(config, WeightTypeRule.apply(config, stored, t), 256, 4).totalBytes();
    }

    static ServeQuantization.Decision auto(long budgetBytes) {
        return ServeQuantization.decide("auto", config, stored, 256, 4, () -> new MemoryBudget(budgetBytes, "test"));
    }

    @Test
    void autoTakesTheBestTypeThatFits() {
        assertThat(need(GgmlType.F16)).isGreaterThan(need(GgmlType.Q8_0));
        assertThat(need(GgmlType.Q8_0)).isGreaterThan(need(GgmlType.Q4_K));
        assertThat(need(GgmlType.Q4_K)).isGreaterThan(need(GgmlType.Q4_0));
        ServeQuantization.Decision f16 = auto(need(GgmlType.F16));
        assertThat(f16.type()).as("the bundled model is F16 already: nothing to convert").isNull();
        assertThat(f16.reason()).contains("auto chose f16", "already f16");
        assertThat(auto(need(GgmlType.F16) - 1).type()).isEqualTo(GgmlType.Q8_0);
        assertThat(auto(need(GgmlType.Q8_0) - 1).type()).isEqualTo(GgmlType.Q4_K);
        ServeQuantization.Decision d = auto(need(GgmlType.Q4_K) - 1);
        assertThat(d.type()).isEqualTo(GgmlType.Q4_0);
        assertThat(d.candidates()).hasSize(4);
        assertThat(d.reason()).contains("q4_0", "f16", "too large", "fits");
    }

    @Test
    void nothingFittingIsAClearError() {
        assertThatThrownBy(() -> auto(need(GgmlType.Q4_0) - 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no quantization fits the memory budget")
                .hasMessageContaining("q4_0");
    }

    @Test
    void anExplicitTypeIsTakenAsGiven() {
        ServeQuantization.Decision d = ServeQuantization.decide("Q8_0", config, stored, 256, 1, () -> {
            throw new AssertionError("no budget needed");
        });
        assertThat(d.type()).isEqualTo(GgmlType.Q8_0);
        assertThatThrownBy(() -> ServeQuantization.parseOption("q3_k", "--quantize")).hasMessageContaining("--quantize must be one of");
    }

    @Test
    void alreadyQuantizedWeightsAreServedAsStored(@TempDir Path dir) {
        Path q8 = ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("q8.gguf"), GgmlType.Q8_0);
        ServeQuantization.Decision d = ServeQuantization.decide("auto", q8, null, 1, () -> new MemoryBudget(1, "tiny"));
        assertThat(d.type()).isNull();
        assertThat(d.reason()).contains("already quantized", "Q8_0");
    }
}
