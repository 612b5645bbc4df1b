package ai.autoglm.train;

import java.util.Random;

/** Test text whose next-token distributions are broad and known: a random first-order Markov chain over token ids. */
public final class MarkovText {
    private MarkovText() {
    }

    /** {@code n} tokens of a chain over {@code vocab} ids whose transition rows are softmax(2 * N(0, 1)). */
    public static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        double[][] cdf = new double[vocab][vocab];
        for (int a = 0; a < vocab; a++) {
            double sum = 0;
            for (int b = 0; b < vocab; b++) sum += cdf[a][b] = Math.exp(2 * r.nextGaussian());
            double acc = 0;
            for (int b = 0; b < vocab; b++) cdf[a][b] = (acc += cdf[a][b] / sum);
        }
        int[] out = new int[n];
        for (int i = 1; i < n; i++) {
            double u = r.nextDouble();
            int b = 0;
            while (b < vocab - 1 && cdf[out[i - 1]][b] < u) b++;
            out[i] = b;
        }
        return out;
    }
}
