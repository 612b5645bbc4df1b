package ai.autoglm.server.gateway;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a server without API keys ("open mode", the default {@code autoglm serve}) accepts from a browser's point of
 * view. Any web page the user visits can make the browser send requests to {@code http://127.0.0.1:8000}; two
 * checks keep such a page from using the models:
 * <ul>
 * <li><b>Host</b>: DNS rebinding points a name the attacker owns ({@code evil.example}) at 127.0.0.1, so the page's
 * requests are same-origin for the browser and it can read the answers; they still carry {@code Host: evil.example}.
 * Only loopback names ({@code localhost}, {@code *.localhost}, RFC 6761 §6.3), IP literals (no name, nothing to
 * rebind: a page addressed by IP has that IP as its origin) and the names in {@code security.allowed-hosts} are
 * accepted; others get 403 {@code host_not_allowed}.</li>
 * <li><b>Content-Type</b>: a cross-site "simple" request (no CORS preflight) can POST {@code text/plain},
 * form-encoded or multipart bodies, or no type at all; a JSON body then parsed anyway would run a generation for the
 * page. Bodies must be {@code application/json} (which needs a preflight, refused unless CORS allows the origin);
 * others get 415.</li>
 * </ul>
 * With keys neither check applies: a browser never adds an {@code Authorization} header on its own (no cookies or
 * ambient credentials are used), and a page that sets one triggers a preflight. Checking Host there too would only
 * break deployments reached through proxies and DNS names, for no protection.
 */
public final class OpenModeGuard {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final Set<String> allowedHosts;

    /** @param allowedHosts extra host names (without port) accepted in open mode */
    public OpenModeGuard(List<String> allowedHosts) {
        this.allowedHosts = allowedHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * @param hasBody whether the route reads a JSON body
     * @throws GatewayException 403 for a Host that is not allowed, 415 for a body that is not {@code application/json}
     */
    public void check(GatewayExchange ex, boolean hasBody) {
        String host = ex.header("Host");
        if (host != null && !allowed(hostName(host))) {
            throw new GatewayException(403, "invalid_request_error", "host_not_allowed", "Host '" + printable(host)
                    + "' is not accepted by a server without API keys (protection against DNS rebinding): use localhost or an IP address, "
                    + "add the name to security.allowed-hosts, or create an API key", Map.of());
        }
        if (hasBody && !isJson(ex.header("Content-Type"))) {
            String type = ex.header("Content-Type");
            throw new GatewayException(415, "invalid_request_error", "unsupported_media_type", "the request body must be sent as "
                    + "Content-Type: application/json" + (type == null ? " (none was given)" : ", not '" + printable(type) + "'"), Map.of());
        }
    }

    /** The host of a Host header value: without its port, brackets kept off an IPv6 literal. */
    static String hostName(String header) {
        String h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private boolean allowed(String host) {
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1); // "localhost." is "localhost"
        if (host.equals("localhost") || host.endsWith(".localhost") || allowedHosts.contains(host)) return true;
        return isIpLiteral(host);
    }

    private static boolean isIpLiteral(String host) {
        if (!IPV4.matcher(host).matches() && !(host.contains(":") && host.matches("[0-9a-f:.%a-z]+"))) return false;
        try {
            InetAddress.ofLiteral(host);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static boolean isJson(String contentType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).strip();
        return type.equalsIgnoreCase("application/json");
    }

    private static String printable(String s) {
        String p = s.replaceAll("[^\\x20-\\x7e]", "?");
        return p.length() > 100 ? p.substring(0, 100) + "..." : p;
    }
}
