package ai.autoglm.core.hub;

/** What a pull reports as it goes (the CLI draws progress bars from it); called from the download threads. */
public interface PullListener {
    /** The files to fetch, before any is: their total size and what is already on disk (blobs and partial files). */
    default void planned(int files, long totalBytes, long alreadyBytes) {
    }

    /** A file starts (or resumes). */
    default void fileStarted(String name, long size) {
    }

    /** The file now holds {@code bytes}. */
    default void fileProgress(String name, long bytes) {
    }

    /** The file was checked and linked. */
    default void fileDone(String name) {
    }

    PullListener NONE = new PullListener() {
    };
}
