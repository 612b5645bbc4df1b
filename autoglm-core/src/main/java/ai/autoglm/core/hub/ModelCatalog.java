package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Short model names shipped as data ({@code catalog.json} beside this class): each maps to a Hugging Face repository
 * (and its ModelScope twin), a revision, the files it holds and its published parameter count, from which the download
 * size is estimated. An unknown name gets the closest known names (edit distance), as a typo deserves.
 */
public final class ModelCatalog {
    /** One catalog entry; {@code downloadBytes} is an estimate from {@code params}. */
    public record Entry(String name, String repo, String modelScopeRepo, String revision, String files, String architecture,
                        long params, long downloadBytes, int context, boolean gated) {
        /** The repository reference on {@code source} (huggingface or modelscope). */
        public ModelRef ref(String source) {
            String r = source != null && source.toLowerCase(Locale.ROOT).startsWith("m") && modelScopeRepo != null ? modelScopeRepo : repo;
            ModelRef p = ModelRef.parse(r);
            return new ModelRef(p.repo(), revision, p.quant());
        }
    }

    private static final ModelCatalog BUILT_IN = load();
    private final Map<String, Entry> entries;

    private ModelCatalog(Map<String, Entry> entries) {
        this.entries = entries;
    }

    public static ModelCatalog builtIn() {
        return BUILT_IN;
    }

    private static ModelCatalog load() {
        try (InputStream in = ModelCatalog.class.getResourceAsStream("catalog.json")) {
            if (in == null) throw new IllegalStateException("catalog.json missing from the jar");
            JsonNode root = HubHttp.JSON.readTree(in);
            Map<String, Entry> m = new LinkedHashMap<>();
            for (JsonNode e : root.path("models")) {
                Entry x = new Entry(e.path("name").asText(), e.path("repo").asText(), e.path("modelscope").asText(null),
                        e.path("revision").asText("main"), e.path("files").asText(""), e.path("architecture").asText(""),
                        e.path("params").asLong(), e.path("download_bytes").asLong(), e.path("context").asInt(), e.path("gated").asBoolean());
                m.put(x.name().toLowerCase(Locale.ROOT), x);
            }
            return new ModelCatalog(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    public Optional<Entry> find(String name) {
        return Optional.ofNullable(entries.get(name.toLowerCase(Locale.ROOT)));
    }

    /** The catalog entry whose repository is {@code repo}, if any (for {@code list} and {@code show}). */
    public Optional<Entry> byRepo(String repo) {
        return entries.values().stream().filter(e -> ModelRef.parse(e.repo()).repo().equalsIgnoreCase(repo)).findFirst();
    }

    /**
     * Up to {@code n} known names closest to {@code name}: fewest edits to turn it into some part of a known name
     * (a short "qwen-0.5b" is near "qwen2.5-0.5b-instruct"), then fewest edits to the whole name.
     */
    public List<String> closest(String name, int n) {
        String q = name.toLowerCase(Locale.ROOT);
        List<String> names = new ArrayList<>(entries.keySet());
        names.sort(Comparator.comparingInt((String k) -> infixDistance(q, k)).thenComparingInt(k -> distance(q, k)).thenComparing(k -> k));
        return names.subList(0, Math.min(n, names.size()));
    }

    /** Edits to turn {@code a} into a substring of {@code b} (Levenshtein with free leading and trailing text of b). */
    static int infixDistance(String a, String b) {
        int[] prev = new int[b.length() + 1]; // row 0 all zero: b may start anywhere
        int[] cur = new int[b.length() + 1];
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        int best = Integer.MAX_VALUE;
        for (int v : prev) best = Math.min(best, v); // b may end anywhere
        return best;
    }

    /** Levenshtein edit distance (Wagner-Fischer, two rows). */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
