package ai.autoglm.core.model;

/**
 * How many parameters a model stores and how many one token uses. For a dense model the two agree. For a
 * mixture-of-experts model a token runs {@code used} of the {@code experts} routed experts of each routed layer, so the
 * active count leaves out {@code (experts - used) / experts} of every stacked expert tensor; the MTP blocks stored after
 * the last layer ({@link MoeConfig#nextnLayers}) are never run and count as stored only. (GLM-4.5-Air: 106B stored,
 * ~12B active.)
 *
 * @param total  elements of every tensor in the weights
 * @param active elements one token's forward pass reads
 */
public record ParameterCounts(long total, long active) {

    public static ParameterCounts of(ModelConfig config, WeightSource weights) {
        long total = 0, inactive = 0;
        MoeConfig moe = config.moe();
        for (String name : weights.names()) {
            long[] shape = weights.shape(name);
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            total += n;
            int layer = layerOf(name);
            if (layer >= config.layers()) {
                inactive += n; // MTP block: read at load, never run
            } else if (moe != null && shape.length == 3 && name.contains("_exps.")) {
                inactive += n / moe.experts() * (moe.experts() - moe.used());
            }
        }
        return new ParameterCounts(total, total - inactive);
    }

    /** N of {@code blk.N.}, or -1. */
    private static int layerOf(String name) {
        if (!name.startsWith("blk.")) return -1;
        int dot = name.indexOf('.', 4);
        try {
            return dot < 0 ? -1 : Integer.parseInt(name.substring(4, dot));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
