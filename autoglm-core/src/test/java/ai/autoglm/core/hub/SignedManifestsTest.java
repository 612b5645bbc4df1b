package ai.autoglm.core.hub;

import ai.autoglm.core.format.hf.HfFixtures;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A signed repository (the signature manifest is one of its files) is pulled with the manifest and every file the
 * manifest lists, also those a plain pull skips (README.md), so the signature can be checked on the snapshot; files
 * it does not list (a .bin copy) are still skipped. (The signature itself is checked end to end in the CLI's
 * {@code SignedModelByNameTest}.)
 */
class SignedManifestsTest {
    @TempDir
    Path tmp;

    @Test
    void aSignedDirectoryIsPulledWithItsManifestAndEveryListedFile() throws Exception {
        Path repo = tmp.resolve("repo");
        HfFixtures.write(repo, HfFixtures.qwen2());
        Files.writeString(repo.resolve("README.md"), "# signed tiny qwen\n");
        List<String> listed;
        try (Stream<Path> s = Files.list(repo)) {
            listed = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        ObjectNode manifest = new ObjectMapper().createObjectNode().put("format", "autoglm-model-manifest").put("version", 1);
        ArrayNode files = manifest.putArray("files");
        for (String f : listed) files.addObject().put("path", f).put("size", Files.size(repo.resolve(f))).put("sha256", "00");
        Files.write(repo.resolve("autoglm-manifest.json"), new ObjectMapper().writeValueAsBytes(manifest));
        Files.write(repo.resolve("pytorch_model.bin"), new byte[4096]); // not signed, not needed: not fetched
        try (LocalHub hub = new LocalHub()) {
            hub.publish("test-org/signed", repo, null);
            HubSettings settings = new HubSettings(hub.endpoint(), hub.endpoint(), null, tmp.resolve("hf/hub"), tmp.resolve("hf/autoglm"), false, 4, 5);
            PulledModel m = new ModelPuller(settings).pull(ModelRef.parse("test-org/signed"), "huggingface", PullListener.NONE);
            assertThat(m.files()).contains("README.md", "autoglm-manifest.json").containsAll(listed).doesNotContain("pytorch_model.bin");
            assertThat(m.snapshot().resolve("README.md")).hasSameTextualContentAs(repo.resolve("README.md"));
            assertThat(Files.isSymbolicLink(m.snapshot().resolve("autoglm-manifest.json"))).isTrue();
            assertThat(hub.served(new byte[4096])).isZero();
            // found again offline with the same files
            PulledModel again = new ModelPuller(settings.withOffline(true)).resolve(ModelRef.parse("test-org/signed"), "huggingface", PullListener.NONE);
            assertThat(again.files()).containsExactlyInAnyOrderElementsOf(m.files());
        }
    }
}
