package ai.autoglm.server.config;

import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.memory.MemoryBudget;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the YAML server configuration:
 * <pre>
 * server:
 *   host: 127.0.0.1
 *   port: 8000
 *   queue-size: 64            # waiting requests per model before 429
 *   request-timeout: 10m
 *   max-body-bytes: 8388608
 *   prefill-budget: 256
 *   memory-budget-mb: 8192   # what quantize: auto may use per model; default MemAvailable minus a margin
 *   offline: false            # true: models by name only from the cache, never the network (as HF_HUB_OFFLINE=1)
 *   source: huggingface       # or modelscope: where models by name are pulled from
 *   console: true             # false: no web console at / (as serve --no-console)
 * models:
 *   - alias: qwen
 *     path: /models/qwen2.5-0.5b-instruct-q8_0.gguf
 *     context: 4096           # per slot
 *     slots: 4
 *     keep-alive: 15m         # unload after this long unused; "forever" keeps it
 *     tool-parser: qwen       # qwen (hermes), glm45 (glm4_moe), glm4 or llama3; default: read from the chat template
 *     lora: adapters/my-lora  # PEFT LoRA adapter directory applied at load time (optional)
 *     quantize: q8_0          # f16, q8_0, q4_0, q4_k or auto: quantize F32/F16/BF16 weights in memory at load time
 *     cache-type-k: q8_0      # KV cache element types (f32, f16, q8_0, q4_0; default f32), as --cache-type-k/-v
 *     cache-type-v: q8_0
 *   - model: glm-4-9b-chat    # instead of path: a catalog name or org/name[@rev][:QUANT], pulled into the HF cache
 *     quantize: int4          # with a name: converted and quantized once into the derived store
 * security:                   # the gateway; see {@link SecurityConfigFile}
 * </pre>
 * plus the gateway's {@code cache:}, {@code pii:} and {@code trust:} sections ({@link GatewayFiltersFile}), and
 * {@code cluster:} for replicas ({@link ClusterConfigFile}, read on its own).
 * Relative model paths are resolved against the file's directory. Unknown keys are errors (a typo should not be
 * silently ignored), each naming the file and the key.
 */
public final class ServerConfigFile {
    private static final Set<String> TOP_KEYS = union(Set.of("server", "models", "security", ClusterConfigFile.SECTION), GatewayFiltersFile.SECTIONS);
    private static final Set<String> SERVER_KEYS = Set.of("host", "port", "queue-size", "request-timeout", "max-body-bytes", "prefill-budget", "memory-budget-mb", "offline", "source", "console");
    private static final Set<String> MODEL_KEYS = Set.of("alias", "path", "model", "context", "slots", "keep-alive", "tool-parser", "lora", "quantize",
            "cache-type-k", "cache-type-v");

    private ServerConfigFile() {
    }

