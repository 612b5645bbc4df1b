package ai.autoglm.server.api;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.LogitsProcessor;
import ai.autoglm.server.models.ServedModel;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.core.schedule.QueueFullException;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/** Submitting a prompt to a model's scheduler, with the context and queue checks that become 400 and 429. */
final class Generations {
    /** Seconds a client is told to wait after a 429. */
    static final int RETRY_AFTER_SECONDS = 1;

    private Generations() {
    }

    /**
     * @param promptParam the request field the prompt came from, named in a too-long error
     */
    static GenerationJob submit(ServedModel m, int[] prompt, GenerationParams p, Duration timeout, String promptParam) {
        return submit(m, prompt, p, timeout, promptParam, responseFormat(m, p));
    }

    /**
     * The {@code response_format} constraint: a fresh processor per request (it follows this answer's tokens), or
     * null for plain text. With ignore_eos the stop tokens are no end for the grammar either, so it never lets one
     * through.
     */
    static LogitsProcessor responseFormat(ServedModel m, GenerationParams p) {
        return p.grammar() == null ? null
                : p.grammar().newLogitsProcessor(m.model().tokenizer(), p.ignoreEos() ? Set.of() : m.stopTokens());
    }

    /** @param constraint the request's logits processor (constrained decoding), or null */
    static GenerationJob submit(ServedModel m, int[] prompt, GenerationParams p, Duration timeout, String promptParam,
                                LogitsProcessor constraint) {
        int context = m.scheduler().contextPerSlot();
        if (prompt.length == 0) throw ApiException.invalidParam(promptParam, "the prompt is empty");
        if (prompt.length >= context) {
            throw new ApiException(400, "invalid_request_error", promptParam, "context_length_exceeded",
                    "This model's maximum context length is " + context + " tokens. However, your prompt has " + prompt.length
                            + " tokens, which leaves no room for an answer.");
        }
        if (p.maxTokens() != null && (long) prompt.length + p.maxTokens() > context) {
            throw new ApiException(400, "invalid_request_error", "max_tokens", "context_length_exceeded",
                    "This model's maximum context length is " + context + " tokens. However, you requested "
                            + ((long) prompt.length + p.maxTokens()) + " tokens (" + prompt.length + " in the prompt, "
                            + p.maxTokens() + " for the completion). Reduce the prompt or max_tokens.");
        }
        int vocab = m.model().config().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) throw ApiException.invalidParam(promptParam, "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
        int maxTokens = p.maxTokens() == null ? context - prompt.length : p.maxTokens();
        GenerationRequest request = new GenerationRequest(prompt, maxTokens, p.sampling(), m.stopTokens(), p.stop(), constraint);
        GenerationJob job = new GenerationJob(request, p.logprobs(), p.topLogprobs(), p.ignoreEos(), timeout.toNanos());
        try {
            m.scheduler().submit(job);
        } catch (QueueFullException e) {
            throw new ApiException(429, "rate_limit_error", null, "queue_full", e.getMessage(),
                    Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
        } catch (IllegalStateException e) {
            throw new ApiException(503, "server_error", "model", null, "the model is being unloaded; retry");
        }
        return job;
    }

    /** The job's next event; interrupted waits cancel the job. */
    static JobEvent next(GenerationJob job) {
        try {
            JobEvent e;
            while ((e = job.next(1000)) == null) {
                // keep waiting: the scheduler's own time limit ends every job
            }
            return e;
        } catch (InterruptedException ie) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "the server is shutting down");
        }
    }

    /** A failure event as an API error. */
    static ApiException error(JobEvent.Failed f) {
        return new ApiException(f.status(), f.type(), null, null, f.message());
    }
}
