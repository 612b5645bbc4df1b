package ai.autoglm.core.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * llama.cpp as a reference engine: the prebuilt CPU library of the npm package {@code node-llama-cpp}
 * ({@code @node-llama-cpp/linux-x64}), driven by {@code autoglm-core/src/test/llamacpp/reference-llamacpp.js}.
 * Nothing of llama.cpp is built or committed here; {@code npm ci} in that folder installs the binary.
 *
 * <p>Requests are batched: collect jobs in a {@link Batch}, then {@link Batch#run()} starts one Node process for
 * all of them (loading the library costs seconds, a tiny model milliseconds).
 */
public final class LlamaCppReference {
    private LlamaCppReference() {
    }

    /**
     * Sampling temperature the logits are read through. llama.cpp's probabilities are float {@code expf(z/T -
     * max)}: at T = 1 tokens ~87 below the top underflow to 0 (the tied fixtures spread their logits over
     * hundreds). At T = 32 nothing underflows for spreads below ~2800, and the logits come back with an absolute
     * error of about T * 2^-24 * few, ~1e-5 of a logit, well below any tolerance used.
     */
    public static final double TEMPERATURE = 32;

    public static Path project() {
        return NodeScript.project("llamacpp");
    }

    /** What llama.cpp tokenized: ids per text, and its detokenization of those ids (special tokens rendered). */
    public record Tokenized(List<int[]> ids, List<String> detokenized) {
    }

    /** A set of jobs for one Node process. Handles returned by the adders are filled in by {@link #run()}. */
    public static final class Batch {
        private final List<Map<String, Object>> jobs = new ArrayList<>();
        private final List<Handle<?>> handles = new ArrayList<>();
        private boolean ran;

        /**
         * The next-token logits llama.cpp computes for each of {@code sequences} in {@code gguf}, up to a constant
         * per row: result {@code [sequence][position][token id]}, the logits after the prefix ending at that
         * position. They come back as probabilities at temperature {@link #TEMPERATURE} and are turned back into
         * logits as {@code T * log p}; see the script for why.
         */
        public Handle<double[][][]> nextTokenLogits(Path gguf, List<int[]> sequences) {
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("model", gguf.toAbsolutePath().toString());
            job.put("sequences", sequences);
            job.put("temperature", TEMPERATURE);
            return add(job, LlamaCppReference::logits);
        }

        /** llama.cpp's tokenization of {@code texts} with the vocabulary of {@code gguf} (no BOS/EOS added). */
        public Handle<Tokenized> tokenize(Path gguf, List<String> texts, boolean parseSpecial) {
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("model", gguf.toAbsolutePath().toString());
            job.put("vocabOnly", true);
            job.put("tokenize", texts);
            job.put("parseSpecial", parseSpecial);
            return add(job, LlamaCppReference::tokenized);
        }

        private <T> Handle<T> add(Map<String, Object> job, Function<JsonNode, T> parse) {
            if (ran) throw new IllegalStateException("batch already ran");
            jobs.add(job);
            Handle<T> h = new Handle<>(parse);
            handles.add(h);
            return h;
        }

        /** Runs every job in one Node process; fails the test with install instructions when it cannot. */
        public void run() {
            ran = true;
            Path project = project();
            NodeScript.requirePackage(project, "node-llama-cpp");
            NodeScript.requirePackage(project, "@node-llama-cpp/linux-x64");
            JsonNode results = NodeScript.run(project, "reference-llamacpp.js", List.of(), Map.of("jobs", jobs),
                    Duration.ofSeconds(300)).get("results");
            if (results == null || results.size() != jobs.size()) {
                fail("llama.cpp reference answered " + (results == null ? "nothing" : results.size() + " results")
                        + " for " + jobs.size() + " jobs");
            }
            for (int i = 0; i < handles.size(); i++) handles.get(i).fill(results.get(i));
        }
    }

    /** One job's result, available after {@link Batch#run()}. */
    public static final class Handle<T> {
        private final Function<JsonNode, T> parse;
        private T value;

        private Handle(Function<JsonNode, T> parse) {
            this.parse = parse;
        }

        private void fill(JsonNode node) {
            value = parse.apply(node);
        }

        public T get() {
            if (value == null) throw new IllegalStateException("the batch has not run");
            return value;
        }
    }

    private static double[][][] logits(JsonNode node) {
        JsonNode seqs = node.get("probabilities");
        double[][][] out = new double[seqs.size()][][];
        for (int s = 0; s < out.length; s++) {
            JsonNode rows = seqs.get(s);
            out[s] = new double[rows.size()][];
            for (int t = 0; t < rows.size(); t++) {
                JsonNode row = rows.get(t);
                double[] p = new double[row.size()];
                for (int i = 0; i < p.length; i++) {
                    double prob = row.get(i).asDouble();
                    if (!(prob > 0)) fail("llama.cpp gave token " + i + " probability " + prob + " at temperature " + TEMPERATURE);
                    p[i] = TEMPERATURE * Math.log(prob);
                }
                out[s][t] = p;
            }
        }
        return out;
    }

    private static Tokenized tokenized(JsonNode node) {
        List<int[]> ids = new ArrayList<>();
        for (JsonNode arr : node.get("ids")) {
            int[] v = new int[arr.size()];
            for (int i = 0; i < v.length; i++) v[i] = arr.get(i).asInt();
            ids.add(v);
        }
        List<String> detok = new ArrayList<>();
        node.get("detokenized").forEach(n -> detok.add(n.asText()));
        return new Tokenized(ids, detok);
    }
}
