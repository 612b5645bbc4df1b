package ai.autoglm.client;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.LogitsProcessor;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.generate.json.JsonGrammar;
import ai.autoglm.core.generate.json.ResponseFormats;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.encoder.EmbeddingModel;
import ai.autoglm.core.model.encoder.EmbeddingModels;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.core.tokenizer.ChatTemplateException;
import ai.autoglm.core.tokenizer.ToolCallParser;
import ai.autoglm.core.schedule.ContinuousBatchScheduler;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.core.schedule.QueueFullException;
import ai.autoglm.core.schedule.SchedulerListener;
import ai.autoglm.core.generate.tools.ToolCallFormat;
import ai.autoglm.core.generate.tools.ToolCallStreamFilter;
import ai.autoglm.core.generate.reasoning.ThinkBlockSplitter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The model in this JVM. Every request, from any number of threads, goes through one
 * {@link ContinuousBatchScheduler}, the same class {@code autoglm serve} runs: concurrent callers share each decode
 * step (one pass over the weights for all of them) instead of taking turns. The prompt is built the way the
 * server's {@code /v1/chat/completions} builds it (same template variables, same stop tokens, same defaults), so
 * the two routes give the same greedy answer.
 */
final class InProcessClient implements AutoGLMClient {
    /** close() is idempotent (a framework may close a bean the application closes too). */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** Prompt tokens per engine step, as {@code serve}'s default. */
    private static final int PREFILL_BUDGET = 256;
    /** Requests waiting for a slot; more get {@link ServerUnavailableException} (429), as the server would. */
    private static final int QUEUE = 4096;

    private final Path path;
    private final LanguageModel model;
    private final ContinuousBatchScheduler scheduler;
    private final ChatTemplate template;
    private final Set<Integer> stopTokens;
    private final ToolCallFormat toolFormat;
    /** Whether the model writes think blocks (its template handles them): their text goes to the response's reasoning. */
    private final boolean thinks;
    private final EmbeddingModel embedder;
    private final Duration requestTimeout;
    private final Map<String, JsonGrammar> grammars = new ConcurrentHashMap<>();
    /** The most decode rows one engine step ran: above 1 means callers were batched (read by tests). */
    final AtomicInteger maxDecodeRows = new AtomicInteger();
    /** Jobs that ended by cancellation, and the tokens the last of them had generated (read by tests). */
    final AtomicInteger cancelled = new AtomicInteger();
    final AtomicInteger lastCancelledTokens = new AtomicInteger(-1);
    /** The scheduler's view of the last request: submit to first token, and its last prefill step's forward (read by the benchmark). */
    final java.util.concurrent.atomic.AtomicLong lastFirstTokenNanos = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong lastPrefillStepNanos = new java.util.concurrent.atomic.AtomicLong();

    private InProcessClient(Path path, LanguageModel model, int slots, int context, EmbeddingModel embedder, Duration timeout) {
        this.path = path;
        this.model = model;
        this.embedder = embedder;
        this.requestTimeout = timeout;
        this.template = model.chatTemplate().isPresent() ? Prompts.chatTemplate(model) : null;
        this.stopTokens = StopTokens.defaults(model.tokenizer());
        this.toolFormat = ToolCallFormat.forTemplate(model.chatTemplate().orElse(null));
        this.thinks = ThinkBlockSplitter.appliesTo(model.chatTemplate().orElse(null));
        this.scheduler = new ContinuousBatchScheduler("client", model, slots, context, QUEUE, PREFILL_BUDGET, new SchedulerListener() {
            @Override
            public void stepDone(int rows, int decodeRows, long nanos) {
                maxDecodeRows.accumulateAndGet(decodeRows, Math::max);
                if (rows > decodeRows) lastPrefillStepNanos.set(nanos);
            }

            @Override
            public void firstToken(long nanos) {
                lastFirstTokenNanos.set(nanos);
            }

            @Override
            public void jobEnded(String outcome, int completionTokens) {
                if (outcome.equals("cancelled")) {
                    lastCancelledTokens.set(completionTokens);
                    cancelled.incrementAndGet();
                }
            }
        });
    }

