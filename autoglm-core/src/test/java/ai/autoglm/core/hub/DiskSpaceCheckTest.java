package ai.autoglm.core.hub;

import ai.autoglm.core.format.hf.HfFixtures;
import ai.autoglm.core.testing.ExternalReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The free-space check before a pull, on a real small file system (a tmpfs, so the free space is known and real):
 * a hub announcing a file larger than the room left gets one error naming both sizes, before any byte is fetched and
 * without creating anything in the cache; the same model at its real size pulls onto that disk.
 */
class DiskSpaceCheckTest {
    @TempDir
    Path tmp;

    @Test
    void aModelLargerThanTheFreeSpaceIsRefusedBeforeAnyByteAndLeavesNothing() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("small-disk"));
        // 300 MiB: room for the margin the check keeps (256 MiB) and the tiny model, not for 100 MB more
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", mnt.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        boolean mounted = p.waitFor() == 0;
        ExternalReference.require(mounted, "the disk-space check needs a small tmpfs (mount needs root; running as "
                + System.getProperty("user.name") + "): " + out);
        try (LocalHub hub = new LocalHub()) {
            Path repo = tmp.resolve("repo");
            HfFixtures.write(repo, HfFixtures.qwen2());
            hub.publish("test-org/tiny-qwen", repo, null);
            byte[] weights = Files.readAllBytes(repo.resolve("model.safetensors"));
            long announced = 100_000_000L;
            hub.announcedSize.put(LocalHub.sha256(weights), announced);
            long expectedMissing = announced;
            try (Stream<Path> s = Files.list(repo)) {
                for (Path f : s.toList()) if (!f.getFileName().toString().equals("model.safetensors")) expectedMissing += Files.size(f);
            }
            Path hf = mnt.resolve("hf");
            HubSettings settings = new HubSettings(hub.endpoint(), hub.endpoint(), null, hf.resolve("hub"), hf.resolve("autoglm"), false, 4, 5);
            long free = Files.getFileStore(mnt).getUsableSpace();
            assertThat(free).isLessThanOrEqualTo(300L << 20);

            assertThatThrownBy(() -> new ModelPuller(settings).pull(ModelRef.parse("test-org/tiny-qwen"), "huggingface", PullListener.NONE))
                    .isInstanceOf(HubException.NoSpace.class)
                    .hasMessageContaining("test-org/tiny-qwen")
                    .hasMessageContaining(expectedMissing + " bytes")
                    .hasMessageContaining(free + " bytes")
                    .hasMessageContaining("100.0 MB")
                    .hasMessageContaining("nothing was downloaded");
            assertThat(hf).as("a refused pull creates nothing").doesNotExist();
            assertThat(hub.servedBytes).as("no file byte was fetched").isEmpty();

            // the same model at its real size fits: the check measured this disk, not a constant
            hub.announcedSize.clear();
            PulledModel m = new ModelPuller(settings).pull(ModelRef.parse("test-org/tiny-qwen"), "huggingface", PullListener.NONE);
            assertThat(m.snapshot().resolve("model.safetensors")).hasBinaryContent(weights);
        } finally {
            new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
        }
    }
}
