package ai.autoglm.server.gateway;

import ai.autoglm.server.security.Role;
import ai.autoglm.server.security.ApiKey;
/**
 * Who sent a request: the key and its role, or {@link #OPEN} while the server has no keys. Routes that are not
 * in any role ({@code /health}, unknown paths) are open to every authenticated caller, so that they get their
 * 200, 404 or 405.
 */
public record Principal(ApiKey key, Role role) {
    /** No keys configured: everything is allowed. */
    public static final Principal OPEN = new Principal(null, Role.ADMIN);

    public String keyName() {
        return key == null ? null : key.name();
    }

    public boolean mayUseRoute(String route) {
        return !Role.ROUTES.contains(route) || route.equals("/health") || role.allowsRoute(route);
    }

    /** The role allows the model and, when the key names models, the key does too. */
    public boolean mayUseModel(String model) {
        if (key != null && !key.models().isEmpty() && !key.models().contains(model)) return false;
        return role.allowsModel(model);
    }
}
