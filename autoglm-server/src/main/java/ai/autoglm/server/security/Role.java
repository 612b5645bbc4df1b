package ai.autoglm.server.security;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a key of this role may do: which routes, and which models on the routes that take one. Routes are named as
 * the server registers them ({@code /v1/chat/completions}, {@code /v1/models/{id}}, ...) or by group:
 * {@code inference} (chat, completions, embeddings, tokenize, detokenize), {@code models} (list and get), {@code metrics},
 * {@code admin} (the {@code /admin/...} routes: keys, audit, models, reports) and {@code *}. Models are aliases or {@code *}; a key's own model list
 * narrows them further.
 */
public record Role(String name, Set<String> routes, Set<String> models) {
    /** Route groups, so that a role reads like a sentence. */
    public static final Map<String, Set<String>> GROUPS = Map.of(
            "inference", Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/tokenize", "/detokenize"),
            "models", Set.of("/v1/models", "/v1/models/{id}"),
            "metrics", Set.of("/metrics"),
            "admin", Set.of("/admin/keys", "/admin/keys/{name}", "/admin/audit", "/admin/audit/verify", "/admin/models",
                    "/admin/models/{id}/load", "/admin/models/{id}/unload", "/admin/reports", "/admin/reports/{id}"));
    /** Every route name, for checking a custom role's list. */
    public static final Set<String> ROUTES = Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/tokenize", "/detokenize",
            "/v1/models", "/v1/models/{id}", "/metrics", "/admin/keys", "/health",
            "/admin/keys/{name}", "/admin/audit", "/admin/audit/verify", "/admin/models", "/admin/models/{id}/load",
            "/admin/models/{id}/unload", "/admin/reports", "/admin/reports/{id}");

    public static final Role ADMIN = new Role("admin", Set.of("*"), Set.of("*"));
    public static final Role USER = new Role("user", Set.of("inference", "models"), Set.of("*"));
    public static final Role READER = new Role("reader", Set.of("models", "metrics"), Set.of("*"));

    public Role {
        routes = Set.copyOf(routes);
        models = Set.copyOf(models);
        for (String r : routes) {
            if (!r.equals("*") && !GROUPS.containsKey(r) && !ROUTES.contains(r)) {
                throw new IllegalArgumentException("role '" + name + "': unknown route '" + r + "'; use one of "
                        + new java.util.TreeSet<>(GROUPS.keySet()) + ", * or a route: " + new java.util.TreeSet<>(ROUTES));
            }
        }
    }

    /** Built-in roles, then the custom ones (which may not reuse a built-in name). */
    public static Map<String, Role> withBuiltIns(List<Role> custom) {
        Map<String, Role> all = new LinkedHashMap<>();
        for (Role r : List.of(ADMIN, USER, READER)) all.put(r.name, r);
        for (Role r : custom) {
            if (all.containsKey(r.name)) throw new IllegalArgumentException("role '" + r.name + "' is built in; pick another name");
            all.put(r.name, r);
        }
        return all;
    }

    public boolean allowsRoute(String route) {
        if (routes.contains("*") || routes.contains(route)) return true;
        for (String g : routes) {
            Set<String> members = GROUPS.get(g);
            if (members != null && members.contains(route)) return true;
        }
        return false;
    }

    public boolean allowsModel(String model) {
        return models.contains("*") || models.contains(model);
    }
}
