package ai.autoglm.spark;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.GenerationStream;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.core.schedule.ContinuousBatchScheduler;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.core.schedule.QueueFullException;
import ai.autoglm.core.schedule.SchedulerListener;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A generative model loaded in this JVM with the continuous-batching scheduler {@code autoglm serve} uses: every task
 * of the executor submits its rows to the same scheduler, which decodes up to {@code slots} of them in one pass over
 * the weights. Rows are jobs without a client: no deadline that matters (a day) and no cancellation.
 */
public final class LoadedGenerator implements AutoCloseable {
    /** Jobs that may wait for a slot: each task keeps at most {@link PartitionGenerator#window} in flight. */
    private static final int QUEUE_CAPACITY = 4096;
    /** Prompt tokens per step across prefilling slots, as the server's default. */
    private static final int PREFILL_BUDGET = 512;
    private static final long TIME_LIMIT_NANOS = Duration.ofDays(1).toNanos();

    private final LanguageModel model;
    private final ContinuousBatchScheduler scheduler;
    private final Set<Integer> stopTokens;
    private final ChatTemplate chatTemplate; // null when the model has none
    private final int slots;

    private LoadedGenerator(LanguageModel model, ContinuousBatchScheduler scheduler, int slots) {
        this.model = model;
        this.slots = slots;
        this.scheduler = scheduler;
        this.stopTokens = StopTokens.defaults(model.tokenizer());
        this.chatTemplate = model.chatTemplate().isPresent() ? Prompts.chatTemplate(model) : null;
    }

    static LoadedGenerator load(Path file, int slots, int context) {
        LanguageModel model = ModelLoader.load(file);
        try {
            if (context > model.config().contextLength()) {
                throw new IllegalArgumentException("context " + context + " exceeds the model's " + model.config().contextLength()
                        + " positions (" + file + ")");
            }
            return new LoadedGenerator(model, new ContinuousBatchScheduler("spark-" + file.getFileName(), model, slots, context,
                    QUEUE_CAPACITY, PREFILL_BUDGET, SchedulerListener.NONE), slots);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public LanguageModel model() {
        return model;
    }

    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    /** Sequences the scheduler decodes at once. */
    public int slots() {
        return slots;
    }

    /** The prompt tokens of a plain completion of {@code text}. */
    public int[] completionPrompt(String text) {
        return Prompts.completion(model, text);
    }

    /** The prompt tokens of one user turn (after {@code system}, when not null) rendered by the model's chat template. */
    public int[] chatPrompt(String system, String user) {
        if (chatTemplate == null) {
            throw new IllegalArgumentException("the model has no chat template (tokenizer.chat_template); use generate on plain prompts");
        }
        List<ChatMessage> messages = new ArrayList<>(2);
        if (system != null) messages.add(ChatMessage.system(system));
        messages.add(ChatMessage.user(user));
        return Prompts.completion(model, chatTemplate.render(messages, true, null, null));
    }

    /** The request one row makes: {@code maxTokens} cut to what the context leaves after the prompt. */
    public GenerationRequest request(int[] prompt, GenerationSettings s) {
        int context = scheduler.contextPerSlot();
        if (prompt.length >= context) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; the context is " + context
                    + " positions, which leaves no room for an answer (raise GenerationSettings.context)");
        }
        SamplerSettings sampling = s.temperature() == 0f ? SamplerSettings.greedy()
                : SamplerSettings.defaults().withTemperature(s.temperature()).withSeed(s.seed());
        return new GenerationRequest(prompt, Math.min(s.maxTokens(), context - prompt.length), sampling, stopTokens, List.of());
    }

    /** Queues a row's request; waits while the queue is full (other tasks' rows fill it), never drops it. */
    GenerationJob submit(GenerationRequest request) throws InterruptedException {
        GenerationJob job = new GenerationJob(request, 0, false, TIME_LIMIT_NANOS);
        while (true) {
            try {
                scheduler.submit(job);
                return job;
            } catch (QueueFullException e) {
                Thread.sleep(5);
            }
        }
    }

    /** Reads a job's events to its end. */
    static Generated await(GenerationJob job) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        String finish = null;
        while (true) {
            JobEvent e = job.next(1000);
            switch (e) {
                case null -> {
                    // still running: the job's own time limit ends it
                }
                case JobEvent.Token t -> {
                    GenerationStream.Step step = t.step();
                    text.append(step.text());
                    if (step.finish() != null) finish = step.finish().wireName;
                }
                case JobEvent.Finished f -> {
                    return new Generated(text.toString(), f.promptTokens(), f.completionTokens(), finish, null);
                }
                case JobEvent.Failed f -> {
                    return Generated.failed(f.message());
                }
            }
        }
    }

    @Override
    public void close() {
        scheduler.close();
        model.close();
    }
}
