package ai.autoglm.train;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Starts training from an existing model (fine-tuning, distillation students, quantization-aware training): the
 * model file or directory is opened by core's {@link ModelLoader} and every tensor, whatever its GGML type, is
 * dequantized into the F32 parameter of the same GGUF name. The inference engine and {@link TrainableTransformer}
 * share names and layouts (GGUF order, llama.cpp's rotary pairing), so no renaming is needed.
 */
public final class PretrainedWeights {
    private PretrainedWeights() {
    }

    /** The model at {@code path} (GGUF file or Hugging Face directory) as a trainable F32 model. */
    public static TrainableTransformer load(Path path) {
        try (LanguageModel loaded = ModelLoader.load(path)) {
            if (!(loaded instanceof TransformerModel tm)) throw new ModelFormatException(path, "not a decoder model");
            return from(tm.config(), tm.weights(), path);
        }
    }

    /** Copies {@code weights} into a new trainable model of {@code config}; every parameter must be present with its shape. */
    public static TrainableTransformer from(ModelConfig config, WeightSource weights, Path origin) {
        boolean fused = weights.tensor(TensorRole.ATTN_QKV.tensorName(0)) != null;
        TrainableTransformer model = new TrainableTransformer(config, fused);
        if (config.tiedEmbeddings() && weights.tensor(TensorRole.OUTPUT.tensorName()) != null) {
            throw new ModelFormatException(origin, "the configuration ties the output to the embedding but the file has its own output.weight");
        }
        for (Parameter p : model.parameters().all()) {
            FloatTensor t = weights.tensor(p.name());
            if (t == null) throw new ModelFormatException(origin, "missing tensor " + p.name());
            long[] shape = weights.shape(p.name());
            if (!Arrays.equals(shape, p.shape())) {
                throw new ModelFormatException(origin, "tensor " + p.name() + " has shape " + Arrays.toString(shape)
                        + ", the configuration needs " + Arrays.toString(p.shape()));
            }
            t.copyTo(0, p.value(), 0, p.size());
        }
        return model;
    }
}
