package ai.autoglm.core.hub;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where models come from and where they are kept, read from the variables users of Python's
 * {@code huggingface_hub} already set, with its defaults (huggingface_hub {@code src/huggingface_hub/constants.py}):
 * {@code HF_ENDPOINT} (default https://huggingface.co), {@code HF_HOME} (default ~/.cache/huggingface, or
 * $XDG_CACHE_HOME/huggingface), {@code HF_HUB_CACHE} (default $HF_HOME/hub), {@code HF_TOKEN} (else the file
 * $HF_HOME/token that {@code huggingface-cli login} writes) and {@code HF_HUB_OFFLINE} (true for 1/ON/YES/TRUE, the
 * same truthy set as constants.py's {@code _is_true}).
 *
 * @param endpoint           the Hugging Face Hub (or a mirror such as hf-mirror.com)
 * @param modelScopeEndpoint ModelScope ({@code MODELSCOPE_ENDPOINT}, default https://www.modelscope.cn)
 * @param token              a Hugging Face access token, or null
 * @param hubCache           the Hugging Face cache ({@code models--org--name/{blobs,snapshots,refs}})
 * @param store              our own store for derived files and pull records ($AUTOGLM_STORE, default $HF_HOME/autoglm)
 * @param offline            no network at all: only what the cache holds
 * @param parallelism        files downloaded at once
 * @param maxAttempts        tries per file (a dropped connection resumes with a Range request); never unbounded
 */
public record HubSettings(URI endpoint, URI modelScopeEndpoint, String token, Path hubCache, Path store, boolean offline,
                          int parallelism, int maxAttempts) {
    /** huggingface_hub constants.py {@code ENV_VARS_TRUE_VALUES}. */
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    public HubSettings {
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        if (token != null && token.isBlank()) token = null;
    }

    /** The settings of this process's environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** The settings {@code env} (a map of environment variables) gives. */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        Path home = env.containsKey("HF_HOME") ? Path.of(env.get("HF_HOME"))
                : env.containsKey("XDG_CACHE_HOME") ? Path.of(env.get("XDG_CACHE_HOME"), "huggingface")
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        Path hubCache = env.containsKey("HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE")) : home.resolve("hub");
        String token = env.get("HF_TOKEN");
        if (token == null) token = readTokenFile(home.resolve("token"));
        Path store = env.containsKey("AUTOGLM_STORE") ? Path.of(env.get("AUTOGLM_STORE")) : home.resolve("autoglm");
        String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        String ms = env.getOrDefault("MODELSCOPE_ENDPOINT", "https://www.modelscope.cn");
        boolean offline = isTrue(env.get("HF_HUB_OFFLINE"));
        return new HubSettings(uri(endpoint), uri(ms), token, hubCache, store, offline, 4, 5);
    }

    static boolean isTrue(String v) {
        return v != null && TRUE_VALUES.contains(v.trim().toUpperCase(Locale.ROOT));
    }

    private static URI uri(String s) {
        String t = s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
        try {
            URI u = URI.create(t);
            if (u.getScheme() == null || u.getHost() == null) throw new IllegalArgumentException("no scheme or host");
            return u;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("endpoint '" + s + "' is not an http(s) URL: " + e.getMessage());
        }
    }

    private static String readTokenFile(Path f) {
        try {
            return Files.isRegularFile(f) ? Files.readString(f).strip() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    public HubSettings withOffline(boolean off) {
        return new HubSettings(endpoint, modelScopeEndpoint, token, hubCache, store, off, parallelism, maxAttempts);
    }

    public HubSettings withToken(String t) {
        return new HubSettings(endpoint, modelScopeEndpoint, t, hubCache, store, offline, parallelism, maxAttempts);
    }

    public HubSettings withMaxAttempts(int n) {
        return new HubSettings(endpoint, modelScopeEndpoint, token, hubCache, store, offline, parallelism, n);
    }

    @Override
    public String toString() {
        // never print the token
        return "HubSettings[endpoint=" + endpoint + ", cache=" + hubCache + ", store=" + store + ", offline=" + offline
                + ", token=" + (token != null ? "set" : "none") + "]";
    }
}
