package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A local stand-in for the Hugging Face Hub (and ModelScope) speaking the subset of the protocol the client uses,
 * written from huggingface_hub's own client code and the hub's documented answers, not from our client:
 * <ul>
 * <li>{@code GET /api/models/{repo}/revision/{rev}?blobs=true}: {@code sha}, {@code siblings[]} with
 * {@code rfilename}, {@code size}, {@code blobId} (git blob sha1) and {@code lfs.sha256/size} for LFS files;</li>
 * <li>{@code HEAD|GET /{repo}/resolve/{rev}/{file}}: small files answered here with {@code ETag} = git sha1 and
 * {@code X-Repo-Commit}; LFS files (safetensors, gguf, bin) answered with a 302 to the "CDN", a second server on
 * another loopback address (127.0.0.2), with {@code X-Linked-Etag} = sha256 and {@code X-Linked-Size};</li>
 * <li>the CDN serves {@code /blobs/{sha256}} with {@code Range} (206 + Content-Range), and can drop the connection
 * once mid-file or flip a byte, to test resume and hash checks;</li>
 * <li>ModelScope: {@code /api/v1/models/{repo}/repo/files} and {@code /api/v1/models/{repo}/repo?FilePath=};</li>
 * <li>gated repositories answer 401 without {@code Authorization: Bearer <token>}.</li>
 * </ul>
 * It counts requests and the bytes it served per file.
 */
