package ai.autoglm.server.api;

import ai.autoglm.core.memory.MemoryEstimate;
import ai.autoglm.core.memory.ProcessMemory;
import ai.autoglm.server.models.ModelKind;
import ai.autoglm.server.models.ModelRegistry;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.security.ApiKey;
import ai.autoglm.server.security.AuditQuery;
import ai.autoglm.server.security.KeyStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The admin API under {@code /admin/}: what the web console's Keys, Audit, Models and Reports pages use, documented
 * for scripts too. Each route goes through {@link OpenAiApi#route} like any other: the gateway admits only a role that
 * may use it (the {@code admin} group), and the request gets its audit record; a change also names itself in the
 * record's {@code action}. Keys are created and revoked with the same {@link KeyStore} as {@code autoglm keys}, the
 * trail is read and checked with {@link AuditQuery} / {@code AuditVerifier} as {@code autoglm audit verify} does.
 */
final class AdminEndpoints {
    /** How deep under the data directory to look for compress reports. */
    private static final int REPORT_DEPTH = 4;

    private final OpenAiApi api;

    AdminEndpoints(OpenAiApi api) {
        this.api = api;
    }

    // ------------------------------------------------------------------------------------------ keys

    void listKeys(JsonNode body, HttpExchange ex) {
        ex.sendJson(200, api.gateway().keyList());
    }

    /** {@code POST /admin/keys {"name", "role", "models"?, "expires"?}}: 201 with the secret, which is shown this once. */
    void createKey(JsonNode body, HttpExchange ex) {
        KeyStore store = keyStore();
        String name = text(body, "name", true);
        String role = text(body, "role", true);
        if (!api.gateway().roleDefined(role)) throw ApiException.invalidParam("role", "no role named '" + printable(role) + "' is defined");
        List<String> models = new ArrayList<>();
        JsonNode m = body.get("models");
        if (m != null && !m.isNull()) {
            if (!m.isArray()) throw ApiException.invalidParam("models", "models must be a list of model aliases");
            for (JsonNode x : m) {
                if (!x.isTextual()) throw ApiException.invalidParam("models", "models must be a list of model aliases");
                models.add(x.asText());
            }
        }
        Instant expires;
        try {
            expires = AuditQuery.instant("expires", text(body, "expires", false));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidParam("expires", e.getMessage());
        }
        KeyStore.Issued issued;
        try {
            issued = store.create(name, role, models, expires);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidParam("name", e.getMessage().replace("--name: ", ""));
        }
        ex.context().adminAction("create key " + name + " (" + role + ")");
        ObjectNode out = keyJson(issued.key());
        out.put("secret", issued.secret());
        ex.sendJson(201, out);
    }

    /** {@code DELETE /admin/keys/{name}}: the key is refused from the next request on. */
    void revokeKey(JsonNode body, HttpExchange ex) {
        String name = ex.request().path().pathParameters().get("name");
        if (api.gateway().keysShared()) {
            // keys shared through Redis: the revocation must reach every replica (RedisKeyRing), not one keys file
            ObjectNode revoked;
            try {
                revoked = api.gateway().revoke(name);
            } catch (IllegalArgumentException e) {
                throw new ApiException(404, "invalid_request_error", "name", "not_found", "no active key named '" + printable(name) + "'");
            }
            ex.context().adminAction("revoke key " + name);
            ex.sendJson(200, revoked);
            return;
        }
        ApiKey k;
        try {
            k = keyStore().revoke(name);
        } catch (IllegalArgumentException e) {
            throw new ApiException(404, "invalid_request_error", "name", "not_found", "no active key named '" + printable(name) + "'");
        }
        ex.context().adminAction("revoke key " + name);
        ex.sendJson(200, keyJson(k));
    }

    private KeyStore keyStore() {
        KeyStore store = api.gateway().keyStore();
        if (store == null) {
            throw new ApiException(409, "invalid_request_error", null, "no_data_directory",
                    "this server has no data directory, so no keys file: start it with one (--home or AUTOGLM_HOME)");
        }
        return store;
    }

    private static ObjectNode keyJson(ApiKey k) {
        ObjectNode n = Json.object();
        n.put("name", k.name());
        n.put("role", k.role());
        ArrayNode m = n.putArray("models");
        k.models().forEach(m::add);
        n.put("state", k.state(Instant.now()));
        n.put("created", k.created() == null ? null : k.created().toString());
        n.put("expires", k.expires() == null ? null : k.expires().toString());
        n.put("revoked", k.revoked() == null ? null : k.revoked().toString());
        return n;
    }

    // ------------------------------------------------------------------------------------------ audit

    /** {@code GET /admin/audit?key=&model=&status=&since=&until=&limit=}: the newest matching records, newest first. */
    void audit(JsonNode body, HttpExchange ex) {
        AuditQuery q;
        try {
            q = new AuditQuery(query(ex, "key"), query(ex, "model"), query(ex, "status"),
                    AuditQuery.instant("since", query(ex, "since")), AuditQuery.instant("until", query(ex, "until")),
                    query(ex, "limit") == null ? 200 : parseInt("limit", query(ex, "limit")));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        ex.sendJson(200, q.run(auditDirectory()));
    }

    /** {@code GET /admin/audit/verify}: the hash chain checked as {@code autoglm audit verify} does. */
    void verifyAudit(JsonNode body, HttpExchange ex) {
        ex.sendJson(200, AuditQuery.verify(auditDirectory()));
    }

    private Path auditDirectory() {
        Path dir = api.gateway().auditDirectory();
        if (dir == null) throw new ApiException(409, "invalid_request_error", null, "audit_off", "this server keeps no audit trail");
        return dir;
    }

    // ------------------------------------------------------------------------------------------ models

    /** {@code GET /admin/models}: every configured alias, loaded or not, with its settings and the memory model's estimate. */
    void models(JsonNode body, HttpExchange ex) {
        ModelRegistry registry = api.registry();
        ObjectNode root = Json.object();
        root.put("object", "list");
        root.put("process_resident_bytes", ProcessMemory.residentBytes());
        ArrayNode data = root.putArray("data");
        for (ModelSpec spec : api.config().models()) {
            String alias = spec.alias();
            ObjectNode m = data.addObject();
            m.put("id", alias);
            m.put("kind", registry.kind(alias) == ModelKind.EMBEDDING ? "embedding" : "generative");
            m.put("path", spec.path().getFileName().toString());
            boolean loaded = registry.isLoaded(alias);
            m.put("loaded", loaded);
            m.put("slots", registry.slots(alias));
            Integer ctx = registry.context(alias);
            if (ctx != null) m.put("context", ctx);
            else m.putNull("context");
            m.put("quantize", spec.quantize());
            m.put("quantized_to", registry.quantization(alias) == null ? null : registry.quantization(alias).name());
            Duration keep = registry.keepAlive(alias);
            m.put("keep_alive", keep == null ? "forever" : keep.toSeconds() + "s");
            MemoryEstimate e = registry.memoryEstimate(alias);
            if (e == null) {
                m.putNull("memory_estimate");
            } else {
                ObjectNode est = m.putObject("memory_estimate");
                est.put("total_bytes", e.totalBytes());
                est.put("weight_bytes", e.weightBytes());
                est.put("kv_cache_bytes", e.kvCacheBytes());
                est.put("working_bytes", e.workingBytes());
                est.put("overhead_bytes", e.overheadBytes());
                est.put("summary", e.toString());
            }
            // in use: the estimate of what a loaded model holds (weights mapped or quantized, its KV cache and buffers)
            m.put("memory_in_use_bytes", loaded && e != null ? e.totalBytes() - e.overheadBytes() : 0);
        }
        ex.sendJson(200, root);
    }

    /** {@code POST /admin/models/{id}/load {"keep_alive"?}}: loads it now (or keeps it loaded), optionally changing its keep-alive. */
    void load(JsonNode body, HttpExchange ex) {
        String alias = alias(ex);
        String keep = text(body, "keep_alive", false);
        if (keep != null) api.registry().keepAlive(alias, keepAlive(keep));
        api.registry().preload(alias);
        ex.context().adminAction("load model " + alias + (keep != null ? " (keep-alive " + keep + ")" : ""));
        ex.sendJson(200, Json.object().put("id", alias).put("loaded", api.registry().isLoaded(alias)));
    }

    /** {@code POST /admin/models/{id}/unload}: unloads it now; its next request loads it again. */
    void unload(JsonNode body, HttpExchange ex) {
        String alias = alias(ex);
        boolean was = api.registry().unload(alias);
        ex.context().adminAction("unload model " + alias);
        ex.sendJson(200, Json.object().put("id", alias).put("loaded", false).put("was_loaded", was));
    }

    private String alias(HttpExchange ex) {
        String alias = ex.request().path().pathParameters().get("id");
        ex.context().model(alias);
        if (!api.registry().aliases().contains(alias)) throw ApiException.modelNotFound(printable(alias));
        return alias;
    }

    /** "30s", "15m", "2h", seconds as a number, or "forever" (as the config file's keep-alive). */
    static Duration keepAlive(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        if (s.equals("forever")) return null;
        try {
            if (s.chars().allMatch(Character::isDigit)) return positive(Duration.ofSeconds(Long.parseLong(s)), v);
            long n = Long.parseLong(s.substring(0, s.length() - 1));
            return positive(switch (s.charAt(s.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new NumberFormatException();
            }, v);
        } catch (RuntimeException e) {
            throw ApiException.invalidParam("keep_alive", "keep_alive must be a duration like 30s, 15m, 2h or forever, got '" + printable(v) + "'");
        }
    }

    private static Duration positive(Duration d, String v) {
        if (d.isZero() || d.isNegative()) throw new NumberFormatException(v);
        return d;
    }

    // ------------------------------------------------------------------------------------------ reports

    /** {@code GET /admin/reports}: the {@code report.json} files of {@code autoglm compress} under the data directory, with a summary each. */
    void reports(JsonNode body, HttpExchange ex) {
        ObjectNode root = Json.object();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        Path home = home();
        for (Path p : reportFiles(home)) {
            ObjectNode r = data.addObject();
            String id = home.relativize(p.getParent()).toString().replace(java.io.File.separatorChar, '/');
            r.put("id", id);
            r.put("href", "/admin/reports/" + id.replace('/', '~'));
            try {
                r.put("modified", Files.getLastModifiedTime(p).toInstant().toString());
                JsonNode j = Json.MAPPER.readTree(p.toFile());
                r.set("summary", summary(j));
            } catch (IOException | RuntimeException e) {
                r.put("error", "cannot read " + id + "/report.json: " + e.getMessage().replace(home.toString(), ""));
            }
        }
        ex.sendJson(200, root);
    }

    /** {@code GET /admin/reports/{id}}: one report.json as it is (the id as listed, with '/' written as '~'). */
    void report(JsonNode body, HttpExchange ex) {
        String id = ex.request().path().pathParameters().get("id").replace('~', '/');
        Path home = home();
        // only a listed report: the id is looked up, never resolved as a path a client could steer elsewhere
        for (Path p : reportFiles(home)) {
            if (home.relativize(p.getParent()).toString().replace(java.io.File.separatorChar, '/').equals(id)) {
                try {
                    ex.send(200, "application/json", Files.readAllBytes(p));
                    return;
                } catch (IOException e) {
                    throw new ApiException(500, "server_error", null, null, "cannot read the report " + printable(id));
                }
            }
        }
        throw new ApiException(404, "invalid_request_error", null, "not_found", "no report '" + printable(id) + "'");
    }

    private Path home() {
        Path home = api.config().security().home();
        if (home == null) throw new ApiException(409, "invalid_request_error", null, "no_data_directory", "this server has no data directory");
        return home;
    }

    private static List<Path> reportFiles(Path home) {
        if (!Files.isDirectory(home)) return List.of();
        try (Stream<Path> s = Files.walk(home, REPORT_DEPTH)) {
            return s.filter(p -> p.getFileName().toString().equals("report.json") && Files.isRegularFile(p) && !p.getParent().equals(home))
                    .sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new ApiException(500, "server_error", null, null, "cannot list the reports in the data directory");
        }
    }

    /** What the list shows of a report: model, search, budget, trial count and the chosen trial's measurements. */
    private static ObjectNode summary(JsonNode j) {
        ObjectNode s = Json.object();
        for (String f : List.of("model", "search", "context", "budget_mb", "max_kld", "min_top1", "chosen", "closest")) {
            if (j.has(f)) s.set(f, j.get(f));
        }
        JsonNode trials = j.path("trials");
        s.put("trials", trials.size());
        JsonNode pick = j.path("chosen").isInt() ? j.path("chosen") : j.path("closest");
        for (JsonNode t : trials) {
            if (pick.isInt() && t.path("trial").asInt(-1) == pick.asInt()) {
                ObjectNode c = s.putObject("pick");
                for (String f : List.of("choices", "memory_mb", "mean_kld", "top1", "perplexity", "tg_tokens_per_s", "feasible")) {
                    if (t.has(f)) c.set(f, t.get(f));
                }
            }
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode v = body == null ? null : body.get(field);
        if (v == null || v.isNull()) {
            if (required) throw ApiException.invalidParam(field, field + " is required");
            return null;
        }
        if (!v.isTextual()) throw ApiException.invalidParam(field, field + " must be a string");
        return v.asText();
    }

    private static String query(HttpExchange ex, String name) {
        var q = ex.request().query();
        if (!q.contains(name)) return null;
        String v = q.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + printable(v) + "'");
        }
    }

    private static String printable(String s) {
        return s == null ? "" : s.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