    /**
     * Loads the model (and the embedding model when given).
     *
     * @param context KV positions per slot, or null for min(4096, the model's context) as {@code serve} does
     */
    static InProcessClient open(Path modelPath, Path embeddingPath, int slots, Integer context, Duration timeout) {
        return open(modelPath, embeddingPath, slots, context, timeout, ai.autoglm.core.model.KvCacheTypes.DEFAULT);
    }

    /** As above, with the slots' KV caches in {@code kvCache}. */
    static InProcessClient open(Path modelPath, Path embeddingPath, int slots, Integer context, Duration timeout,
                                ai.autoglm.core.model.KvCacheTypes kvCache) {
        requireExists(modelPath, "model");
        if (embeddingPath != null) requireExists(embeddingPath, "embedding model");
        LanguageModel model;
        try {
            model = ModelLoader.load(modelPath, ai.autoglm.core.model.LoadOptions.defaults().withKvCache(kvCache));
            ai.autoglm.core.model.WarmUp.run(model); // the first request's tokens at the steady rate, not the JIT's cold one
        } catch (RuntimeException e) {
            throw new AutoGLMException("cannot load model " + modelPath + ": " + e.getMessage(), e);
        }
        EmbeddingModel embedder = null;
        try {
            int ctx = context != null ? context : Math.min(4096, model.config().contextLength());
            if (ctx > model.config().contextLength()) {
                throw new IllegalArgumentException("context " + ctx + " exceeds the model's " + model.config().contextLength());
            }
            if (embeddingPath != null) embedder = EmbeddingModels.load(embeddingPath, EmbeddingModels.Options.DEFAULT);
            return new InProcessClient(modelPath, model, slots, ctx, embedder, timeout);
        } catch (RuntimeException e) {
            model.close();
            if (embedder != null) embedder.close();
            throw e instanceof AutoGLMException a ? a : new AutoGLMException("cannot start model " + modelPath + ": " + e.getMessage(), e);
        }
    }

    private static void requireExists(Path p, String what) {
        if (!Files.exists(p)) throw new ModelFileNotFoundException(p, what + " " + p.toAbsolutePath() + ": no such file or directory");
    }

    /** Positions each request may use, prompt plus answer. */
    int contextLength() {
        return scheduler.contextPerSlot();
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
        long start = System.nanoTime(), first = 0;
        Submitted s = submit(request, "", false);
        StringBuilder text = new StringBuilder();
        String finish = null;
        while (true) {
            JobEvent e = next(s.job);
            switch (e) {
                case JobEvent.Token t -> {
                    if (first == 0) first = System.nanoTime();
                    text.append(t.step().text());
                    if (t.step().finish() != null) finish = t.step().finish().wireName;
                }
                case JobEvent.Finished f -> {
                    String content = text.toString();
                    String reasoning = null;
                    if (s.start != null) {
                        ThinkBlockSplitter.Split split = ThinkBlockSplitter.split(content, s.start);
                        if (!split.reasoning().isEmpty()) reasoning = split.reasoning();
                        content = split.content();
                    }
                    List<ToolCall> calls = List.of();
                    if (s.toolNames != null) {
                        ToolCallParser.Parsed parsed = ToolCallStreamFilter.parseAll(toolFormat, content, s.toolNames, s.tools);
                        if (parsed.hasToolCalls()) {
                            calls = toolCalls(parsed);
                            content = parsed.content() == null || parsed.content().isEmpty() ? null : parsed.content();
                            finish = "tool_calls";
                        }
                    }
                    return new ChatResponse(content, calls, finish, usage(f), Timing.since(start, first), Route.local("in-process client"),
                            reasoning);
                }
                case JobEvent.Failed f -> throw failure(f);
            }
        }
    }

    @Override
    public ChatStream stream(ChatRequest request) {
        return stream(request, "");
    }

