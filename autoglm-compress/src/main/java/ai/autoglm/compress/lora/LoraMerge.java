package ai.autoglm.compress.lora;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.LoraTargets;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.LoraUpdate;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.core.tensor.GgmlType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Merges a PEFT LoRA adapter into a GGUF model: every adapted weight becomes {@code W + scale * B A} (peft
 * {@code LoraLayer.merge} / {@code get_delta_weight}), written at the base tensor's type when that is F32, F16 or BF16;
 * a quantized base tensor is written as F16 (re-quantizing would add a second rounding on top of the first; quantize
 * the merged file afterwards if it must be small). Every other tensor and all metadata are copied byte for byte.
 * The output is written atomically.
 */
public final class LoraMerge {
    private LoraMerge() {
    }

    /** What was merged: the tensors changed, and those written at a different type than the base's. */
    public record Result(List<String> merged, List<String> widened) {
    }

    public static Result merge(Path model, Path adapterDir, Path out) {
        if (Files.isDirectory(model)) {
            throw new ModelFormatException(model, "lora merge needs a GGUF base model; convert the Hugging Face directory first (autoglm convert)");
        }
        PeftAdapter adapter = PeftAdapter.read(adapterDir);
        try (GgufFile gguf = GgufFile.open(model)) {
            GgufWeightSource weights = new GgufWeightSource(gguf);
            ModelConfig config = ModelConfig.fromGguf(model, gguf.metadata(), weights);
            Map<String, List<LoraUpdate>> updates = LoraTargets.resolve(adapter, config, weights, adapterDir);
            if (updates.containsKey(TensorRole.OUTPUT.tensorName()) && gguf.tensorInfo(TensorRole.OUTPUT.tensorName()) == null) {
                throw new ModelFormatException(adapterDir, "the adapter changes the output projection, which this model ties to the "
                        + "token embedding: merging would change the embedding too (apply it at load time with --lora instead)");
            }
            GgufWriter w = new GgufWriter();
            gguf.metadata().forEach(w::put);
            List<String> merged = new ArrayList<>(), widened = new ArrayList<>();
            for (GgufTensorInfo info : gguf.tensorInfos()) {
                List<LoraUpdate> us = updates.get(info.name());
                if (us == null) {
                    w.addTensor(info.name(), info.shape(), info.type(), gguf.tensorData(info.name()));
                    continue;
                }
                long[] shape = info.shape();
                int in = (int) shape[0];
                float[] values = new float[Math.toIntExact(info.elements())];
                gguf.tensor(info.name()).copyTo(0, values, 0, values.length);
                for (LoraUpdate u : us) {
                    double[] delta = u.delta();
                    int base = u.rowOffset() * in;
                    for (int i = 0; i < delta.length; i++) values[base + i] = (float) (values[base + i] + delta[i]);
                }
                GgmlType type = switch (info.type()) {
                    case F32, F16, BF16 -> info.type();
                    default -> GgmlType.F16;
                };
                if (type != info.type()) widened.add(info.name() + " (" + info.type() + " -> " + type + ")");
                w.addTensor(info.name(), shape, values, type);
                merged.add(info.name());
            }
            w.write(out);
            return new Result(merged, widened);
        }
    }
}