public final class LocalHub implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A repository: its commit, files, and the token a gated one wants (null: public). */
    public record Repo(String id, String commit, Map<String, byte[]> files, String token) {
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicInteger cdnRequestsWithAuth = new AtomicInteger();
    public final Map<String, AtomicLong> servedBytes = new ConcurrentHashMap<>();
    /** sha256 of a blob -> bytes after which the CDN drops the connection, once. */
    public final Map<String, Long> dropOnceAfter = new ConcurrentHashMap<>();
    /** sha256 of blobs whose served copy has one byte flipped. */
    public final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    /** sha256 of a blob -> the size the hub announces for it (model info lfs.size, X-Linked-Size) instead of its real one. */
    public final Map<String, Long> announcedSize = new ConcurrentHashMap<>();
    /** A pause per CDN write (to let two pulls overlap). */
    public volatile long writeDelayMillis;

    public LocalHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.setExecutor(Executors.newCachedThreadPool());
        cdn.setExecutor(Executors.newCachedThreadPool());
        hub.start();
        cdn.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    /** Publishes the files of {@code dir} (top level and below) as repository {@code id} at a commit derived from them. */
    public Repo publish(String id, Path dir, String token) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return publish(id, files, token);
    }

    public Repo publish(String id, Map<String, byte[]> files, String token) {
        MessageDigest md = sha1();
        for (var e : files.entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update(gitSha1(e.getValue()).getBytes(StandardCharsets.UTF_8));
        }
        Repo r = new Repo(id, HexFormat.of().formatHex(md.digest()), Map.copyOf(files), token);
        repos.put(id, r);
        for (byte[] b : files.values()) blobs.put(sha256(b), b);
        return r;
    }

    public static boolean isLfs(String name) {
        return name.endsWith(".safetensors") || name.endsWith(".gguf") || name.endsWith(".bin");
    }

    public long served(byte[] content) {
        AtomicLong a = servedBytes.get(sha256(content));
        return a == null ? 0 : a.get();
    }

    private void handleHub(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        try (ex) {
            String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
            if (path.startsWith("/api/v1/models/")) {
                modelScope(ex, path.substring("/api/v1/models/".length()));
                return;
            }
            if (path.startsWith("/api/models/")) {
                String rest = path.substring("/api/models/".length());
                int rev = rest.indexOf("/revision/");
                Repo r = repos.get(rest.substring(0, rev));
                if (r == null || !authorized(ex, r)) {
                    deny(ex, r);
                    return;
                }
                ObjectNode n = JSON.createObjectNode().put("id", r.id()).put("sha", r.commit());
                n.put("gated", r.token() != null ? "manual" : "false");
                if (r.token() == null) n.put("gated", false);
                ArrayNode sib = n.putArray("siblings");
                for (var e : r.files().entrySet()) {
                    ObjectNode s = sib.addObject().put("rfilename", e.getKey()).put("size", isLfs(e.getKey()) ? 134 : e.getValue().length)
                            .put("blobId", gitSha1(e.getValue()));
                    if (isLfs(e.getKey())) s.putObject("lfs").put("sha256", sha256(e.getValue()))
                            .put("size", announcedSize.getOrDefault(sha256(e.getValue()), (long) e.getValue().length)).put("pointerSize", 134);
                }
                send(ex, 200, "application/json", JSON.writeValueAsBytes(n));
                return;
            }
            // /{org}/{name}/resolve/{rev}/{file}
            String[] p = path.substring(1).split("/", 5);
            if (p.length < 5 || !p[2].equals("resolve")) {
                send(ex, 404, "text/plain", "not found".getBytes());
                return;
            }
            Repo r = repos.get(p[0] + "/" + p[1]);
            if (r == null || !authorized(ex, r)) {
                deny(ex, r);
                return;
            }
            byte[] content = r.files().get(p[4]);
            if (content == null || !(p[3].equals("main") || p[3].equals(r.commit()))) {
                ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
                send(ex, 404, "text/plain", "Entry not found".getBytes());
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", r.commit());
            if (isLfs(p[4])) {
                String sha = sha256(content);
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Long.toString(announcedSize.getOrDefault(sha, (long) content.length)));
                ex.getResponseHeaders().set("ETag", "\"" + gitSha1(content) + "\"");
                ex.getResponseHeaders().set("Location", "http://127.0.0.2:" + cdn.getAddress().getPort() + "/blobs/" + sha + "?signed=1");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + gitSha1(content) + "\"");
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            serveRange(ex, content);
        }
    }

    private void modelScope(HttpExchange ex, String rest) throws IOException {
        String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
        Map<String, String> q = new LinkedHashMap<>();
        for (String kv : query.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) q.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        if (rest.endsWith("/repo/files")) {
            Repo r = repos.get(rest.substring(0, rest.length() - "/repo/files".length()));
            if (r == null) {
                send(ex, 404, "application/json", "{\"Code\":404,\"Message\":\"not found\"}".getBytes());
                return;
            }
            ObjectNode n = JSON.createObjectNode().put("Code", 200);
            ArrayNode files = n.putObject("Data").putArray("Files");
            for (var e : r.files().entrySet()) {
                files.addObject().put("Name", e.getKey().substring(e.getKey().lastIndexOf('/') + 1)).put("Path", e.getKey()).put("Type", "blob")
                        .put("Size", e.getValue().length).put("Sha256", sha256(e.getValue())).put("Revision", r.commit());
            }
            send(ex, 200, "application/json", JSON.writeValueAsBytes(n));
            return;
        }
        if (rest.endsWith("/repo")) {
            Repo r = repos.get(rest.substring(0, rest.length() - "/repo".length()));
            byte[] content = r == null ? null : r.files().get(q.get("FilePath"));
            if (content == null) {
                send(ex, 404, "text/plain", "not found".getBytes());
                return;
            }
            serveRange(ex, content);
            return;
        }
        send(ex, 404, "text/plain", "not found".getBytes());
    }

    private void handleCdn(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        try (ex) {
            if (ex.getRequestHeaders().containsKey("Authorization")) cdnRequestsWithAuth.incrementAndGet();
            String path = ex.getRequestURI().getPath();
            byte[] content = path.startsWith("/blobs/") ? blobs.get(path.substring("/blobs/".length())) : null;
            if (content == null) {
                send(ex, 404, "text/plain", "no such blob".getBytes());
                return;
            }
            serveRange(ex, content);
        }
    }

    private void serveRange(HttpExchange ex, byte[] content) throws IOException {
        String sha = sha256(content);
        byte[] body = content;
        if (corrupt.contains(sha)) {
            body = content.clone();
            body[body.length / 2] ^= 0x01;
        }
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Long.parseLong(range.substring(6, range.length() - 1));
            if (from >= body.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + body.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        }
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(200, -1);
            return;
        }
        int len = (int) (body.length - from);
        ex.sendResponseHeaders(range != null ? 206 : 200, len);
        Long drop = dropOnceAfter.remove(sha);
        AtomicLong counter = servedBytes.computeIfAbsent(sha, k -> new AtomicLong());
        OutputStream out = ex.getResponseBody();
        int pos = (int) from;
        int step = 64 * 1024;
        while (pos < body.length) {
            int n = Math.min(step, body.length - pos);
            if (drop != null && pos - from + n > drop) n = (int) Math.max(0, drop - (pos - from));
            if (n > 0) {
                out.write(body, pos, n);
                out.flush();
                counter.addAndGet(n);
                pos += n;
            }
            if (drop != null && pos - from >= drop) {
                // drop the connection mid-file: the client got `drop` bytes of a longer Content-Length
                ex.getHttpContext().getServer(); // (keeps the exchange referenced)
                throw new IOException("dropped on purpose");
            }
            if (writeDelayMillis > 0) {
                try {
                    Thread.sleep(writeDelayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static boolean authorized(HttpExchange ex, Repo r) {
        if (r.token() == null) return true;
        return ("Bearer " + r.token()).equals(ex.getRequestHeaders().getFirst("Authorization"));
    }

    private static void deny(HttpExchange ex, Repo r) throws IOException {
        if (r == null) {
            ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
            send(ex, 404, "application/json", "{\"error\":\"Repository not found\"}".getBytes());
        } else {
            ex.getResponseHeaders().set("X-Error-Code", "GatedRepo");
            send(ex, 401, "application/json", "{\"error\":\"Access to model is restricted\"}".getBytes());
        }
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** git's blob id: sha1("blob " + size + "\0" + content), computed here independently of the client. */
    public static String gitSha1(byte[] b) {
        MessageDigest md = sha1();
        md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(md.digest(b));
    }

    private static MessageDigest sha1() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public List<String> repoIds() {
        return List.copyOf(repos.keySet());
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