    /**
     * A stream that continues an answer already begun: {@code continuation} is appended after the generation prompt,
     * so the model goes on from it (the hybrid client's restart of a stream its server broke). The pieces and the
     * response's content are the continuation's only.
     */
    ChatStream stream(ChatRequest request, String continuation) {
        long start = System.nanoTime();
        Submitted s = submit(request, continuation, true);
        ToolCallStreamFilter filter = s.toolNames == null ? null : new ToolCallStreamFilter(toolFormat, s.toolNames, s.tools);
        ThinkBlockSplitter think = s.start == null ? null : new ThinkBlockSplitter(s.start);
        return new PieceStream() {
            long first;
            String finish;
            JobEvent.Finished done;
            final StringBuilder content = new StringBuilder();
            List<ToolCall> calls = List.of();

            @Override
            protected String pull() {
                while (done == null) {
                    JobEvent e = next(s.job);
                    switch (e) {
                        case JobEvent.Token t -> {
                            if (first == 0) first = System.nanoTime();
                            if (t.step().finish() != null) finish = t.step().finish().wireName;
                            // pieces are the answer only; reasoning is collected by the splitter for the response
                            String answer = think == null ? t.step().text() : think.push(t.step().text()).content();
                            String piece = filter == null ? answer : filter.push(answer);
                            if (!piece.isEmpty()) {
                                content.append(piece);
                                return piece;
                            }
                        }
                        case JobEvent.Finished f -> {
                            done = f;
                            String tail = "";
                            if (think != null) { // what the splitter held back (a text that began like a tag)
                                String rest = think.finish().content();
                                tail = filter == null ? rest : filter.push(rest);
                            }
                            if (filter != null) {
                                ToolCallParser.Parsed parsed = filter.finish();
                                if (parsed.hasToolCalls()) {
                                    calls = toolCalls(parsed);
                                    finish = "tool_calls";
                                }
                                if (parsed.content() != null) tail += parsed.content();
                            }
                            if (!tail.isEmpty()) {
                                content.append(tail);
                                return tail;
                            }
                        }
                        case JobEvent.Failed f -> throw failure(f);
                    }
                }
                return null;
            }

            @Override
            protected ChatResponse result() {
                String text = content.isEmpty() && !calls.isEmpty() ? null : content.toString();
                String reasoning = think == null || think.reasoning().isEmpty() ? null : think.reasoning();
                return new ChatResponse(text, calls, finish, usage(done), Timing.since(start, first), Route.local("in-process client"),
                        reasoning);
            }

            @Override
            public void close() {
                if (done == null) s.job.cancel();
            }
        };
    }

    /**
     * @param tools        the offered tools as template maps (their parameter types guide GLM-4.5's untyped values)
     * @param start how the answer starts (inside an opened think block, GLM's leading line break); null when nothing is split
     */
    private record Submitted(GenerationJob job, Set<String> toolNames, List<Map<String, Object>> tools, ThinkBlockSplitter.Start start) {
    }

