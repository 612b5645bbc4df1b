package ai.autoglm.train.distill;

import java.util.ArrayList;
import java.util.List;

/**
 * What a distillation run matches (see {@link Distiller}).
 *
 * @param temperature  softmax temperature T of both distributions (Hinton et al. 2015 use 1 to 20; 2 is a common choice)
 * @param alpha        weight of the soft-target term; {@code 1 - alpha} weights the cross-entropy on the hard labels
 * @param hiddenLayers teacher block to student block pairs whose residual streams are matched (empty: none)
 * @param hiddenWeight weight of each pair's mean squared error in the loss
 */
public record DistillationOptions(double temperature, double alpha, List<LayerPair> hiddenLayers, double hiddenWeight) {

    public DistillationOptions {
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be positive, got " + temperature);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("--alpha must be in [0, 1], got " + alpha);
        if (!(hiddenWeight >= 0)) throw new IllegalArgumentException("--hidden-weight must not be negative, got " + hiddenWeight);
        hiddenLayers = List.copyOf(hiddenLayers);
    }

    /** Teacher block {@code teacher} (0-based) matched to student block {@code student}. */
    public record LayerPair(int teacher, int student) {
    }

    /** Parses {@code "3:1,5:2"} (teacher:student, 0-based blocks); null or blank gives none. */
    public static List<LayerPair> parseLayerPairs(String spec) {
        List<LayerPair> pairs = new ArrayList<>();
        if (spec == null || spec.isBlank()) return pairs;
        for (String part : spec.split(",")) {
            String[] ts = part.trim().split(":");
            try {
                if (ts.length != 2) throw new NumberFormatException();
                int t = Integer.parseInt(ts[0].trim()), s = Integer.parseInt(ts[1].trim());
                if (t < 0 || s < 0) throw new NumberFormatException();
                pairs.add(new LayerPair(t, s));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--hidden-layers: '" + part.trim() + "' is not TEACHER:STUDENT (two block numbers from 0, e.g. 3:1)");
            }
        }
        return pairs;
    }
}
