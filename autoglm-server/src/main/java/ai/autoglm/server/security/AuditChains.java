package ai.autoglm.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Replicas write one audit chain each, in {@code audit/<replica-id>/} (see {@code gateway.SharedState}): a directory with no
 * trail of its own but subdirectories holding trails is a set of chains, each verified on its own (a chain is one
 * writer's sequence; interleaving two would break both).
 */
public final class AuditChains {
    /** The name of the paths given that are one chain as before (files, or a directory with a trail of its own). */
    public static final String SINGLE = "";

    private AuditChains() {
    }

    /** The paths grouped by chain: replica id → its directory, and {@link #SINGLE} → every other path, in order. */
    public static Map<String, List<Path>> split(List<Path> paths) {
        Map<String, List<Path>> out = new TreeMap<>();
        for (Path p : paths) {
            List<Path> replicas = Files.isDirectory(p) && !holdsTrail(p) ? replicaDirectories(p) : List.of();
            if (replicas.isEmpty()) {
                out.computeIfAbsent(SINGLE, k -> new ArrayList<>()).add(p);
            } else {
                for (Path r : replicas) out.computeIfAbsent(r.getFileName().toString(), k -> new ArrayList<>()).add(r);
            }
        }
        return out;
    }

    private static boolean holdsTrail(Path dir) {
        try {
            return Files.exists(dir.resolve(AuditLog.LIVE)) || Files.exists(dir.resolve(AuditAnchor.FILE)) || !AuditFiles.rotated(dir).isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> replicaDirectories(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).filter(AuditChains::holdsTrail).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }
}
