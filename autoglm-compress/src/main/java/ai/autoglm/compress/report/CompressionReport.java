package ai.autoglm.compress.report;

import ai.autoglm.compress.search.Constraints;
import ai.autoglm.compress.search.Measurement;
import ai.autoglm.compress.search.SearchResult;
import ai.autoglm.compress.search.Trial;
import ai.autoglm.core.format.AtomicFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The evidence of a compression search: {@code report.json} (every trial with its choices and measurements, the
 * Pareto front, the chosen and the closest trial) and {@code report.html} (the same as a table, with a plot of
 * memory against mean KLD: the budget line, the front and the choice marked). Self-contained: the plot is inline
 * SVG, so the report opens on a machine without network.
 */
public final class CompressionReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final double MB = 1024.0 * 1024.0;

    /** What was searched, for the report's header. */
    public record Header(String model, String search, int context, Constraints constraints) {
    }

    private CompressionReport() {
    }

    /** Writes report.json and report.html into {@code dir} (created if needed), each atomically. */
    public static void write(Path dir, Header header, SearchResult result) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the report directory " + dir + ": " + e.getMessage(), e);
        }
        ObjectNode json = json(header, result);
        try {
            writeBytes(dir.resolve("report.json"), JSON.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        writeBytes(dir.resolve("report.html"), html(header, result).getBytes(StandardCharsets.UTF_8));
    }

    public static ObjectNode json(Header header, SearchResult result) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", header.model());
        root.put("search", header.search());
        root.put("context", header.context());
        root.put("budget_mb", header.constraints().budgetBytes() / MB);
        if (header.constraints().maxMeanKld() != null) root.put("max_kld", header.constraints().maxMeanKld());
        if (header.constraints().minTop1() != null) root.put("min_top1", header.constraints().minTop1());
        Set<Integer> front = new HashSet<>();
        result.paretoFront().forEach(t -> front.add(t.number()));
        ArrayNode trials = root.putArray("trials");
        for (Trial t : result.trials()) {
            ObjectNode o = trials.addObject();
            o.put("trial", t.number());
            ObjectNode choices = o.putObject("choices");
            t.candidate().choices().forEach(choices::put);
            if (!t.measured()) {
                o.put("error", t.error());
                continue;
            }
            Measurement m = t.measurement();
            o.put("memory_mb", m.memoryBytes() / MB);
            o.put("file_mb", m.fileBytes() / MB);
            o.put("mean_kld", m.meanKld());
            o.put("p99_kld", m.p99Kld());
            o.put("max_kld", m.maxKld());
            o.put("top1", m.top1());
            o.put("perplexity", m.perplexity());
            o.put("tg_tokens_per_s", m.tokensPerSecond());
            o.put("fits_budget", header.constraints().fitsBudget(m));
            o.put("feasible", header.constraints().satisfied(m));
            o.put("pareto", front.contains(t.number()));
        }
        ArrayNode f = root.putArray("pareto_front");
        result.paretoFront().forEach(t -> f.add(t.number()));
        if (result.chosen().isPresent()) root.put("chosen", result.chosen().get().number());
        else root.putNull("chosen");
        result.closest().ifPresent(t -> root.put("closest", t.number()));
        return root;
    }

    static String html(Header header, SearchResult result) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>autoglm compress: ").append(esc(header.model()))
                .append("</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.c{text-align:left}"
                        + "tr.chosen{background:#dfd}tr.infeasible{color:#999}</style></head><body>");
        h.append("<h1>Compression search</h1><p>Model <code>").append(esc(header.model())).append("</code>, search <b>")
                .append(esc(header.search())).append("</b>, budget <b>").append(fmt(header.constraints().budgetBytes() / MB))
                .append(" MB</b> at context ").append(header.context());
        if (header.constraints().maxMeanKld() != null) h.append(", mean KLD &le; ").append(header.constraints().maxMeanKld());
        if (header.constraints().minTop1() != null) h.append(", top-1 &ge; ").append(header.constraints().minTop1());
        h.append(".</p><p>");
        if (result.chosen().isPresent()) {
            h.append("Chosen: trial ").append(result.chosen().get().number()).append(" <code>").append(esc(result.chosen().get().candidate().key())).append("</code>");
        } else {
            h.append("<b>No trial met the constraints.</b>");
            result.closest().ifPresent(t -> h.append(" Closest: trial ").append(t.number()).append(" <code>").append(esc(t.candidate().key())).append("</code>"));
        }
        h.append("</p>");
        h.append(plot(header, result));
        h.append("<table><tr><th>trial</th><th>choices</th><th>memory MB</th><th>file MB</th><th>mean KLD</th><th>p99 KLD</th>"
                + "<th>max KLD</th><th>top-1</th><th>ppl</th><th>tg tok/s</th><th>Pareto</th></tr>");
        Set<Integer> front = new HashSet<>();
        result.paretoFront().forEach(t -> front.add(t.number()));
        for (Trial t : result.trials()) {
            boolean chosen = result.chosen().map(c -> c.number() == t.number()).orElse(false);
            boolean feasible = t.measured() && header.constraints().satisfied(t.measurement());
            h.append("<tr class=\"").append(chosen ? "chosen" : feasible ? "" : "infeasible").append("\"><td>").append(t.number())
                    .append("</td><td class=\"c\"><code>").append(esc(t.candidate().key())).append("</code></td>");
            if (!t.measured()) {
                h.append("<td colspan=\"9\" class=\"c\">failed: ").append(esc(t.error())).append("</td></tr>");
                continue;
            }
            Measurement m = t.measurement();
            h.append(td(fmt(m.memoryBytes() / MB))).append(td(fmt(m.fileBytes() / MB))).append(td(sci(m.meanKld())))
                    .append(td(sci(m.p99Kld()))).append(td(sci(m.maxKld()))).append(td(fmt(m.top1()))).append(td(fmt(m.perplexity())))
                    .append(td(fmt(m.tokensPerSecond()))).append(td(front.contains(t.number()) ? "&#9679;" : "")).append("</tr>");
        }
        h.append("</table></body></html>\n");
        return h.toString();
    }

    /** Memory (x) against mean KLD (y, log scale) as inline SVG, with the budget as a dashed line. */
    static String plot(Header header, SearchResult result) {
        int w = 640, hgt = 360, left = 70, bottom = 40, top = 20, right = 20;
        double budget = header.constraints().budgetBytes() / MB;
        double xMax = budget, yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (Trial t : result.trials()) {
            if (!t.measured()) continue;
            xMax = Math.max(xMax, t.measurement().memoryBytes() / MB);
            double y = logKld(t.measurement().meanKld());
            yMin = Math.min(yMin, y);
            yMax = Math.max(yMax, y);
        }
        if (yMin > yMax) {
            yMin = -6;
            yMax = 0;
        }
        if (yMax - yMin < 1) yMax = yMin + 1;
        double xScale = (w - left - right) / (xMax * 1.05), yScale = (hgt - top - bottom) / (yMax - yMin);
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(hgt).append("\">");
        s.append("<line x1=\"").append(left).append("\" y1=\"").append(hgt - bottom).append("\" x2=\"").append(w - right).append("\" y2=\"")
                .append(hgt - bottom).append("\" stroke=\"black\"/><line x1=\"").append(left).append("\" y1=\"").append(top).append("\" x2=\"")
                .append(left).append("\" y2=\"").append(hgt - bottom).append("\" stroke=\"black\"/>");
        s.append("<text x=\"").append(w / 2).append("\" y=\"").append(hgt - 8).append("\" text-anchor=\"middle\">runtime memory (MB)</text>");
        s.append("<text x=\"14\" y=\"").append(hgt / 2).append("\" transform=\"rotate(-90 14 ").append(hgt / 2)
                .append(")\" text-anchor=\"middle\">mean KLD (log10)</text>");
        for (int i = 0; i <= 4; i++) {
            double xv = xMax * 1.05 * i / 4, yv = yMin + (yMax - yMin) * i / 4;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                    left + xv * xScale, hgt - bottom + 14, fmt(xv)));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.1f</text>",
                    left - 4, hgt - bottom - (yv - yMin) * yScale, yv));
        }
        double bx = left + budget * xScale;
        s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"red\" stroke-dasharray=\"4\"/>"
                + "<text x=\"%.1f\" y=\"%d\" fill=\"red\" font-size=\"11\">budget</text>", bx, top, bx, hgt - bottom, bx + 3, top + 10));
        Set<Integer> front = new HashSet<>();
        result.paretoFront().forEach(t -> front.add(t.number()));
        for (Trial t : result.trials()) {
            if (!t.measured()) continue;
            Measurement m = t.measurement();
            double x = left + m.memoryBytes() / MB * xScale, y = hgt - bottom - (logKld(m.meanKld()) - yMin) * yScale;
            boolean chosen = result.chosen().map(c -> c.number() == t.number()).orElse(false);
            String fill = chosen ? "green" : header.constraints().satisfied(m) ? "steelblue" : "#bbb";
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"%s><title>trial %d: %s</title></circle>",
                    x, y, chosen ? 7 : 4, fill, front.contains(t.number()) ? " stroke=\"black\"" : "", t.number(), esc(t.candidate().key())));
        }
        s.append("</svg>");
        return s.toString();
    }

    private static double logKld(double kld) {
        return Math.log10(Math.max(kld, 1e-7));
    }

    private static String td(String v) {
        return "<td>" + v + "</td>";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String sci(double v) {
        return String.format(Locale.ROOT, "%.3e", v);
    }

    static String esc(String s) {
        if (s == null) return "";
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static void writeBytes(Path file, byte[] bytes) {
        AtomicFiles.write(file, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }
}
