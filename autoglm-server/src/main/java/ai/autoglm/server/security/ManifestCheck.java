package ai.autoglm.server.security;

import ai.autoglm.core.format.LoadedFiles;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The load-time half of a signed model's check: every file the loader maps or reads (the GGUF file, safetensors
 * shards, config.json, tokenizer files, the chat template, a LoRA adapter's files) must belong to one of the
 * verified manifests, and the bytes the loader got (the mapping itself, not a second read of the path) must have the
 * manifest's size and SHA-256. So a file renamed over a verified one between {@link ModelSignatures#verifyManifest}
 * and the load is refused rather than served; see {@link LoadedFiles}.
 *
 * <p>Not covered: a file overwritten in place after it was mapped. The mapping is shared with the page cache, so the
 * new bytes are what the model computes with; docs/security.md ("Signed models") says so and how to avoid it.
 */
public final class ManifestCheck implements LoadedFiles.Check {
    /** One signed part of what is loaded: the model, or its adapter. */
    public record Part(String what, Path path, ModelSignatures.Verified verified) {
    }

    private record Root(Part part, Path abs, boolean directory, Map<String, ModelFiles.Entry> entries) {
    }

    private final List<Root> roots = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();

    public ManifestCheck(List<Part> parts) {
        for (Part p : parts) {
            Map<String, ModelFiles.Entry> byPath = new HashMap<>();
            for (ModelFiles.Entry e : p.verified().files()) byPath.put(e.path(), e);
            roots.add(new Root(p, p.path().toAbsolutePath().normalize(), Files.isDirectory(p.path()), byPath));
        }
    }

    @Override
    public void check(Path file, MemorySegment content) {
        Path abs = file.toAbsolutePath().normalize();
        for (Root r : roots) {
            String rel;
            if (!r.directory()) {
                if (!abs.equals(r.abs())) continue;
                rel = r.entries().size() == 1 ? r.entries().keySet().iterator().next() : abs.getFileName().toString();
            } else if (abs.startsWith(r.abs())) {
                rel = ModelFiles.relative(r.abs(), abs);
            } else {
                continue;
            }
            ModelFiles.Entry e = r.entries().get(rel);
            String where = r.part().what() + " " + r.part().path();
            if (e == null) throw new LoadedFiles.Refused(where + ": file " + rel + " is not in its signed manifest");
            if (content.byteSize() != e.size()) {
                throw new LoadedFiles.Refused(where + ": file " + rel + " changed since it was signed (" + content.byteSize()
                        + " bytes loaded, signed " + e.size() + ")");
            }
            if (!FileDigest.sha256(content).equals(e.sha256())) {
                throw new LoadedFiles.Refused(where + ": file " + rel + " changed since it was signed (SHA-256 of the bytes loaded differs)");
            }
            seen.add(r.part().what() + "\0" + rel);
            return;
        }
        throw new LoadedFiles.Refused(file + " is read by the loader but belongs to no signed manifest");
    }

    /**
     * Fails closed when a part's weights were never shown to this check (a loader path that bypassed it): each part
     * must have had at least one weight file (GGUF or safetensors) hashed as loaded.
     */
    public void requireWeightsChecked() {
        for (Root r : roots) {
            boolean any = r.entries().keySet().stream().anyMatch(rel -> (rel.endsWith(".gguf") || rel.endsWith(".safetensors") || !r.directory())
                    && seen.contains(r.part().what() + "\0" + rel));
            if (!any) throw new LoadedFiles.Refused(r.part().what() + " " + r.part().path() + ": its weights were not verified as they were loaded");
        }
    }

    /**
     * The served content's digest (the response cache's key): the model's {@link ModelFiles#contentDigest}, combined
     * with the adapter's when there is one (the same base with another adapter answers differently).
     */
    public String contentDigest() {
        if (roots.size() == 1) return roots.getFirst().part().verified().contentDigest();
        StringBuilder sb = new StringBuilder();
        for (Root r : roots) sb.append(r.part().what()).append('\0').append(r.part().verified().contentDigest()).append('\n');
        return FileDigest.sha256(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** One line for the log: who signed each part, and how many files were hashed as loaded. */
    public String describe() {
        StringBuilder sb = new StringBuilder("verified: ");
        for (Root r : roots) {
            if (sb.length() > 10) sb.append(", ");
            sb.append(r.part().what()).append(" signed by key ").append(r.part().verified().keyId());
        }
        return sb.append("; ").append(seen.size()).append(" file(s) hashed as mapped or read by the loader").toString();
    }
}
