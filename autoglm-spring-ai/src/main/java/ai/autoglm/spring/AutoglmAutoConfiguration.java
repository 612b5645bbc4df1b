package ai.autoglm.spring;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.HybridBuilder;
import ai.autoglm.client.InProcessBuilder;
import ai.autoglm.client.RemoteBuilder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: an {@link AutoGLMClient} from the {@code autoglm.*} properties (closed with the
 * context) and a Spring AI {@link AutoglmChatModel} over it. Either bean defined by the application wins.
 */
@AutoConfiguration
@EnableConfigurationProperties(AutoglmProperties.class)
public class AutoglmAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public AutoGLMClient autoglmClient(AutoglmProperties p) {
        InProcessBuilder local = AutoGLMClient.inProcess();
        if (p.modelPath() != null) local.model(p.modelPath()); else local.bundledModel();
        if (p.baseUrl() == null || p.baseUrl().isBlank()) return local.build();
        RemoteBuilder remote = AutoGLMClient.remote().baseUrl(p.baseUrl()).apiKey(p.apiKey()).model(p.model());
        if (Boolean.FALSE.equals(p.fallback())) return remote.build();
        HybridBuilder hybrid = AutoGLMClient.hybrid().remote(remote).local(local);
        if (p.probeInterval() != null) hybrid.probeInterval(p.probeInterval());
        if (p.forceOffline() != null) hybrid.forceOffline(p.forceOffline());
        return hybrid.build();
    }

    @Bean
    @ConditionalOnMissingBean(org.springframework.ai.chat.model.ChatModel.class)
    public AutoglmChatModel autoglmChatModel(AutoGLMClient client) {
        return new AutoglmChatModel(client);
    }
}
