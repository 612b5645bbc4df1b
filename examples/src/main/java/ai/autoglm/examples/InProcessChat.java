package ai.autoglm.examples;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.client.ChatRequest;
import ai.autoglm.client.ChatResponse;
import ai.autoglm.client.ChatStream;
import ai.autoglm.client.GenerationOptions;

import java.nio.file.Path;

/**
 * The model in this JVM: the bundled default (found from the project directory, -Dautoglm.home or AUTOGLM_HOME),
 * or the GGUF file / Hugging Face directory given as the first argument.
 */
public class InProcessChat {
    public static void main(String[] args) {
        var builder = AutoGLMClient.inProcess();
        if (args.length > 0) builder.model(Path.of(args[0])); else builder.bundledModel();
        try (AutoGLMClient client = builder.build()) {
            ChatRequest request = ChatRequest.builder()
                    .system("你是诗人。")
                    .user("写一首关于月亮的诗")
                    .options(GenerationOptions.greedy().withMaxTokens(48))
                    .build();
            ChatResponse answer = client.chat(request);
            System.out.println("answer: " + answer.content());
            System.out.println("route: " + answer.route() + ", usage: " + answer.usage() + ", timing: " + answer.timing());

            System.out.print("streamed: ");
            try (ChatStream stream = client.stream(request)) {
                for (String piece : stream) System.out.print(piece);
                System.out.println();
                System.out.println("finish: " + stream.response().finishReason());
            }
        }
    }
}
