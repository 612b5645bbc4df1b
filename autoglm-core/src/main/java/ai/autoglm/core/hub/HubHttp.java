package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The HTTP side of the hub clients (JDK {@link HttpClient}): redirects are never followed blindly (the caller decides,
 * as huggingface_hub's {@code _request_wrapper(follow_relative_redirects=True)}), offline mode refuses before a
 * socket is opened ({@code _raise_if_offline_mode_is_enabled}), and 401/403/404 become one clear error.
 */
public final class HubHttp {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
    private static final String USER_AGENT = "autoglm/0.1 (java)";

    private final HttpClient client;
    private final HubSettings settings;

    public HubHttp(HubSettings settings) {
        this.settings = settings;
        this.client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(15)).build();
    }

    public HubSettings settings() {
        return settings;
    }

    private void checkOnline(URI uri) throws HubException {
        if (settings.offline()) {
            throw new HubException.NotCached("offline (HF_HUB_OFFLINE=1 or --offline): not contacting " + uri.getHost()
                    + "; the model is not in the cache " + settings.hubCache());
        }
    }

    HttpRequest.Builder request(URI uri, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", USER_AGENT);
        // huggingface_hub utils/_headers.py build_hf_headers: "authorization: Bearer <token>"
        if (withToken && settings.token() != null) b.header("Authorization", "Bearer " + settings.token());
        return b;
    }

    /** A metadata request (HEAD or GET of JSON) without following redirects. */
    HttpResponse<byte[]> metadata(String method, URI uri, boolean withToken) throws IOException {
        checkOnline(uri);
        HttpRequest req = request(uri, withToken).timeout(METADATA_TIMEOUT).method(method, HttpRequest.BodyPublishers.noBody()).build();
        return send(req, HttpResponse.BodyHandlers.ofByteArray());
    }

    /** GET of JSON: follows relative redirects only (a renamed repository), then parses. */
    JsonNode json(URI uri, String what) throws IOException {
        for (int hops = 0; hops < 5; hops++) {
            HttpResponse<byte[]> r = metadata("GET", uri, true);
            if (isRedirect(r.statusCode())) {
                uri = sameHostRedirect(uri, r, what);
                continue;
            }
            check(r.statusCode(), uri, what);
            try {
                return JSON.readTree(r.body());
            } catch (IOException e) {
                throw new HubException(what + ": " + uri + " did not answer JSON: " + e.getMessage());
            }
        }
        throw new HubException(what + ": too many redirects from " + uri);
    }

    /** A body stream (downloads); the caller reads the status and headers. */
    HttpResponse<InputStream> stream(HttpRequest req) throws IOException {
        checkOnline(req.uri());
        return send(req, HttpResponse.BodyHandlers.ofInputStream());
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> h) throws IOException {
        try {
            return client.send(req, h);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while contacting " + req.uri().getHost());
        } catch (java.net.ConnectException e) {
            throw new HubException("cannot connect to " + req.uri().getScheme() + "://" + req.uri().getAuthority()
                    + " (" + e.getMessage() + "); set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use only the cache", e);
        }
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** The target of a redirect on the same host (relative Location); a redirect elsewhere is an error for metadata. */
    static URI sameHostRedirect(URI from, HttpResponse<?> r, String what) throws HubException {
        String loc = r.headers().firstValue("Location").orElseThrow(() -> new HubException(what + ": redirect without Location from " + from));
        URI to = from.resolve(loc);
        if (!to.getAuthority().equals(from.getAuthority())) throw new HubException(what + ": unexpected redirect from " + from + " to another host " + to.getHost());
        return to;
    }

    /** 401/403: gated or private; 404: no such repository, revision or file; other errors: the status. */
    void check(int status, URI uri, String what) throws HubException {
        if (status >= 200 && status < 300) return;
        if (status == 401 || status == 403) {
            throw new HubException.AccessDenied(what + ": access denied (HTTP " + status + ") by " + uri.getHost() + ": the repository is gated or private. "
                    + (settings.token() == null ? "Set HF_TOKEN to an access token (https://huggingface.co/settings/tokens) of an account that accepted its terms on the model page"
                    : "The token in HF_TOKEN has no access: accept the model's terms on its page with that account, or use another token"));
        }
        if (status == 404) throw new HubException(what + ": not found (HTTP 404) at " + uri + ": check the repository name and revision");
        throw new HubException(what + ": HTTP " + status + " from " + uri);
    }
}
