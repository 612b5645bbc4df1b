package ai.autoglm.core.generate;

import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Utf8StreamDecoder;

import java.util.function.Consumer;

/**
 * The generation loop for one sequence: prefill the prompt, then sample, check stop tokens, decode bytes
 * to text holding back incomplete UTF-8, hold back text that may start a stop string, and stream what is
 * final to the caller. Special tokens (e.g. {@code <|im_end|>}) are not part of the text, as with
 * transformers' {@code skip_special_tokens=True}. A request's {@link LogitsProcessor}, if any, edits the logits
 * before each sample and ends generation (finish reason stop) once it reports its output complete.
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
        int[] prompt = request.promptTokens();
        if (prompt.length >= sequence.capacity()) {
            throw new ContextOverflowException(prompt.length, 1, sequence.capacity());
        }
        // The answer is cut short ("length") where the context runs out before max tokens.
        int maxTokens = Math.min(request.maxTokens(), sequence.capacity() - prompt.length);
        Tokenizer tokenizer = model.tokenizer();
        Sampler sampler = new Sampler(request.sampling(), model.config().vocabSize());
        Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
        StopSequenceMatcher stops = new StopSequenceMatcher(request.stopStrings());
        StringBuilder text = new StringBuilder();
        Consumer<String> emit = chunk -> {
            if (!chunk.isEmpty()) {
                text.append(chunk);
                onText.accept(chunk);
            }
        };

        long start = System.nanoTime();
        float[] logits = sequence.prefill(prompt);
        long prefillDone = System.nanoTime();
        FinishReason finish = FinishReason.LENGTH;
        int generated = 0;
        LogitsProcessor constraint = request.logitsProcessor();
        while (true) {
            if (constraint != null) constraint.process(logits);
            int token = sampler.sample(logits, sequence.history(), sequence.historyLength());
            if (request.stopTokens().contains(token)) {
                finish = FinishReason.STOP;
                break;
            }
            if (constraint != null) constraint.accept(token);
            sequence.append(token);
            generated++;
            if (!tokenizer.isSpecial(token)) {
                emit.accept(stops.push(utf8.push(tokenizer.tokenBytes(token))));
                if (stops.stopped()) {
                    finish = FinishReason.STOP;
                    break;
                }
            }
            if (constraint != null && constraint.isComplete()) {
                finish = FinishReason.STOP;
                break;
            }
            if (generated == maxTokens) break;
            logits = sequence.decodeLast();
        }
        if (!stops.stopped()) {
            emit.accept(stops.push(utf8.flush()));
            emit.accept(stops.flush());
            if (stops.stopped()) finish = FinishReason.STOP;
        }
        long end = System.nanoTime();
        return new GenerationResult(text.toString(), prompt.length, generated, finish,
                prefillDone - start, end - prefillDone);
    }
}
