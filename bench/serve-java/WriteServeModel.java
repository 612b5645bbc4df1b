import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.BenchModels;
import ai.autoglm.core.testing.ModelFixtures;

import java.nio.file.Path;

/**
 * The serving benchmark's model: a random-weight Llama of about 124M parameters (GPT-2 small's width: dim 768,
 * 12 layers, 12 heads over 4 KV heads, ffn 2048, 32000-token vocabulary), written by core's BenchModels writer.
 * Usage: {@code java -cp <core test classes + libs> WriteServeModel.java q8_0 out.gguf}
 */
public class WriteServeModel {
    public static void main(String[] args) {
        GgmlType type = GgmlType.valueOf(args[0].toUpperCase());
        ModelFixtures.Spec spec = new ModelFixtures.Spec("llama", 768, 12, 12, 4, 2048, 2048, 1e-5f, 10000.0, false, false, null, 1);
        BenchModels.writeLlama(spec, type, Path.of(args[1]));
    }
}