    public static ServerConfig read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": expected a YAML mapping with 'server' and 'models'");
        checkKeys(file, "", root, TOP_KEYS);
        JsonNode server = root.path("server");
        if (!server.isMissingNode()) checkKeys(file, "server.", server, SERVER_KEYS);
        JsonNode models = root.path("models");
        if (!models.isArray() || models.isEmpty()) throw new IllegalArgumentException(file + ": 'models' must be a non-empty list");
        Path base = file.toAbsolutePath().getParent();
        List<ModelSpec> specs = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            JsonNode m = models.get(i);
            String where = "models[" + i + "].";
            checkKeys(file, where, m, MODEL_KEYS);
            if (m.has("path") == m.has("model")) throw new IllegalArgumentException(file + ": '" + where + "' needs exactly one of 'path' and 'model'");
            Path modelPath;
            String alias;
            String quantize = m.has("quantize") ? text(file, where + "quantize", m.get("quantize")) : null;
            KvCacheTypes kvTypes = kvCacheTypes(file, where, m);
            if (m.has("model")) {
                String name = text(file, where + "model", m.get("model"));
                Integer ctx = m.has("context") ? integer(file, where + "context", m.get("context")) : null;
                // sized for one slot when the count is left to the server (auto): the serving-time choice comes later
                int slots = m.has("slots") && !"auto".equals(m.get("slots").asText()) ? integer(file, where + "slots", m.get("slots")) : 1;
                try {
                    var prepared = ai.autoglm.server.hub.ServedModelFiles.prepare(name, quantize, ctx, slots, kvTypes,
                            () -> server.has("memory-budget-mb") ? MemoryBudget.ofMegabytes(integer(file, "server.memory-budget-mb", server.get("memory-budget-mb")))
                                    : MemoryBudget.fromMachine(),
                            new ai.autoglm.core.hub.ModelPuller(hubSettings(file, server)), server.has("source") ? text(file, "server.source", server.get("source")) : null,
                            ai.autoglm.core.hub.PullListener.NONE);
                    modelPath = prepared.path();
                    quantize = prepared.quantize();
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ": " + where + "model '" + name + "': " + e.getMessage(), e);
                }
                alias = m.has("alias") ? text(file, where + "alias", m.get("alias")) : name;
            } else {
                String path = text(file, where + "path", m.get("path"));
                modelPath = base.resolve(path);
                alias = m.has("alias") ? text(file, where + "alias", m.get("alias")) : Path.of(path).getFileName().toString();
            }
            try {
                specs.add(new ModelSpec(alias, modelPath,
                        m.has("context") ? integer(file, where + "context", m.get("context")) : null,
                        !m.has("slots") || "auto".equals(m.get("slots").asText()) ? ModelSpec.AUTO_SLOTS : integer(file, where + "slots", m.get("slots")),
                        m.has("keep-alive") ? duration(file, where + "keep-alive", m.get("keep-alive")) : null,
                        m.has("tool-parser") ? text(file, where + "tool-parser", m.get("tool-parser")) : null,
                        m.has("lora") ? base.resolve(text(file, where + "lora", m.get("lora"))) : null,
                        quantize, kvTypes));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        GatewayFilters filters = GatewayFiltersFile.read(file, root);
        try {
            return new ServerConfig(
                    server.has("host") ? text(file, "server.host", server.get("host")) : ServerConfig.DEFAULT_HOST,
                    server.has("port") ? integer(file, "server.port", server.get("port")) : ServerConfig.DEFAULT_PORT,
                    server.has("max-body-bytes") ? integer(file, "server.max-body-bytes", server.get("max-body-bytes")) : ServerConfig.DEFAULT_MAX_BODY,
                    server.has("queue-size") ? integer(file, "server.queue-size", server.get("queue-size")) : ServerConfig.DEFAULT_QUEUE,
                    server.has("request-timeout") ? duration(file, "server.request-timeout", server.get("request-timeout")) : ServerConfig.DEFAULT_TIMEOUT,
                    server.has("prefill-budget") ? integer(file, "server.prefill-budget", server.get("prefill-budget")) : ServerConfig.DEFAULT_PREFILL_BUDGET,
                    specs, filters, SecurityConfigFile.read(file, root.path("security")),
                    server.has("memory-budget-mb") ? MemoryBudget.ofMegabytes(integer(file, "server.memory-budget-mb", server.get("memory-budget-mb"))) : null)
                    .withConsole(!server.has("console") || bool(file, "server.console", server.get("console")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The hub settings of the environment, with {@code server.offline: true} forbidding the network. */
    /** A model's cache-type-k/-v; a bad type is this file's error, before any model is pulled. */
    private static KvCacheTypes kvCacheTypes(Path file, String where, JsonNode m) {
        try {
            return KvCacheTypes.parse(m.has("cache-type-k") ? text(file, where + "cache-type-k", m.get("cache-type-k")) : null,
                    m.has("cache-type-v") ? text(file, where + "cache-type-v", m.get("cache-type-v")) : null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static ai.autoglm.core.hub.HubSettings hubSettings(Path file, JsonNode server) {
        ai.autoglm.core.hub.HubSettings s = ai.autoglm.core.hub.HubSettings.fromEnvironment();
        return server.has("offline") && bool(file, "server.offline", server.get("offline")) ? s.withOffline(true) : s;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    static void checkKeys(Path file, String prefix, JsonNode node, Set<String> known) {
        if (!node.isObject()) throw new IllegalArgumentException(file + ": '" + (prefix.isEmpty() ? "(top level)" : prefix) + "' must be a mapping");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) throw new IllegalArgumentException(file + ": unknown key '" + prefix + k + "'; known: " + known.stream().sorted().toList());
        }
    }

    static String text(Path file, String key, JsonNode v) {
        if (v == null || !v.isValueNode() || v.isNull()) throw new IllegalArgumentException(file + ": '" + key + "' must be a string");
        return v.asText();
    }

    static int integer(Path file, String key, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(file + ": '" + key + "' must be an integer, got " + v);
        return v.asInt();
    }

    static long longValue(Path file, String key, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) throw new IllegalArgumentException(file + ": '" + key + "' must be an integer, got " + v);
        return v.asLong();
    }

    static boolean bool(Path file, String key, JsonNode v) {
        if (v == null || !v.isBoolean()) throw new IllegalArgumentException(file + ": '" + key + "' must be true or false, got " + v);
        return v.asBoolean();
    }

    /** "30s", "15m", "2h", a number of seconds, or "forever" (null). */
    static Duration duration(Path file, String key, JsonNode v) {
        if (v.isIntegralNumber()) return Duration.ofSeconds(v.asLong());
        String s = v.asText().trim().toLowerCase(Locale.ROOT);
        if (s.equals("forever") || s.equals("-1")) return null;
        try {
            if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            long n = Long.parseLong(s.substring(0, s.length() - 1));
            return switch (s.charAt(s.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": '" + key + "' must be a duration like 30s, 15m, 2h or forever, got '" + v.asText() + "'");
        }
    }
}
