package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ModelScope (modelscope.cn), the hub users in mainland China reach: modelscope/hub/api.py {@code get_model_files}
 * lists {@code GET {endpoint}/api/v1/models/{repo}/repo/files?Revision={rev}&Recursive=true}
 * ({@code Data.Files[]} with {@code Path}, {@code Type} blob/tree, {@code Size}, {@code Sha256}, {@code Revision} =
 * the commit), and a file is {@code GET {endpoint}/api/v1/models/{repo}/repo?Revision={commit}&FilePath={path}}.
 * Every file carries its SHA-256, which names its blob in the same Hugging Face cache layout.
 */
public final class ModelScopeSource implements ModelSource {
    private final HubHttp http;
    private final URI endpoint;

    ModelScopeSource(HubHttp http, URI endpoint) {
        this.http = http;
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return "modelscope";
    }

    @Override
    public RepoListing list(ModelRef ref) throws IOException {
        // ModelScope's default branch is "master"; "main" (our default) means that
        String rev = ref.revision().equals(ModelRef.DEFAULT_REVISION) ? "master" : ref.revision();
        URI uri = URI.create(endpoint + "/api/v1/models/" + ref.repo() + "/repo/files?Revision=" + HuggingFaceSource.enc(rev) + "&Recursive=true");
        JsonNode root = http.json(uri, ref.repo());
        if (root.has("Code") && root.path("Code").asInt(200) != 200) {
            throw new HubException(ref.repo() + ": ModelScope answered " + root.path("Code").asText() + " " + root.path("Message").asText());
        }
        List<RemoteFile> files = new ArrayList<>();
        String commit = null;
        for (JsonNode f : root.path("Data").path("Files")) {
            if (!"blob".equals(f.path("Type").asText("blob"))) continue;
            String path = f.path("Path").asText(null);
            String sha = f.path("Sha256").asText(null);
            if (path == null) continue;
            files.add(new RemoteFile(path, f.path("Size").asLong(-1), sha != null && !sha.isEmpty() ? sha.toLowerCase(Locale.ROOT) : null));
            String c = f.path("Revision").asText(null);
            if (c != null && ModelRef.COMMIT.matcher(c).matches()) commit = c;
        }
        if (commit == null) throw new HubException(ref.repo() + ": ModelScope's file list names no commit (Revision) for " + rev);
        return new RepoListing(commit, files, false);
    }

    @Override
    public FileLocation locate(ModelRef ref, String commit, RemoteFile file) throws HubException {
        if (file.etag() == null || file.etag().length() != 64) throw new HubException(file.name() + ": ModelScope lists no SHA-256 for it, so it cannot be checked");
        URI uri = URI.create(endpoint + "/api/v1/models/" + ref.repo() + "/repo?Revision=" + commit + "&FilePath=" + HuggingFaceSource.enc(file.name()));
        return new FileLocation(uri, file.etag(), file.size(), true);
    }
}
