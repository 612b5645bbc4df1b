package ai.autoglm.train.qat;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.train.Parameter;
import ai.autoglm.train.TrainableTransformer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes a trained model as a quantized GGUF with the metadata of the GGUF it was loaded from (architecture keys,
 * tokenizer, chat template): every tensor of the source in its order, the model's parameters quantized with
 * {@link ai.autoglm.core.tensor.Quantizer} to the type the {@link TensorTypeRule} gives, tensors that are not
 * parameters (e.g. {@code rope_freqs.weight}) copied as they are. The names and layouts of
 * {@link TrainableTransformer}'s parameters are the GGUF ones, so nothing is renamed or permuted.
 */
public final class QuantizedGgufExport {
    private QuantizedGgufExport() {
    }

    /** Writes {@code out}; {@code fileType} is its {@code general.file_type} (llama_ftype, e.g. {@link ai.autoglm.core.quant.QuantPreset#fileType}). */
    public static void write(TrainableTransformer model, Path sourceGguf, TensorTypeRule rule, int fileType, Path out) {
        try (GgufFile src = GgufFile.open(sourceGguf)) {
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : src.metadata().entrySet()) w.put(e.getKey(), e.getValue());
            w.putUint32(GgufKeys.FILE_TYPE, fileType);
            for (GgufTensorInfo info : src.tensorInfos()) {
                Parameter p = model.parameters().get(info.name());
                if (p == null) {
                    w.addTensor(info.name(), info.shape(), info.type(), src.tensorData(info.name()));
                    continue;
                }
                if (!Arrays.equals(p.shape(), info.shape())) {
                    throw new ModelFormatException(sourceGguf, "tensor " + info.name() + " has shape " + Arrays.toString(info.shape())
                            + ", the model's parameter " + Arrays.toString(p.shape()));
                }
                w.addTensor(info.name(), info.shape(), p.value(), rule.typeOf(p.name(), p.shape()));
            }
            for (Parameter p : model.parameters().all()) {
                if (src.tensorInfo(p.name()) == null) throw new ModelFormatException(sourceGguf, "has no tensor " + p.name() + " to write the trained values under");
            }
            w.write(out);
        }
    }
}