    /**
     * Renders, checks and queues the request (the checks of the server's {@code Generations.submit}).
     *
     * @param streaming whether the caller reads each token as it comes; without it the job wakes the caller for the
     *                  first token and the end only ({@link GenerationJob#wakeReaderAtEndsOnly})
     */
    private Submitted submit(ChatRequest r, String continuation, boolean streaming) {
        if (template == null) throw new ServerErrorException(400, "invalid_request_error", null, "model " + path + " has no chat template");
        String text;
        try {
            text = template.renderRaw(WireFormat.templateMessages(r.messages()), true, WireFormat.templateTools(r.tools()), null);
        } catch (ChatTemplateException e) {
            throw new ServerErrorException(400, "invalid_request_error", null, "the model's chat template rejected the conversation: " + e.getMessage());
        }
        int[] prompt = Prompts.completion(model, text + continuation);
        int context = scheduler.contextPerSlot();
        GenerationOptions o = r.options();
        if (prompt.length >= context) {
            throw new ContextLengthExceededException(400, "The local model's maximum context length is " + context
                    + " tokens. However, your prompt has " + prompt.length + " tokens, which leaves no room for an answer.");
        }
        if (o.maxTokens() != null && (long) prompt.length + o.maxTokens() > context) {
            throw new ContextLengthExceededException(400, "The local model's maximum context length is " + context + " tokens. However, you requested "
                    + ((long) prompt.length + o.maxTokens()) + " tokens (" + prompt.length + " in the prompt, " + o.maxTokens()
                    + " for the completion). Reduce the prompt or maxTokens.");
        }
        // OpenAI's defaults, as the server's GenerationParams reads them: temperature 1, top_p 1, no top-k/min-p.
        SamplerSettings sampling = new SamplerSettings(o.temperature() == null ? 1f : o.temperature().floatValue(),
                o.topK() == null ? 0 : o.topK(), o.topP() == null ? 1f : o.topP().floatValue(), 0f, 1f,
                SamplerSettings.DEFAULT_PENALTY_LAST_N, 0f, 0f, o.seed());
        int maxTokens = o.maxTokens() == null ? context - prompt.length : o.maxTokens();
        GenerationRequest req = new GenerationRequest(prompt, maxTokens, sampling, stopTokens, o.stop(), constraint(r));
        GenerationJob job = new GenerationJob(req, 0, false, requestTimeout.toNanos());
        if (!streaming) job.wakeReaderAtEndsOnly();
        try {
            scheduler.submit(job);
        } catch (QueueFullException e) {
            throw new ServerUnavailableException(429, "rate_limit_error", "queue_full", e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new AutoGLMException("the client is closed", e);
        }
        Set<String> names = null;
        if (!r.tools().isEmpty()) {
            names = new HashSet<>();
            for (ToolSpec t : r.tools()) names.add(t.name());
        }
        ThinkBlockSplitter.Start start = thinks ? ThinkBlockSplitter.start(model.chatTemplate().orElse(null), text + continuation) : null;
        return new Submitted(job, names, WireFormat.templateTools(r.tools()), start);
    }

    /** The response schema as a token constraint (grammars kept by schema text: their token masks are reused). */
    private LogitsProcessor constraint(ChatRequest r) {
        if (r.responseSchema() == null) return null;
        String key = r.responseSchema().toString();
        JsonGrammar g = grammars.get(key);
        if (g == null) {
            try {
                g = ResponseFormats.grammar(WireFormat.responseFormat(r.responseSchema())).orElseThrow();
            } catch (IllegalArgumentException e) {
                throw new ServerErrorException(400, "invalid_request_error", "invalid_value", e.getMessage());
            }
            if (grammars.size() > 32) grammars.clear();
            grammars.put(key, g);
        }
        return g.newLogitsProcessor(model.tokenizer(), stopTokens);
    }

    private static JobEvent next(GenerationJob job) {
        try {
            JobEvent e;
            while ((e = job.next(1000)) == null) {
                // the scheduler's time limit ends every job
            }
            return e;
        } catch (InterruptedException ie) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new AutoGLMException("interrupted while waiting for the model", ie);
        }
    }

    private static AutoGLMException failure(JobEvent.Failed f) {
        if (f.status() == 429 || f.status() >= 500) return new ServerUnavailableException(f.status(), f.type(), null, f.message(), null);
        return new ServerErrorException(f.status(), f.type(), null, f.message());
    }

    private static Usage usage(JobEvent.Finished f) {
        return new Usage(f.promptTokens(), f.completionTokens(), f.cachedPromptTokens());
    }

    private static List<ToolCall> toolCalls(ToolCallParser.Parsed parsed) {
        List<ToolCall> out = new ArrayList<>();
        for (var c : parsed.toolCalls()) out.add(new ToolCall(c.id(), c.name(), c.argumentsJson()));
        return out;
    }

    @Override
    public Embeddings embed(List<String> texts) {
        if (embedder == null) {
            throw new AutoGLMException("this in-process client has no embedding model; give one with InProcessBuilder.embeddingModel(path)");
        }
        float[][] v = embedder.embed(texts);
        int tokens = 0;
        for (String t : texts) tokens += embedder.tokenCount(t);
        return new Embeddings(List.of(v), tokens, Route.local("in-process client"));
    }

    @Override
    public int countTokens(String text) {
        return model.tokenizer().encode(text, true).length;
    }

    /** Stops the scheduler thread (running requests fail) and unmaps the weights. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) return;
        scheduler.close();
        model.close();
        if (embedder != null) embedder.close();
    }
}
