package ai.autoglm.core.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps a model signed with {@code autoglm sign} verifiable after a pull. The signature manifest (server gateway
 * {@code ModelFiles}: {@code autoglm-manifest.json} in a Hugging Face directory, {@code MODEL.gguf.manifest.json}
 * beside a GGUF file) lists every file of the signed model and a verifier refuses a model with a listed file missing,
 * so the pull must fetch the manifest and every repository file it names, even those {@link FileSelection} would
 * skip (a README, a {@code .bin} copy). The names are repeated here because the core module cannot see the gateway's.
 */
final class SignedManifests {
    /** {@code ModelFiles.DIRECTORY_MANIFEST}. */
    static final String DIRECTORY_MANIFEST = "autoglm-manifest.json";
    /** {@code ModelFiles.FILE_MANIFEST_SUFFIX}. */
    static final String FILE_MANIFEST_SUFFIX = ".manifest.json";

    private SignedManifests() {
    }

    /**
     * {@code selected} plus the manifests that sign it: the directory manifest of a safetensors selection, the
     * {@code .manifest.json} beside each selected GGUF file; in the listing's order, without duplicates.
     */
    static List<RemoteFile> withManifests(List<RemoteFile> selected, RepoListing listing) {
        Map<String, RemoteFile> byName = new LinkedHashMap<>();
        for (RemoteFile f : listing.files()) byName.put(f.name(), f);
        Map<String, RemoteFile> out = new LinkedHashMap<>();
        for (RemoteFile f : selected) out.put(f.name(), f);
        boolean directory = selected.stream().anyMatch(f -> f.name().endsWith(".safetensors"));
        if (directory && byName.containsKey(DIRECTORY_MANIFEST)) out.putIfAbsent(DIRECTORY_MANIFEST, byName.get(DIRECTORY_MANIFEST));
        for (RemoteFile f : selected) {
            RemoteFile m = byName.get(f.name() + FILE_MANIFEST_SUFFIX);
            if (f.name().endsWith(".gguf") && m != null) out.putIfAbsent(m.name(), m);
        }
        return new ArrayList<>(out.values());
    }

    /** The directory manifest among {@code files}, if the model is a signed directory. */
    static Optional<RemoteFile> directoryManifest(List<RemoteFile> files) {
        return files.stream().filter(f -> f.name().equals(DIRECTORY_MANIFEST)).findFirst();
    }

    /**
     * {@code files} plus the repository files the (downloaded) directory manifest lists. A listed path the
     * repository does not have is left out: the verifier then names it as missing, which is the truth.
     */
    static List<RemoteFile> withListedFiles(List<RemoteFile> files, Path manifest, RepoListing listing) throws IOException {
        JsonNode root = HubHttp.JSON.readTree(manifest.toFile());
        Map<String, RemoteFile> byName = new LinkedHashMap<>();
        for (RemoteFile f : listing.files()) byName.put(f.name(), f);
        Map<String, RemoteFile> out = new LinkedHashMap<>();
        for (RemoteFile f : files) out.put(f.name(), f);
        for (JsonNode e : root.path("files")) {
            RemoteFile f = byName.get(e.path("path").asText(""));
            if (f != null) out.putIfAbsent(f.name(), f);
        }
        return new ArrayList<>(out.values());
    }
}
