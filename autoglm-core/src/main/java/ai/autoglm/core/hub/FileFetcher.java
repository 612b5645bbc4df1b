package ai.autoglm.core.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.LongConsumer;

/**
 * Downloads one file into {@code blobs/<etag>.incomplete}, resuming what is there with {@code Range: bytes=N-} (as
 * file_download.py {@code http_get(resume_size=...)}), retrying a dropped connection a bounded number of times, and
 * hashing as it writes; the caller renames the file to its blob name only after {@link #download} returned, i.e.
 * after the hash matched. A killed process leaves the {@code .incomplete} file, which the next pull resumes.
 */
final class FileFetcher {
    /** Bytes written per read; a dropped connection loses at most what was in flight (less than one such chunk). */
    static final int CHUNK = 1 << 20;

    private final HubHttp http;

    FileFetcher(HubHttp http) {
        this.http = http;
    }

    /**
     * Fetches {@code loc} into {@code partial} until it holds {@code loc.size()} bytes whose hash is {@code loc.etag()}.
     * A mismatch deletes the partial file and throws {@link HubException.HashMismatch}.
     *
     * @param progress told the running byte count of the file (including a resumed prefix)
     */
    void download(String name, FileLocation loc, Path partial, int maxAttempts, LongConsumer progress) throws IOException {
        Files.createDirectories(partial.getParent());
        IOException last = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            try {
                if (fetchOnce(loc, partial, progress)) {
                    verify(name, loc, partial);
                    return;
                }
            } catch (HubException e) {
                throw e;
            } catch (InterruptedIOException e) {
                throw e; // Ctrl-C / cancel: leave the partial file for the next pull
            } catch (IOException e) {
                last = e; // dropped connection: resume from what is on disk
            }
        }
        throw new HubException(name + ": download failed after " + maxAttempts + " attempt(s); the partial file "
                + partial + " is kept and the next pull resumes it: " + (last != null ? last.getMessage() : "incomplete"), last);
    }

    /** One GET from the current length of {@code partial}; true when the file is then complete. */
    private boolean fetchOnce(FileLocation loc, Path partial, LongConsumer progress) throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (loc.size() >= 0 && have > loc.size()) {
            Files.delete(partial); // longer than the file: not ours to trust
            have = 0;
        }
        progress.accept(have);
        if (loc.size() >= 0 && have == loc.size()) return true;
        URI uri = loc.uri();
        boolean token = loc.sendToken();
        for (int hops = 0; hops < 5; hops++) {
            HttpRequest.Builder b = http.request(uri, token).GET();
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            HttpResponse<InputStream> r = http.stream(b.build());
            int status = r.statusCode();
            if (HubHttp.isRedirect(status)) {
                r.body().close();
                URI to = uri.resolve(r.headers().firstValue("Location").orElseThrow(() -> new HubException("redirect without Location from " + loc.uri().getHost())));
                if (!to.getAuthority().equals(uri.getAuthority())) token = false; // never hand the token to another host
                uri = to;
                continue;
            }
            if (status == 416) { // our partial file does not fit the resource: start over
                r.body().close();
                Files.deleteIfExists(partial);
                return false;
            }
            boolean append = status == 206 && have > 0;
            if (status != 200 && status != 206) {
                r.body().close();
                http.check(status, uri, "download");
            }
            if (status == 206) {
                long start = r.headers().firstValue("Content-Range").map(FileFetcher::rangeStart).orElse(-1L);
                if (start != have) throw new HubException("the server resumed at byte " + start + " instead of " + have + " (" + uri.getHost() + ")");
            }
            long written = append ? have : 0;
            try (InputStream in = r.body();
                 FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[CHUNK];
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (Thread.currentThread().isInterrupted()) throw new InterruptedIOException("download cancelled");
                    out.write(ByteBuffer.wrap(buf, 0, n));
                    written += n;
                    progress.accept(written);
                }
                out.force(true);
            }
            if (loc.size() >= 0 && written < loc.size()) throw new IOException("connection closed at byte " + written + " of " + loc.size());
            return true;
        }
        throw new HubException("too many redirects from " + loc.uri());
    }

    private static long rangeStart(String contentRange) {
        // RFC 9110 14.4: "bytes 21010-47021/47022"
        String s = contentRange.strip();
        if (!s.startsWith("bytes ")) return -1;
        int dash = s.indexOf('-');
        try {
            return dash > 6 ? Long.parseLong(s.substring(6, dash).strip()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Hashes the finished file against the etag; deletes it when it does not match. */
    static void verify(String name, FileLocation loc, Path partial) throws IOException {
        String actual = hashFile(partial, loc.etag().length());
        if (!actual.equalsIgnoreCase(loc.etag())) {
            Files.deleteIfExists(partial);
            throw new HubException.HashMismatch(name + ": downloaded content hashes to " + actual + " but the hub published "
                    + loc.etag() + "; the file was deleted and nothing was linked into the snapshot (run the pull again)");
        }
    }

    /**
     * The hash a blob is named by: SHA-256 for a 64-hex etag (LFS), git's blob SHA-1 ({@code sha1("blob <size>\0" +
     * content)}, git's object format) for a 40-hex one.
     */
    static String hashFile(Path file, int etagLength) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(etagLength == 40 ? "SHA-1" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (etagLength == 40) md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            while (ch.read(buf) > 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
