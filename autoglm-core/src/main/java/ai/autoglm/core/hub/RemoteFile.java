package ai.autoglm.core.hub;

/**
 * One file of a repository at a commit, as the source lists it.
 *
 * @param name repository path with '/' separators
 * @param size bytes (for LFS files the real file, not the pointer)
 * @param etag the content hash the cache names the blob by: the LFS sha256 (64 hex), or the git blob sha1 (40 hex)
 *             of a file stored in git itself (huggingface_hub file_download.py: "An object's ETag is: its git-sha1
 *             if stored in git, or its sha256 if stored in git-lfs"); null when the listing does not say
 */
public record RemoteFile(String name, long size, String etag) {
}
