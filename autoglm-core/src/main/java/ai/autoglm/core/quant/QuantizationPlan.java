package ai.autoglm.core.quant;

import java.util.List;
import java.util.Locale;

/**
 * Per tensor, in output order, which type it gets and why: the result of {@link QuantizationPlanner#plan}. Data
 * only; {@link ModelQuantizer} carries it out. A compression search may build its own (any types the engine reads)
 * and hand it to the quantizer.
 */
public record QuantizationPlan(QuantizationOptions options, List<PlannedTensor> tensors) {

    public QuantizationPlan {
        tensors = List.copyOf(tensors);
    }

    /** The entry for {@code name}, or null. */
    public PlannedTensor find(String name) {
        for (PlannedTensor t : tensors) {
            if (t.name().equals(name)) return t;
        }
        return null;
    }

    /** Bytes of all tensor data in the output (without the header and alignment padding). */
    public long outputBytes() {
        long n = 0;
        for (PlannedTensor t : tensors) n += t.outputBytes();
        return n;
    }

    public long sourceBytes() {
        long n = 0;
        for (PlannedTensor t : tensors) n += t.sourceBytes();
        return n;
    }

    /** Bits per weight of the output, over all tensors. */
    public double bitsPerWeight() {
        long elements = 0;
        for (PlannedTensor t : tensors) elements += t.elements();
        return elements == 0 ? 0 : outputBytes() * 8.0 / elements;
    }

    /** A one-line-per-tensor table: name, shape, source -> target type, reason. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (PlannedTensor t : tensors) {
            sb.append(String.format(Locale.ROOT, "%-36s %-16s %5s -> %-5s %s%n", t.name(), java.util.Arrays.toString(t.shape()),
                    lower(t.sourceType()), lower(t.targetType()), t.reason()));
        }
        return sb.toString();
    }

    static String lower(Object o) {
        return o.toString().toLowerCase(Locale.ROOT);
    }
}
