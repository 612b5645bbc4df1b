package ai.autoglm.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The console's admin pages (Keys, Audit, Models, Reports) in a real headless Chromium against the real server with
 * keys on. The references are outside the page: the OpenAI Java client for a key made in the page, the server's
 * state ({@link ModelRegistry}) for load/unload, an audit file edited on disk for the chain check. Screenshots go to
 * {@code target/console-screenshots/admin-*.png}.
 */
class ConsoleAdminBrowserTest {

    @TempDir
    static Path dir;
    static SecuredServer s;
    static String admin;
    static String reader;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        s = new SecuredServer(dir, sec -> sec);
        admin = s.keys.create("root", "admin", List.of(), null).secret();
        reader = s.keys.create("grafana", "reader", List.of(), null).secret();
        browser = HeadlessChromium.start(dir.resolve("chrome"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (s != null) s.close();
    }

    @Test
    void keyCreatedInThePageWorksWithTheOpenAiClientAndIsRefusedAfterRevoke() {
        openWith(admin, "keys");
        browser.findElement(By.id("key-name")).sendKeys("from-page");
        WebElement role = browser.findElement(By.id("key-role"));
        role.clear();
        role.sendKeys("user");
        browser.findElement(By.id("key-models")).sendKeys("zh");
        browser.findElement(By.id("key-create")).click();
        WebElement secretBox = browser.findElement(By.id("key-secret"));
        waitUntil(secretBox::isDisplayed);
        String secret = browser.findElement(By.id("key-secret-value")).getText();
        assertThat(secret).startsWith("agk_");
        waitUntil(() -> !browser.findElements(By.cssSelector("#keys tr[data-key='from-page']")).isEmpty());
        screenshot("admin-keys");

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.base() + "/v1").apiKey(secret).maxRetries(0).build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("zh").addUserMessage("你好").maxCompletionTokens(4).build();
        ChatCompletion answer = client.chat().completions().create(params);
        assertThat(answer.usage().orElseThrow().completionTokens()).isBetween(1L, 4L);

        // the list (reloaded from the server) never shows the secret again
        browser.findElement(By.id("keys-refresh")).click();
        assertThat(browser.findElement(By.id("keys")).getText()).contains("from-page").doesNotContain(secret.substring(4));

        browser.findElement(By.cssSelector("#keys tr[data-key='from-page'] button.revoke")).click();
        browser.switchTo().alert().accept();
        waitUntil(() -> browser.findElements(By.cssSelector("#keys tr[data-key='from-page'].revoked")).size() == 1);
        assertThatThrownBy(() -> client.chat().completions().create(params)).isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void readerKeyIsRefusedByTheServerAndThePageSaysSo() {
        openWith(reader, "keys");
        WebElement error = browser.findElement(By.id("keys-error"));
        waitUntil(error::isDisplayed);
        assertThat(error.getText()).startsWith("403").contains("/admin/keys");
        assertThat(browser.findElements(By.cssSelector("#keys tbody tr"))).isEmpty();
        // the page did ask: the refusal is the server's, in its audit trail
        browser.findElement(By.cssSelector("button[data-page=audit]")).click();
        waitUntil(() -> browser.findElement(By.id("audit-error")).isDisplayed());
        assertThat(browser.findElement(By.id("audit-error")).getText()).startsWith("403");
        browser.findElement(By.cssSelector("button[data-page=models]")).click();
        waitUntil(() -> browser.findElement(By.id("models-error")).isDisplayed());
        screenshot("admin-refused");
        // even a request the page would never make is refused: the role is enforced by the server, not by the page
        Object status = js("const done = arguments[arguments.length - 1];"
                + "fetch('/admin/keys', {method: 'POST', headers: {'Authorization': 'Bearer ' + arguments[0], 'Content-Type': 'application/json'},"
                + " body: JSON.stringify({name: 'sneaky', role: 'admin'})}).then(r => done(r.status));", reader);
        assertThat(status).isEqualTo(403L);
        assertThat(s.keys.list()).noneMatch(k -> k.name().equals("sneaky"));
    }

    @Test
    void auditPageShowsATamperedRecordAsBroken() throws Exception {
        openWith(admin, "audit");
        waitUntil(() -> !browser.findElements(By.cssSelector("#audit tbody tr")).isEmpty());
        browser.findElement(By.id("audit-verify")).click();
        WebElement verdict = browser.findElement(By.id("audit-verdict"));
        waitUntil(verdict::isDisplayed);
        assertThat(verdict.getText()).startsWith("Chain intact");
        assertThat(browser.findElements(By.cssSelector("#audit tr.broken"))).isEmpty();

        // filters: only the admin key's successful requests
        browser.findElement(By.id("audit-key")).sendKeys("root");
        browser.findElement(By.id("audit-status")).sendKeys("2xx");
        browser.findElement(By.cssSelector("#audit-form button[type=submit]")).click();
        waitUntil(() -> browser.findElements(By.cssSelector("#audit tbody tr")).stream().allMatch(tr -> tr.getText().contains("root")));

        Path live = s.auditDir().resolve("audit.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(live));
        int victim = lines.size() - 3; // a recent record: near the top of the newest-first listing
        String raw = lines.get(victim);
        long seq = TestServer.JSON.readTree(raw).get("seq").asLong();
        lines.set(victim, raw.replaceFirst("\"latency_ms\":[0-9.]+", "\"latency_ms\":98765.4"));
        assertThat(lines.get(victim)).isNotEqualTo(raw);
        Files.write(live, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            browser.findElement(By.id("audit-key")).clear();
            browser.findElement(By.id("audit-status")).clear();
            browser.findElement(By.id("audit-verify")).click();
            waitUntil(() -> verdict.getText().startsWith("Chain broken"));
            assertThat(verdict.getText()).contains("edited").contains("audit.jsonl:" + (victim + 1)).contains("seq " + seq);
            waitUntil(() -> browser.findElements(By.cssSelector("#audit tr.broken")).size() == 1);
            WebElement broken = browser.findElement(By.cssSelector("#audit tr.broken"));
            assertThat(broken.getAttribute("data-seq")).isEqualTo(String.valueOf(seq));
            screenshot("admin-audit");
        } finally {
            List<String> now = new ArrayList<>(Files.readAllLines(live));
            now.set(victim, raw);
            Files.write(live, (String.join("\n", now) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void modelsPageLoadsAndUnloads() {
        openWith(admin, "models");
        By tools = By.cssSelector("#models tr[data-model='tools']");
        waitUntil(() -> !browser.findElements(tools).isEmpty());
        assertThat(browser.findElement(tools).getText()).contains("generative");
        s.server.registry().unload("tools");
        // wait for the table drawn after this click, not the one already on the page (clicking it would go stale)
        By tbody = By.cssSelector("#models tbody");
        waitUntil(() -> browser.findElement(tbody).getAttribute("data-renders") != null);
        String before = browser.findElement(tbody).getAttribute("data-renders");
        browser.findElement(By.cssSelector("button[data-page=models]")).click();
        waitUntil(() -> !before.equals(browser.findElement(tbody).getAttribute("data-renders")));
        waitUntil(() -> browser.findElement(tools).findElement(By.cssSelector("button.unload")).getAttribute("disabled") != null);
        WebElement keep = browser.findElement(tools).findElement(By.cssSelector("input.keep-alive"));
        keep.clear();
        keep.sendKeys("10m");
        browser.findElement(tools).findElement(By.cssSelector("button.load")).click();
        waitUntil(() -> s.server.registry().isLoaded("tools"));
        waitUntil(() -> browser.findElement(tools).findElement(By.cssSelector("button.unload")).getAttribute("disabled") == null);
        assertThat(s.server.registry().keepAlive("tools")).isEqualTo(Duration.ofMinutes(10));
        assertThat(browser.findElement(tools).getText()).contains("MiB");
        screenshot("admin-models");
        browser.findElement(tools).findElement(By.cssSelector("button.unload")).click();
        waitUntil(() -> !s.server.registry().isLoaded("tools"));
    }

    @Test
    void reportsPageListsTheCompressReports() throws Exception {
        Path reportDir = Files.createDirectories(s.home.resolve("reports/glm-4g"));
        Files.writeString(reportDir.resolve("report.json"), """
                {"model":"glm-4-9b-chat <b>x</b>","search":"greedy","context":512,"budget_mb":4096.0,
                 "trials":[{"trial":0,"choices":{"default":"q4_k"},"memory_mb":3900.0,"mean_kld":0.031,"top1":0.93,"feasible":true}],
                 "pareto_front":[0],"chosen":0}""");
        openWith(admin, "reports");
        By row = By.cssSelector("#reports tbody tr");
        waitUntil(() -> !browser.findElements(row).isEmpty());
        WebElement r = browser.findElement(row);
        // a field with markup is shown as text
        assertThat(r.getText()).contains("glm-4-9b-chat <b>x</b>").contains("3900.0").contains("0.031");
        assertThat(r.findElements(By.tagName("b"))).isEmpty();
        r.findElement(By.tagName("a")).click();
        WebElement json = browser.findElement(By.id("report-json"));
        waitUntil(json::isDisplayed);
        assertThat(json.getText()).contains("\"pareto_front\"");
        screenshot("admin-reports");
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Loads the console with {@code key} in the tab's session storage and opens {@code page}. */
    private static void openWith(String key, String page) {
        browser.get(s.base() + "/");
        js("localStorage.clear(); sessionStorage.clear(); sessionStorage.setItem('autoglm.apiKey', arguments[0]);", key);
        browser.navigate().refresh();
        browser.findElement(By.cssSelector("button[data-page=" + page + "]")).click();
    }

    private static Object js(String script, Object... args) {
        if (script.contains("arguments[arguments.length - 1]")) return ((JavascriptExecutor) browser).executeAsyncScript(script, args);
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) {
        // the pages re-render their tables: an element found a moment ago may be gone, so look again
        new WebDriverWait(browser, Duration.ofSeconds(60)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> condition.getAsBoolean());
    }

    private static void screenshot(String name) {
        HeadlessChromium.screenshot(browser, name);
    }
}
