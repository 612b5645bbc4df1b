package ai.autoglm.core.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Re-checks a cached model's files: every snapshot file is hashed and compared with the hash it is named by, its
 * blob name (SHA-256 for LFS files, git blob SHA-1 otherwise, as the hub published them), or for a file that is not
 * a link, the hash our pull record kept.
 */
public final class CacheVerifier {
    private CacheVerifier() {
    }

    /** One file's outcome. */
    public record Check(String file, String expected, String actual, boolean ok) {
    }

    public static List<Check> verify(PulledModel m, ModelPuller.PullRecord record) throws IOException {
        Map<String, String> recorded = record == null ? Map.of()
                : record.files().stream().collect(Collectors.toMap(RemoteFile::name, RemoteFile::etag, (a, b) -> a));
        List<Check> out = new ArrayList<>();
        for (String f : m.files()) {
            Path p = m.snapshot().resolve(f);
            String expected = HfCache.etagOf(p);
            if (expected == null) expected = recorded.get(f);
            if (!Files.exists(p)) {
                out.add(new Check(f, expected, "missing", false));
                continue;
            }
            if (expected == null) {
                out.add(new Check(f, "unknown", "not checked", false));
                continue;
            }
            String actual = FileFetcher.hashFile(p, expected.length());
            out.add(new Check(f, expected, actual, actual.equalsIgnoreCase(expected)));
        }
        return out;
    }

}
