package ai.autoglm.core.hub;

import java.util.List;

/** A repository at one commit: the 40-hex commit the revision resolved to and its files. */
public record RepoListing(String commit, List<RemoteFile> files, boolean gated) {
    public RepoListing {
        files = List.copyOf(files);
    }
}
