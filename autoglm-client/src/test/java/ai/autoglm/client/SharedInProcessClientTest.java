package ai.autoglm.client;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Eight application threads share one in-process client: each gets the answer it gets alone (the reference: the
 * same client serving one request at a time), and the scheduler ran decode steps holding several of them at once
 * (batched decoding through the server's ContinuousBatchScheduler, not a lock around the model).
 */
class SharedInProcessClientTest {
    static final List<String> PROMPTS = List.of("床前明月光", "月", "长", "How do you feel?", "江", "山", "花", "Love");

    static ChatRequest request(String prompt) {
        return ChatRequest.builder().system("你是诗人。").user(prompt).options(GenerationOptions.greedy().withMaxTokens(32)).build();
    }

    @Test
    void eightThreadsGetTheAnswersTheyGetAloneAndAreBatched() throws Exception {
        try (InProcessClient client = AutoGLMClient.inProcess().bundledModel().slots(8).open()) {
            List<String> alone = new ArrayList<>();
            for (String p : PROMPTS) alone.add(client.chat(request(p)).content());
            assertThat(client.maxDecodeRows.get()).isEqualTo(1);

            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                for (int round = 0; round < 2; round++) {
                    List<Future<String>> futures = new ArrayList<>();
                    for (String p : PROMPTS) futures.add(pool.submit((Callable<String>) () -> client.chat(request(p)).content()));
                    for (int i = 0; i < PROMPTS.size(); i++) {
                        assertThat(futures.get(i).get()).as("thread %d (%s)", i, PROMPTS.get(i)).isEqualTo(alone.get(i));
                    }
                }
            }
            assertThat(client.maxDecodeRows.get()).as("decode rows in one engine step").isGreaterThan(1);
        }
    }
}
