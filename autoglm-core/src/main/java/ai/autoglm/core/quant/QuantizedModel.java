package ai.autoglm.core.quant;

import ai.autoglm.core.format.gguf.GgufWriter;

import java.nio.file.Path;

/**
 * A quantized model ready to write: the GGUF writer (metadata and every tensor, the quantized ones read from a temp
 * spool file) and the plan it followed. {@link #write} writes it atomically; {@link #close()} deletes the spool
 * (the writer cannot be used after that).
 */
public final class QuantizedModel implements AutoCloseable {
    private final GgufWriter writer;
    private final QuantizationPlan plan;
    private final TensorSpool spool;

    QuantizedModel(GgufWriter writer, QuantizationPlan plan, TensorSpool spool) {
        this.writer = writer;
        this.plan = plan;
        this.spool = spool;
    }

    /** The writer, for callers that add metadata before {@link #write}. */
    public GgufWriter writer() {
        return writer;
    }

    public QuantizationPlan plan() {
        return plan;
    }

    /** Writes the GGUF file atomically (temp file, then rename: nothing half-written is left on failure). */
    public void write(Path out) {
        writer.write(out);
    }

    @Override
    public void close() {
        spool.close();
    }
}
