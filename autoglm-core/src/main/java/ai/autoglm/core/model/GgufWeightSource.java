package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.tensor.FloatTensor;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/** A GGUF file's tensors as a {@link WeightSource}: names and shapes as stored, views over the mapping. */
public final class GgufWeightSource implements WeightSource {
    private final GgufFile file;
    private final Set<String> names;

    public GgufWeightSource(GgufFile file) {
        this.file = file;
        Set<String> n = new LinkedHashSet<>();
        for (GgufTensorInfo t : file.tensorInfos()) n.add(t.name());
        this.names = Collections.unmodifiableSet(n);
    }

    public GgufFile file() {
        return file;
    }

    @Override
    public Set<String> names() {
        return names;
    }

    @Override
    public FloatTensor tensor(String name) {
        GgufTensorInfo info = file.tensorInfo(name);
        if (info == null) return null;
        if (!info.type().supported) {
            throw new ModelFormatException(file.path(), "tensor " + name + " has type " + info.type() + ", which this engine cannot read");
        }
        return file.tensor(name);
    }

    @Override
    public long[] shape(String name) {
        GgufTensorInfo info = file.tensorInfo(name);
        return info == null ? null : info.shape().clone();
    }

    @Override
    public void close() {
        file.close();
    }
}
