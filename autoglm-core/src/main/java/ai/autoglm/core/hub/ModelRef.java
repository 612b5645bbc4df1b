package ai.autoglm.core.hub;

import java.util.regex.Pattern;

/**
 * A model named by repository: {@code org/name}, optionally {@code @revision} (branch, tag or 40-hex commit) and
 * {@code :QUANT} choosing one GGUF file of a GGUF repository (the Ollama / llama.cpp {@code -hf repo:Q4_K_M} convention).
 *
 * @param repo     "org/name" on the source
 * @param revision branch, tag or commit; "main" by default
 * @param quant    the GGUF quantization to pick (matched case-insensitively against file names), or null
 */
public record ModelRef(String repo, String revision, String quant) {
    /** Hub repository ids: huggingface_hub utils/_validators.py REPO_ID_REGEX (one optional namespace, name characters). */
    private static final Pattern REPO_ID = Pattern.compile("^(\\b[\\w\\-.]+\\b/)?\\b[\\w\\-.]{1,96}\\b$");
    private static final Pattern REVISION = Pattern.compile("^[\\w\\-./]{1,200}$");
    private static final Pattern QUANT = Pattern.compile("^[A-Za-z0-9_]{1,32}$");
    public static final Pattern COMMIT = Pattern.compile("^[0-9a-f]{40}$");
    public static final String DEFAULT_REVISION = "main";

    public ModelRef {
        if (repo == null || !REPO_ID.matcher(repo).matches() || repo.contains("..") || repo.contains("--")) {
            throw new IllegalArgumentException("'" + repo + "' is not a repository id (expected org/name)");
        }
        if (revision == null || revision.isEmpty()) revision = DEFAULT_REVISION;
        if (!REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw new IllegalArgumentException("'" + revision + "' is not a revision (a branch, tag or commit)");
        }
        if (quant != null && !QUANT.matcher(quant).matches()) {
            throw new IllegalArgumentException("'" + quant + "' is not a GGUF quantization name (e.g. Q4_K_M)");
        }
    }

    /** True when {@code s} has the shape of {@code org/name[@rev][:QUANT]} (not of a file path). */
    public static boolean looksLikeRepo(String s) {
        if (s.startsWith("/") || s.startsWith(".") || s.startsWith("~") || s.contains("\\")) return false;
        String base = strip(s);
        int slash = base.indexOf('/');
        return slash > 0 && slash == base.lastIndexOf('/') && REPO_ID.matcher(base).matches();
    }

    /** Parses {@code org/name[@revision][:QUANT]}. */
    public static ModelRef parse(String s) {
        String rest = s.strip();
        String quant = null;
        int colon = rest.lastIndexOf(':');
        if (colon > 0) {
            quant = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        String revision = null;
        int at = rest.indexOf('@');
        if (at > 0) {
            revision = rest.substring(at + 1);
            rest = rest.substring(0, at);
        }
        return new ModelRef(rest, revision, quant);
    }

    private static String strip(String s) {
        int colon = s.lastIndexOf(':');
        if (colon > 0) s = s.substring(0, colon);
        int at = s.indexOf('@');
        return at > 0 ? s.substring(0, at) : s;
    }

    /** The cache folder name: huggingface_hub file_download.py {@code repo_folder_name}: "models--org--name". */
    public String folderName() {
        return "models--" + repo.replace("/", "--");
    }

    public boolean revisionIsCommit() {
        return COMMIT.matcher(revision).matches();
    }

    @Override
    public String toString() {
        return repo + (revision.equals(DEFAULT_REVISION) ? "" : "@" + revision) + (quant != null ? ":" + quant : "");
    }
}
