package ai.autoglm.core.schedule;

import ai.autoglm.core.generate.GenerationStream;

/** What the scheduler tells the HTTP side about a job, in order: tokens, then exactly one of Finished or Failed. */
public sealed interface JobEvent {
    /** One sampled token with the text it released. */
    record Token(GenerationStream.Step step) implements JobEvent {
    }

    /**
     * The job ended normally (its last Token carries the finish reason).
     *
     * @param promptTokens       tokens in the prompt
     * @param cachedPromptTokens of them, how many were reused from the slot's KV cache
     * @param completionTokens   tokens generated (stop token not counted)
     */
    record Finished(int promptTokens, int cachedPromptTokens, int completionTokens) implements JobEvent {
    }

    /** The job could not be completed; {@code status} is the HTTP status to answer with. */
    record Failed(int status, String type, String message) implements JobEvent {
    }
}
