package ai.autoglm.train;

import java.util.Arrays;

/**
 * A tokenized corpus split into a training part and a held-out tail (the last {@code heldOutFraction} of the
 * tokens, so no held-out window overlaps a training one).
 */
public final class TokenDataset {
    private final int[] train;
    private final int[] heldOut;

    public TokenDataset(int[] train, int[] heldOut) {
        this.train = train;
        this.heldOut = heldOut;
    }

    /** Splits {@code tokens} at {@code (1 - heldOutFraction) * length}. */
    public static TokenDataset split(int[] tokens, double heldOutFraction) {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) throw new IllegalArgumentException("held-out fraction must be in [0, 1)");
        int cut = (int) Math.round(tokens.length * (1 - heldOutFraction));
        return new TokenDataset(Arrays.copyOfRange(tokens, 0, cut), Arrays.copyOfRange(tokens, cut, tokens.length));
    }

    public int[] train() {
        return train;
    }

    public int[] heldOut() {
        return heldOut;
    }
}
