package ai.autoglm.server;

import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.console.ConsoleRoutes;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web console in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) against the
 * real server serving the bundled model. The reference for the chat is the single-sequence generator
 * ({@link GreedyReference}, what {@code autoglm run} does), not the server's own API. Screenshots of each page go to
 * {@code target/console-screenshots/}.
 */
class ConsoleBrowserTest {
    static final Path BUNDLED = Path.of("../models/default/model.gguf").toAbsolutePath().normalize();
    static final int CONTEXT = 256; // the bundled model's own context

    @TempDir
    static Path tmp;
    static AutoglmServer server;
    static TestServer http;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        server = AutoglmServer.start(new ServerConfig("127.0.0.1", 0, 1 << 20, 16, Duration.ofMinutes(2), 256,
                List.of(new ModelSpec("autoglm-default", BUNDLED, CONTEXT, 2, null, null))));
        http = TestServer.client(server);
        browser = HeadlessChromium.start(tmp.resolve("chrome"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (server != null) server.close();
    }

    @BeforeEach
    void freshPage() {
        browser.get(http.base() + "/");
        js("localStorage.clear(); sessionStorage.clear();");
        browser.navigate().refresh();
        waitUntil(() -> !browser.findElements(By.cssSelector("#model option")).isEmpty());
    }

    @Test
    void pageIsServedWithAStrictContentSecurityPolicy() {
        HttpResponse<String> page = http.get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue(ConsoleRoutes.CONTENT_SECURITY_POLICY);
        assertThat(ConsoleRoutes.CONTENT_SECURITY_POLICY).contains("script-src 'self'").doesNotContain("unsafe");
        assertThat(page.body()).doesNotContain("<script>").contains("/console/app.js");
        assertThat(http.get("/console/../pom.xml").statusCode()).isIn(400, 404);
        assertThat(http.get("/console/app.js.map").statusCode()).isEqualTo(404);
    }

    @Test
    void streamedAnswerMatchesTheSingleSequenceGenerator() throws Exception {
        String prompt = "床前明月光";
        setValue("temperature", "0");
        setValue("max-tokens", "24");
        type(prompt);
        browser.findElement(By.id("send")).click();
        WebElement answer = lastAssistant();
        waitUntil(() -> "true".equals(answer.getAttribute("data-done")));

        String expected;
        try (GreedyReference ref = new GreedyReference(BUNDLED)) {
            expected = ref.chat(prompt, 24, CONTEXT);
        }
        assertThat(answer.getAttribute("data-raw")).isEqualTo(expected);
        // streamed: the page updated the answer as pieces arrived, not once at the end
        assertThat(Integer.parseInt(answer.getAttribute("data-updates"))).isGreaterThan(1);
        assertThat(answer.findElement(By.className("stats")).getText()).contains("completion tokens").contains("tokens/s");
        screenshot("chat");

        // kept in the browser: a reload shows the same conversation
        browser.navigate().refresh();
        waitUntil(() -> browser.findElements(By.cssSelector("#messages li.assistant")).size() == 1);
        assertThat(lastAssistant().getAttribute("data-raw")).isEqualTo(expected);

        // the rendered prompt is the model's own chat template
        browser.findElement(By.id("show-prompt")).click();
        WebElement rendered = browser.findElement(By.id("rendered-prompt"));
        waitUntil(() -> rendered.isDisplayed() && !rendered.getText().isEmpty());
        assertThat(rendered.getText()).contains("<|user|>").contains(prompt).contains("<|assistant|>");
    }

    @Test
    void stopCancelsTheRequestAndFreesTheSlot() throws Exception {
        // A prompt whose greedy answer runs to max_tokens (no end-of-text), so only the stop button can end it early.
        int maxTokens = 200;
        String prompt = null;
        for (String candidate : List.of("写一首很长的诗", "床前明月光", "春眠不觉晓", "白日依山尽", "从前有座山", "天下")) {
            JsonNode answer = TestServer.JSON.readTree(http.post("/v1/chat/completions", TestServer.JSON.createObjectNode()
                    .put("temperature", 0).put("max_tokens", maxTokens)
                    .set("messages", TestServer.JSON.createArrayNode().add(TestServer.JSON.createObjectNode()
                            .put("role", "user").put("content", candidate)))).body());
            if ("length".equals(answer.at("/choices/0/finish_reason").asText())) {
                prompt = candidate;
                break;
            }
        }
        assertThat(prompt).as("a prompt whose greedy answer runs to %d tokens", maxTokens).isNotNull();
        setValue("temperature", "0");
        setValue("max-tokens", Integer.toString(maxTokens));
        type(prompt);
        // press stop from inside the page as soon as the second piece has arrived (a poll from here could be too late)
        js("const ol = document.getElementById('messages');"
                + "new MutationObserver(() => { const li = ol.querySelector('li.assistant:last-child');"
                + "  if (li && Number(li.dataset.updates) >= 2 && !window.__stopped) { window.__stopped = true; document.getElementById('stop').click(); } })"
                + ".observe(ol, {subtree: true, attributes: true, attributeFilter: ['data-updates']});");
        browser.findElement(By.id("send")).click();
        WebElement answer = lastAssistant();
        waitUntil(() -> "true".equals(answer.getAttribute("data-done")));
        assertThat(answer.findElement(By.className("stats")).getText()).isEqualTo("stopped");
        String full;
        try (GreedyReference ref = new GreedyReference(BUNDLED)) {
            // the API drops the line break a GLM answer starts with, as GLM's process_response does
            full = ref.chat(prompt, maxTokens, CONTEXT).replaceFirst("^\n+", "");
        }
        assertThat(full).startsWith(answer.getAttribute("data-raw"));
        assertThat(answer.getAttribute("data-raw").length()).isLessThan(full.length());
        // the server noticed the closed stream: no slot stays busy
        waitUntil(() -> http.get("/metrics").body().lines().anyMatch(l -> l.startsWith("autoglm_active_slots") && l.endsWith(" 0.0")));
    }

    @Test
    void modelOutputRunsNoScript() {
        // An answer as a hostile model could write it, restored from history through the same rendering path.
        String hostile = "<img src=x onerror=\"window.__xss='img'\">\n\n[click me](javascript:window.__xss='link')\n\n"
                + "<script>window.__xss='script'</script>\n\n<a href=\"javascript:window.__xss='a'\" id=\"a\">a</a>\n\n"
                + "<svg><animate onbegin=\"window.__xss='svg'\" attributeName=x dur=1s></animate></svg>";
        js("localStorage.setItem('autoglm.conversation', JSON.stringify([{role:'user', content:'hi'}, {role:'assistant', content: arguments[0]}]));", hostile);
        browser.navigate().refresh();
        WebElement answer = lastAssistant();
        for (WebElement link : answer.findElements(By.tagName("a"))) link.click();
        js("return 1;");
        assertThat(js("return window.__xss === undefined;")).isEqualTo(true);
        String html = answer.findElement(By.className("body")).getAttribute("innerHTML");
        assertThat(html).doesNotContain("onerror").doesNotContain("javascript:").doesNotContain("<script").doesNotContain("onbegin");
        assertThat(answer.getAttribute("data-raw")).isEqualTo(hostile);
    }

    @Test
    void enterThatConfirmsAnImeCompositionDoesNotSend() {
        WebElement input = browser.findElement(By.id("input"));
        input.sendKeys("zhong");
        // what an IME does: composition events around the text, and the confirming Enter flagged as composing
        js("const i = document.getElementById('input');"
                + "i.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));"
                + "i.value = '中';"
                + "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}));"
                + "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: false, bubbles: true, cancelable: true}));"
                + "i.dispatchEvent(new CompositionEvent('compositionend', {data: '中'}));");
        assertThat(browser.findElements(By.cssSelector("#messages li"))).isEmpty();
        assertThat(input.getAttribute("value")).isEqualTo("中");
        // after the composition, Enter sends
        js("document.getElementById('input').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true}));");
        waitUntil(() -> !browser.findElements(By.cssSelector("#messages li.user")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("#messages li.user")).getAttribute("data-raw")).isEqualTo("中");
        waitUntil(() -> "true".equals(lastAssistant().getAttribute("data-done")));
    }

    @Test
    void metricsPageChartsTheServersOwnMetrics() {
        browser.findElement(By.cssSelector("button[data-page=metrics]")).click();
        waitUntil(() -> !browser.findElements(By.cssSelector("#metric-values [data-metric='active slots']")).isEmpty());
        waitUntil(() -> browser.findElements(By.cssSelector("#charts .uplot")).size() == 4);
        assertThat(browser.findElement(By.cssSelector("#metric-values [data-metric='queue depth']")).getText()).isEqualTo("queue depth: 0");
        screenshot("metrics");
        browser.findElement(By.cssSelector("button[data-page=keys]")).click();
        screenshot("keys");
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private static void setValue(String id, String value) {
        js("document.getElementById(arguments[0]).value = arguments[1];", id, value);
    }

    private static void type(String text) {
        // sendKeys cannot type every CJK character through chromedriver; set the value as an IME would leave it
        setValue("input", text);
    }

    private static WebElement lastAssistant() {
        waitUntil(() -> !browser.findElements(By.cssSelector("#messages li.assistant")).isEmpty());
        List<WebElement> all = browser.findElements(By.cssSelector("#messages li.assistant"));
        return all.get(all.size() - 1);
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> condition.getAsBoolean());
    }

    private static void screenshot(String name) {
        HeadlessChromium.screenshot(browser, name);
    }
}
