package ai.autoglm.cli;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.GenerationResult;
import ai.autoglm.core.generate.Generator;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.generate.reasoning.ThinkBlockSplitter;
import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code autoglm chat}: an interactive conversation on stdin/stdout. Each turn renders the whole history
 * with the model's chat template; the KV cache of earlier turns is reused, so only the new turn is computed.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with a model interactively (/reset clears the history, /exit or end of input quits).")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message for the conversation.")
    String system;

    @Option(names = "--quiet", description = "Do not print timings to stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel model = modelOptions.load()) {
            Prompts.chatTemplate(model); // fail before the first prompt when there is no template
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            Sequence sequence = new Sequence(model, modelOptions.contextFor(model));
            Generator generator = new Generator(model);
            Set<Integer> stopTokens = StopTokens.defaults(model.tokenizer());
            List<ChatMessage> history = newHistory();
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.isBlank()) continue;
                if (line.strip().equals("/reset")) {
                    history = newHistory();
                    out.println("(history cleared)");
                    continue;
                }
                history.add(ChatMessage.user(line));
                String rendered = Prompts.chatTemplate(model).render(history, true, null, null);
                int[] prompt = Prompts.completion(model, rendered);
                // as the server answers: a think block shown first, then the answer, GLM's leading line break dropped
                ThinkBlockSplitter.Start start = ThinkBlockSplitter.start(model.chatTemplate().orElse(null), rendered);
                ThinkBlockSplitter split = start == null ? null : new ThinkBlockSplitter(start);
                StringBuilder answer = new StringBuilder();
                GenerationResult result;
                try {
                    result = generator.generate(sequence, new GenerationRequest(prompt, sampling.maxTokens,
                            sampling.settings(), stopTokens, sampling.stop), text -> {
                        print(out, split == null ? new ThinkBlockSplitter.Split("", text) : split.push(text), answer, split);
                    });
                    if (split != null) print(out, split.finish(), answer, split);
                } catch (ContextOverflowException e) {
                    history.removeLast();
                    out.println("(the conversation no longer fits the context: " + e.getMessage() + "; /reset to start over)");
                    continue;
                }
                out.println();
                out.flush();
                history.add(ChatMessage.assistant(answer.toString()));
                if (!quiet) Timings.print(System.err, result);
            }
            out.println();
            out.flush();
            return 0;
        }
    }

    /**
     * Prints a piece of the reply: the reasoning as it comes (the model's thinking), a blank line, then the answer,
     * which {@code answer} collects for the history (the chat templates drop earlier turns' reasoning anyway).
     */
    private static void print(PrintStream out, ThinkBlockSplitter.Split piece, StringBuilder answer, ThinkBlockSplitter split) {
        out.print(piece.reasoning());
        if (!piece.content().isEmpty()) {
            if (answer.isEmpty() && split != null && !split.reasoning().isEmpty()) out.print("\n\n");
            out.print(piece.content());
            answer.append(piece.content());
        }
        out.flush();
    }

    private List<ChatMessage> newHistory() {
        List<ChatMessage> history = new ArrayList<>();
        if (system != null) history.add(ChatMessage.system(system));
        return history;
    }
}
