package ai.autoglm.compress.eval;

import java.util.Arrays;

/**
 * Accumulates, over scored positions, what llama.cpp's {@code llama-perplexity} accumulates
 * (tools/perplexity/perplexity.cpp, {@code process_logits} / {@code kl_divergence}): the negative log-likelihood of
 * the actual next token under the model (and under the base), the KL divergence KL(base || model) of the next-token
 * distributions, and whether both rank the same token first ("same top p"). Everything in double precision from
 * the float logits. One difference on purpose: llama.cpp stores the base's log-probabilities as 16-bit values in a
 * file and skips tokens with base probability below e^-16; both models are in memory here, so the sum is exact over
 * the whole vocabulary.
 */
public final class TokenScores {
    private long count;
    private double sumNll, sumNll2, sumNllBase, sumNllBase2, sumNllNllBase;
    private double sumKld, sumKld2;
    private long sameTop;
    private double[] klds = new double[256];

    /**
     * Scores one position: {@code logits[off .. off+vocab)} of the model, {@code base[baseOff ..]} of the base (null
     * when there is none), {@code next} the token that actually follows.
     */
    public void add(float[] logits, int off, float[] base, int baseOff, int vocab, int next) {
        double logZ = logSumExp(logits, off, vocab);
        double nll = logZ - logits[off + next];
        sumNll += nll;
        sumNll2 += nll * nll;
        if (base != null) {
            double logZBase = logSumExp(base, baseOff, vocab);
            double nllBase = logZBase - base[baseOff + next];
            sumNllBase += nllBase;
            sumNllBase2 += nllBase * nllBase;
            sumNllNllBase += nll * nllBase;
            double kld = 0;
            for (int i = 0; i < vocab; i++) {
                double logPBase = base[baseOff + i] - logZBase;
                double logP = logits[off + i] - logZ;
                kld += Math.exp(logPBase) * (logPBase - logP);
            }
            kld = Math.max(0, kld); // exact KL is >= 0; only rounding makes an identical pair's sum -1e-17
            sumKld += kld;
            sumKld2 += kld * kld;
            if (klds.length == count) klds = Arrays.copyOf(klds, klds.length * 2);
            klds[(int) count] = kld;
            if (SpeedProbe.argmax(logits, off, vocab) == SpeedProbe.argmax(base, baseOff, vocab)) sameTop++;
        }
        count++;
    }

    /** log Σ exp(v_i), computed around the maximum. */
    static double logSumExp(float[] v, int off, int n) {
        float max = v[off];
        for (int i = 1; i < n; i++) max = Math.max(max, v[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp((double) v[off + i] - max);
        return max + Math.log(sum);
    }

    public long count() {
        return count;
    }

    /** exp(mean nll) and its uncertainty, as llama.cpp prints "PPL = x +/- y". */
    public double[] perplexity() {
        return expOfMean(sumNll, sumNll2);
    }

    public double[] basePerplexity() {
        return expOfMean(sumNllBase, sumNllBase2);
    }

    private double[] expOfMean(double sum, double sum2) {
        double[] m = meanAndUncertainty(sum, sum2, count);
        double ppl = Math.exp(m[0]);
        return new double[]{ppl, ppl * m[1]};
    }

    /** PPL(model)/PPL(base) = exp(mean nll - mean nll_base), with llama.cpp's uncertainty using the covariance. */
    public double[] perplexityRatio() {
        double[] a = meanAndUncertainty(sumNll, sumNll2, count), b = meanAndUncertainty(sumNllBase, sumNllBase2, count);
        double cov = count < 10 ? 0 : (sumNllNllBase / count - (sumNll / count) * (sumNllBase / count)) / (count - 1);
        double ratio = Math.exp(a[0] - b[0]);
        return new double[]{ratio, ratio * Math.sqrt(Math.max(0, a[1] * a[1] + b[1] * b[1] - 2 * cov))};
    }

    public double[] meanKld() {
        return meanAndUncertainty(sumKld, sumKld2, count);
    }

    /** The {@code fraction} percentile of the per-position KL divergences, interpolated as llama.cpp's {@code percentile}. */
    public double kldPercentile(double fraction) {
        if (count == 0) return Double.NaN;
        double[] sorted = Arrays.copyOf(klds, (int) count);
        Arrays.sort(sorted);
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[sorted.length - 1];
        double p = fraction * (sorted.length - 1);
        int ip = (int) p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
    }

    /** Share of positions where both models rank the same token first, and its binomial uncertainty. */
    public double[] sameTop() {
        double p = count == 0 ? Double.NaN : (double) sameTop / count;
        return new double[]{p, count > 1 ? Math.sqrt(p * (1 - p) / (count - 1)) : 0};
    }

    /** llama.cpp's mean_and_uncertainty: the mean and the standard error of the mean (0 for 10 values or fewer). */
    static double[] meanAndUncertainty(double sum, double sum2, long count) {
        if (count < 1) return new double[]{Double.NaN, 0};
        double f = sum / count;
        double df = sum2 / count - f * f;
        return new double[]{f, df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0};
    }
}
