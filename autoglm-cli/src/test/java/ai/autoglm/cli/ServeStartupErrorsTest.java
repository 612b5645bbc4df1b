package ai.autoglm.cli;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Issue 15 item 12: {@code autoglm serve} that cannot serve says why and exits 2, instead of running on port -1 or
 * answering 503 to every request. Each case runs the real command line; a serve that keeps running fails the timeout.
 */
class ServeStartupErrorsTest {
    @TempDir
    Path dir;

    private CliRunner.Result serve(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "serve";
        all[1] = "--home";
        all[2] = dir.resolve("home").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return assertTimeoutPreemptively(Duration.ofSeconds(120), () -> CliRunner.run(all), "serve kept running");
    }

    @Test
    void portInUseExits2NamingThePort() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        ModelFixtures.writeGguf(ModelFixtures.llama(), model, GgmlType.F32);
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            CliRunner.Result r = serve("--model", model.toString(), "--port", String.valueOf(port));
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("autoglm: error:").contains(":" + port).contains("in use").doesNotContain(":-1");
        }
    }

    @Test
    void brokenGgufExits2WithTheLoadersMessage() throws Exception {
        Path broken = dir.resolve("broken.gguf");
        byte[] head = new byte[64];
        System.arraycopy("GGUF".getBytes(), 0, head, 0, 4); // the magic, then a truncated header
        head[4] = 3;
        Files.write(broken, head);
        CliRunner.Result r = serve("--model", broken.toString(), "--port", "0");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("broken.gguf").contains("could not be loaded").doesNotContain("\tat ");
    }

    @Test
    void directoryThatIsNotAModelExits2() throws Exception {
        Path notModel = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(notModel.resolve("cat.txt"), "meow");
        CliRunner.Result r = serve("--model", notModel.toString(), "--port", "0");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("photos").contains("config.json");
    }

    @Test
    void loneSafetensorsFilePointsAtItsDirectory() throws Exception {
        Path hf = dir.resolve("hf-model");
        ModelFixtures.writeHf(ModelFixtures.llama(), hf);
        Path lone = Files.list(hf).filter(p -> p.toString().endsWith(".safetensors")).findFirst().orElseThrow();
        CliRunner.Result r = serve("--model", lone.toString(), "--port", "0");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("safetensors file holds only weights").contains(hf.toAbsolutePath().toString());
    }
}
