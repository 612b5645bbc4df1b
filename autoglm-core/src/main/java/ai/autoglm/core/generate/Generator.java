package ai.autoglm.core.generate;

import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.model.LanguageModel;

import java.util.function.Consumer;

/**
 * The generation loop for one sequence: prefill the prompt, then sample, check stop tokens, decode bytes
 * to text holding back incomplete UTF-8, hold back text that may start a stop string, and stream what is
 * final to the caller. Special tokens (e.g. {@code <|im_end|>}) are not part of the text, as with
 * transformers' {@code skip_special_tokens=True}.
 */
public final class Generator {
    private final LanguageModel model;

    public Generator(LanguageModel model) {
        this.model = model;
    }

    /**
     * Generates a continuation of {@code request.promptTokens()} into {@code sequence}, calling
     * {@code onText} with each piece of final text as soon as it is known.
     *
     * @throws ContextOverflowException when the prompt leaves no room in the sequence for a single new token
     */
    public GenerationResult generate(Sequence sequence, GenerationRequest request, Consumer<String> onText) {
        GenerationStream stream = new GenerationStream(model, sequence, request, 0, false);
        StringBuilder text = new StringBuilder();
        long start = System.nanoTime();
        float[] logits = sequence.prefill(request.promptTokens());
        long prefillDone = System.nanoTime();
        while (true) {
            GenerationStream.Step step = stream.accept(logits);
            if (!step.text().isEmpty()) {
                text.append(step.text());
                onText.accept(step.text());
            }
            if (step.finish() != null) break;
            logits = sequence.decodeLast();
        }
        long end = System.nanoTime();
        return new GenerationResult(text.toString(), request.promptTokens().length, stream.generated(), stream.finish(),
                prefillDone - start, end - prefillDone);
    }
}
