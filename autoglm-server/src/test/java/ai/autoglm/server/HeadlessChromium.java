package ai.autoglm.server;

import ai.autoglm.core.testing.ExternalReference;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Debian's chromium driven by its chromedriver, headless, for the console tests: the binaries by path (Selenium
 * Manager would try to download a browser, and this machine reaches no such site), and the flags that keep Chromium
 * off the closed network (background networking, component updates, sync, QUIC). No sandbox: CI runs as root.
 */
final class HeadlessChromium {
    static final Path SCREENSHOTS = Path.of("target/console-screenshots");
    private static final Path BROWSER = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private HeadlessChromium() {
    }

    /** A new browser with its profile in {@code profileDir}; fails under CI=true (skips elsewhere) when not installed. */
    static ChromeDriver start(Path profileDir) throws IOException {
        ExternalReference.require(Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER),
                "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; "
                        + ".ci/run installs them): the console is tested in a real browser");
        ChromeOptions options = new ChromeOptions().setBinary(BROWSER.toString())
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--window-size=1280,900", "--user-data-dir=" + Files.createDirectories(profileDir));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
        Files.createDirectories(SCREENSHOTS);
        return new ChromeDriver(service, options);
    }

    /** The page as it is now, to {@code target/console-screenshots/NAME.png} (a test artefact; one goes in docs/). */
    static void screenshot(ChromeDriver browser, String name) {
        try {
            File f = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(f.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
