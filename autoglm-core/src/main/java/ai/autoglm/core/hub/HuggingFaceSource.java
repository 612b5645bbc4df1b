package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Hugging Face Hub protocol, as huggingface_hub speaks it:
 * <ul>
 * <li>listing: {@code GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true} (hf_api.py {@code model_info}
 * with {@code files_metadata=True}): {@code sha} is the commit, {@code siblings[].rfilename/size/blobId} and
 * {@code lfs.sha256} for LFS files;</li>
 * <li>per file: {@code HEAD {endpoint}/{repo}/resolve/{commit}/{file}} without following redirects except relative
 * ones (file_download.py {@code get_hf_file_metadata}): {@code X-Repo-Commit}, {@code X-Linked-Etag} (else
 * {@code ETag}, quotes and {@code W/} stripped as {@code _normalize_etag}), {@code X-Linked-Size} (else
 * {@code Content-Length}) and the CDN {@code Location}, which is then fetched without the token.</li>
 * </ul>
 */
public final class HuggingFaceSource implements ModelSource {
    private final HubHttp http;
    private final URI endpoint;

    HuggingFaceSource(HubHttp http, URI endpoint) {
        this.http = http;
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return "huggingface";
    }

    @Override
    public RepoListing list(ModelRef ref) throws IOException {
        URI uri = URI.create(endpoint + "/api/models/" + ref.repo() + "/revision/" + enc(ref.revision()) + "?blobs=true");
        JsonNode info = http.json(uri, ref.repo());
        String commit = info.path("sha").asText(null);
        if (commit == null || !ModelRef.COMMIT.matcher(commit).matches()) {
            throw new HubException(ref.repo() + ": the hub's model info has no commit hash ('sha'): " + uri);
        }
        List<RemoteFile> files = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) {
            String name = s.path("rfilename").asText(null);
            if (name == null) continue;
            JsonNode lfs = s.path("lfs");
            String etag = lfs.isObject() ? lfs.path("sha256").asText(null) : s.path("blobId").asText(null);
            long size = lfs.isObject() ? lfs.path("size").asLong(-1) : s.path("size").asLong(-1);
            files.add(new RemoteFile(name, size, etag != null ? etag.toLowerCase(Locale.ROOT) : null));
        }
        JsonNode gated = info.path("gated");
        return new RepoListing(commit, files, gated.isTextual() || gated.asBoolean(false));
    }

    @Override
    public FileLocation locate(ModelRef ref, String commit, RemoteFile file) throws IOException {
        URI uri = URI.create(endpoint + "/" + ref.repo() + "/resolve/" + commit + "/" + path(file.name()));
        for (int hops = 0; hops < 5; hops++) {
            HttpResponse<byte[]> r = http.metadata("HEAD", uri, true);
            int status = r.statusCode();
            String location = null;
            if (HubHttp.isRedirect(status)) {
                URI to = uri.resolve(r.headers().firstValue("Location").orElseThrow(
                        () -> new HubException(file.name() + ": redirect without Location from " + endpoint.getHost())));
                if (to.getAuthority().equals(uri.getAuthority()) && r.headers().firstValue("X-Linked-Etag").isEmpty()) {
                    uri = to; // a renamed repository: follow, as follow_relative_redirects does
                    continue;
                }
                location = to.toString();
            } else {
                http.check(status, uri, ref.repo() + "/" + file.name());
            }
            String repoCommit = r.headers().firstValue("X-Repo-Commit").orElse(null);
            if (repoCommit != null && !repoCommit.equals(commit)) {
                throw new HubException(file.name() + ": the hub answered commit " + repoCommit + " for a request of commit " + commit);
            }
            String etag = normalizeEtag(r.headers().firstValue("X-Linked-Etag").or(() -> r.headers().firstValue("ETag")).orElse(null));
            if (etag == null) etag = file.etag();
            if (etag == null) {
                // file_download.py: "Distant resource does not have an ETag, we won't be able to reliably ensure reproducibility."
                throw new HubException(file.name() + ": the hub sent no ETag, so the file cannot be checked");
            }
            if (file.etag() != null && !file.etag().equals(etag)) {
                throw new HubException(file.name() + ": the hub's listing says " + file.etag() + " but the file answers " + etag);
            }
            long size = r.headers().firstValue("X-Linked-Size").map(Long::parseLong)
                    .orElse(file.size() >= 0 ? file.size() : r.headers().firstValueAsLong("Content-Length").orElse(-1));
            URI target = location != null ? URI.create(location) : uri;
            // file_download.py: "Remove authorization header when downloading a LFS blob" (the CDN URL is signed)
            boolean sameHost = target.getAuthority().equals(endpoint.getAuthority());
            return new FileLocation(target, etag, size, sameHost);
        }
        throw new HubException(file.name() + ": too many redirects");
    }

    /** file_download.py {@code _normalize_etag}: strip a weak-validator prefix and the quotes. */
    static String normalizeEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.isEmpty() ? null : e.toLowerCase(Locale.ROOT);
    }

    /** huggingface_hub hf_hub_url: the revision quoted as one segment, the file name with its '/' kept. */
    static String path(String file) {
        StringBuilder b = new StringBuilder();
        for (String seg : file.split("/", -1)) {
            if (!b.isEmpty()) b.append('/');
            b.append(enc(seg));
        }
        return b.toString();
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
