package ai.autoglm.compress.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/** A {@link QualityReport} as the table {@code autoglm eval} prints, or as JSON (snake_case keys). */
public final class QualityReportFormat {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QualityReportFormat() {
    }

    public static String table(QualityReport r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "model: %s%s%n", r.model(), r.base() != null ? "   base: " + r.base() : ""));
        b.append(String.format(Locale.ROOT, "text: %d windows of %d tokens, %d positions scored (second half of each window)%n",
                r.windows(), r.context(), r.scoredTokens()));
        b.append("| metric | value |\n| --- | ---: |\n");
        row(b, "perplexity", String.format(Locale.ROOT, "%.4f ± %.4f", r.perplexity(), r.perplexityError()));
        QualityReport.Comparison c = r.vsBase();
        if (c != null) {
            row(b, "base perplexity", String.format(Locale.ROOT, "%.4f ± %.4f", c.basePerplexity(), c.basePerplexityError()));
            row(b, "PPL ratio (model/base)", String.format(Locale.ROOT, "%.6f ± %.6f", c.perplexityRatio(), c.perplexityRatioError()));
            row(b, "mean KLD", String.format(Locale.ROOT, "%.6f ± %.6f", c.meanKld(), c.meanKldError()));
            row(b, "p99 KLD", String.format(Locale.ROOT, "%.6f", c.p99Kld()));
            row(b, "max KLD", String.format(Locale.ROOT, "%.6f", c.maxKld()));
            row(b, "same top-1", String.format(Locale.ROOT, "%.3f ± %.3f %%", 100 * c.top1Agreement(), 100 * c.top1Error()));
        }
        if (!Double.isNaN(r.prefillTokensPerSecond())) row(b, "pp tokens/s", String.format(Locale.ROOT, "%.2f", r.prefillTokensPerSecond()));
        if (!Double.isNaN(r.decodeTokensPerSecond())) row(b, "tg tokens/s", String.format(Locale.ROOT, "%.2f", r.decodeTokensPerSecond()));
        if (r.peakResidentBytes() >= 0) row(b, "peak RSS (process)", String.format(Locale.ROOT, "%.1f MiB", r.peakResidentBytes() / 1048576.0));
        if (r.estimate() != null) row(b, "memory estimate (model, 1 sequence)", String.format(Locale.ROOT, "%.1f MiB", r.estimate().totalBytes() / 1048576.0));
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String value) {
        b.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    public static ObjectNode json(QualityReport r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", r.model());
        if (r.base() != null) o.put("base", r.base());
        o.put("context", r.context());
        o.put("windows", r.windows());
        o.put("scored_tokens", r.scoredTokens());
        o.put("perplexity", r.perplexity());
        o.put("perplexity_error", r.perplexityError());
        QualityReport.Comparison c = r.vsBase();
        if (c != null) {
            o.put("base_perplexity", c.basePerplexity());
            o.put("base_perplexity_error", c.basePerplexityError());
            o.put("perplexity_ratio", c.perplexityRatio());
            o.put("perplexity_ratio_error", c.perplexityRatioError());
            o.put("mean_kld", c.meanKld());
            o.put("mean_kld_error", c.meanKldError());
            o.put("p99_kld", c.p99Kld());
            o.put("max_kld", c.maxKld());
            o.put("same_top1", c.top1Agreement());
            o.put("same_top1_error", c.top1Error());
        }
        if (!Double.isNaN(r.prefillTokensPerSecond())) o.put("pp_tokens_per_s", r.prefillTokensPerSecond());
        if (!Double.isNaN(r.decodeTokensPerSecond())) o.put("tg_tokens_per_s", r.decodeTokensPerSecond());
        o.put("peak_rss_bytes", r.peakResidentBytes());
        if (r.estimate() != null) {
            ObjectNode e = o.putObject("memory_estimate");
            e.put("total_bytes", r.estimate().totalBytes());
            e.put("weight_bytes", r.estimate().weightBytes());
            e.put("kv_cache_bytes", r.estimate().kvCacheBytes());
            e.put("working_bytes", r.estimate().workingBytes());
            e.put("overhead_bytes", r.estimate().overheadBytes());
        }
        return o;
    }
}
