package ai.autoglm.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code autoglm.*} properties. Without {@code base-url}: the model in-process ({@code model-path}, or the bundled
 * model). With it: the server, and with {@code fallback} (the default) the local model when the server is down.
 *
 * @param modelPath     local GGUF file or Hugging Face directory (null: the bundled model)
 * @param baseUrl       an {@code autoglm serve} or OpenAI-compatible server
 * @param apiKey        its API key
 * @param model         the server's model alias
 * @param fallback      with a base URL: answer locally when the server is unavailable (hybrid client)
 * @param probeInterval how often a server marked down is probed (hybrid)
 * @param forceOffline  never touch the network (hybrid)
 */
@ConfigurationProperties(prefix = "autoglm")
public record AutoglmProperties(Path modelPath, String baseUrl, String apiKey, String model, Boolean fallback,
                                Duration probeInterval, Boolean forceOffline) {
}
