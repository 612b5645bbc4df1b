package ai.autoglm.core.model;

/**
 * Sees the experts a mixture-of-experts model selects: for each routed layer and each row of a forward pass, the
 * selected expert ids (in selection order) and their weights. For expert-usage statistics and tests
 * ({@link TransformerModel#observeRouting}); called on the forward pass's thread, so it must be quick.
 */
@FunctionalInterface
public interface ExpertRoutingObserver {
    void routed(int layer, int[] experts, float[] weights);
}
