package ai.autoglm.cli;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.GenerationResult;
import ai.autoglm.core.generate.Generator;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code autoglm run}: one prompt in, the generated text streamed to stdout, timings to stderr. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt and stream it to stdout.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true, description = "The prompt.")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt as a user message in the model's chat template.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (with --chat).")
    String system;

    @Option(names = "--quiet", description = "Do not print timings to stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel model = modelOptions.load()) {
            int[] tokens;
            if (chat) {
                List<ChatMessage> messages = new ArrayList<>();
                if (system != null) messages.add(ChatMessage.system(system));
                messages.add(ChatMessage.user(prompt));
                tokens = Prompts.chat(model, messages, true, null);
            } else {
                tokens = Prompts.completion(model, prompt);
            }
            model.checkFits(tokens.length, 1);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            Sequence sequence = new Sequence(model, modelOptions.contextFor(model));
            GenerationRequest request = new GenerationRequest(tokens, sampling.maxTokens, sampling.settings(),
                    StopTokens.defaults(model.tokenizer()), sampling.stop);
            GenerationResult result = new Generator(model).generate(sequence, request, text -> {
                out.print(text);
                out.flush();
            });
            out.println();
            out.flush();
            if (!quiet) Timings.print(System.err, result);
            return 0;
        }
    }
}
