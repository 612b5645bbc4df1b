package ai.autoglm.server.api;

import ai.autoglm.core.generate.GenerationStream;
import ai.autoglm.core.generate.LogitsProcessor;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.reasoning.ThinkBlockSplitter;
import ai.autoglm.core.tokenizer.ChatTemplateException;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.server.models.ServedModel;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.server.gateway.OutputFilter;
import ai.autoglm.core.tokenizer.ToolCall;
import ai.autoglm.core.tokenizer.ToolCallParser;
import ai.autoglm.core.generate.tools.ForcedToolCall;
import ai.autoglm.core.generate.tools.ToolCallStreamFilter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * {@code POST /v1/chat/completions}: renders the conversation (and tools) with the model's chat template, generates
 * through the scheduler and answers with a {@code chat.completion} or a stream of {@code chat.completion.chunk}s
 * (first chunk carries the role, the last one the finish reason, then the usage chunk when asked for).
 *
 * <p>For models that think ({@link ServedModel#thinks}: Qwen3, GLM-4.5), the {@code <think>} block goes to
 * {@code message.reasoning_content} (streamed: {@code delta.reasoning_content}), as vLLM's reasoning parsers and
 * DeepSeek's API return it, and {@code content} is the answer after it; tool calls are read from the answer only. GLM
 * models' answers lose the line break they start with, as GLM's own {@code process_response} strips them
 * ({@link ThinkBlockSplitter.Start#trimsLeadingNewlines}).
 */
final class ChatCompletionsEndpoint {
    private final OpenAiApi api;

    ChatCompletionsEndpoint(OpenAiApi api) {
        this.api = api;
    }

    /**
     * @param m          the model the request names, acquired once by the pipeline ({@link ModelStage})
     * @param textFilter what to do to the generated text before it is sent (the PII filter's redaction, or nothing)
     */
    void handle(JsonNode body, ServedModel m, OutputFilter textFilter, HttpExchange ex) throws IOException {
        ChatRequest req = ChatRequest.read(body);
        String text;
        try {
            text = m.chatTemplate().renderRaw(req.messages(), true, req.tools(),
                    req.templateKwargs().isEmpty() ? null : req.templateKwargs());
        } catch (ChatTemplateException e) {
            throw ApiException.invalidParam("messages", "the model's chat template rejected the conversation: " + e.getMessage());
        }
        int[] prompt = Prompts.completion(m.model(), text);
        api.metrics().promptTokens(m.alias(), prompt.length);
        LogitsProcessor constraint = req.forcedTools() == null ? Generations.responseFormat(m, req.params()) : forcedCall(m, req);
        GenerationJob job = Generations.submit(m, prompt, req.params(), api.config().requestTimeout(), "messages", constraint);
        if (!req.params().stream()) ex.cancelWhenClientLeaves(job);
        // A prompt that ends inside an opened think block (templates that open it for the model) starts in reasoning.
        ThinkBlockSplitter.Start start = m.thinks() ? ThinkBlockSplitter.start(m.model().chatTemplate().orElse(null), text) : null;
        Reply reply = new Reply(m, req, job, textFilter, start);
        JobEvent first = Generations.next(job);
        if (first instanceof JobEvent.Failed f) throw Generations.error(f);
        if (req.params().stream()) reply.stream(first, ex); else reply.whole(first, ex);
    }

    /** Forced-call grammars by format and tools (the same tools come with every request of a conversation). */
    private static final CompiledCache<ForcedToolCall> FORCED_CALLS = new CompiledCache<>(32);

    /** The constraint that makes the model write one call to one of the forced tools, in its tool-call format. */
    private static LogitsProcessor forcedCall(ServedModel m, ChatRequest req) {
        String key = m.toolFormat().name() + "\n" + Json.MAPPER.valueToTree(req.forcedTools());
        ForcedToolCall grammar = FORCED_CALLS.get(key, () -> {
            try {
                return ForcedToolCall.of(m.toolFormat(), req.forcedTools());
            } catch (IllegalArgumentException e) {
                throw ApiException.unsupported("tool_choice", "cannot force this tool call: " + e.getMessage());
            }
        });
        return grammar.newLogitsProcessor(m.model().tokenizer());
    }

    /** One response being built from the job's events. */
    private final class Reply {
        final ServedModel m;
        final ChatRequest req;
        final GenerationJob job;
        final Tokenizer tok;
        final String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        final long created = System.currentTimeMillis() / 1000;
        final ToolCallStreamFilter tools;
        final OutputFilter textFilter;
        /** Whether the output starts inside a think block; null when the model does not think. */
        final ThinkBlockSplitter.Start start;
        String finish;

        Reply(ServedModel m, ChatRequest req, GenerationJob job, OutputFilter textFilter, ThinkBlockSplitter.Start start) {
            this.textFilter = textFilter;
            this.start = start;
            this.m = m;
            this.req = req;
            this.job = job;
            this.tok = m.model().tokenizer();
            this.tools = req.parseToolCalls() ? new ToolCallStreamFilter(m.toolFormat(), req.toolNames(), req.tools()) : null;
        }

        void whole(JobEvent first, HttpExchange ex) {
            StringBuilder content = new StringBuilder();
            ArrayNode logprobs = Json.MAPPER.createArrayNode();
            JobEvent e = first;
            int generated = 0;
            while (e instanceof JobEvent.Token t) {
                GenerationStream.Step step = t.step();
                content.append(step.text());
                if (step.counted()) generated++;
                if (req.params().logprobs() && step.counted()) logprobs.add(Logprobs.chatEntry(tok, step));
                if (step.finish() != null) finish = step.finish().wireName;
                e = Generations.next(job);
            }
            if (e instanceof JobEvent.Failed f) {
                ex.used(job.prompt().length, generated); // what it cost, for the audit and the quota
                throw Generations.error(f);
            }
            JobEvent.Finished done = (JobEvent.Finished) e;

            ObjectNode message = Json.object();
            message.put("role", "assistant");
            String text = content.toString();
            String reasoning = null;
            if (start != null) {
                ThinkBlockSplitter.Split split = ThinkBlockSplitter.split(text, start);
                if (!split.reasoning().isEmpty()) reasoning = split.reasoning();
                text = split.content();
            }
            List<ToolCall> calls = List.of();
            if (tools != null) {
                ToolCallParser.Parsed parsed = ToolCallStreamFilter.parseAll(m.toolFormat(), text, req.toolNames(), req.tools());
                if (parsed.hasToolCalls()) {
                    calls = parsed.toolCalls();
                    text = parsed.content() == null || parsed.content().isEmpty() ? null : parsed.content();
                    finish = "tool_calls";
                }
            }
            OutputFilter out = textFilter;
            String sentText = text == null ? null : out.apply(text);
            String sentReasoning = reasoning == null ? null : out.apply(reasoning);
            message.put("content", sentText);
            if (sentReasoning != null) message.put("reasoning_content", sentReasoning);
            message.putNull("refusal");
            // the audit records all the text the client got, the reasoning first
            StringBuilder sent = new StringBuilder(sentReasoning == null ? "" : sentReasoning + "\n");
            if (sentText != null) sent.append(sentText);
            if (!calls.isEmpty()) {
                ArrayNode tc = message.putArray("tool_calls");
                for (ToolCall c : calls) {
                    ToolCall f = filtered(out, c);
                    tc.add(toolCall(f, null));
                    sent.append('\n').append(f.name()).append(' ').append(f.argumentsJson());
                }
            }
            ObjectNode root = envelope("chat.completion");
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0);
            choice.set("message", message);
            if (req.params().logprobs()) {
                ObjectNode lp = choice.putObject("logprobs");
                lp.set("content", logprobs);
                lp.putNull("refusal");
            } else {
                choice.putNull("logprobs");
            }
            choice.put("finish_reason", finish);
            root.set("usage", usage(done));
            ex.finished(done, sent.toString());
            ex.sendJson(200, root);
        }

        void stream(JobEvent first, HttpExchange ex) throws IOException {
            Sse sse = ex.startEventStream();
            OutputFilter.Stream out = textFilter.open();
            ThinkBlockSplitter think = start == null ? null : new ThinkBlockSplitter(start);
            OutputFilter.Stream reasoningOut = textFilter.open(); // its own stream: a redaction never spans the two
            StringBuilder output = new StringBuilder();
            StringBuilder reasoningSent = new StringBuilder();
            int generated = 0;
            try {
                ObjectNode delta = Json.object();
                delta.put("role", "assistant");
                delta.put("content", "");
                sse.send(chunk(delta, null, null));
                JobEvent e = first;
                while (e instanceof JobEvent.Token t) {
                    GenerationStream.Step step = t.step();
                    if (step.counted()) generated++;
                    String answer = step.text();
                    String reasoning = "";
                    if (think != null) {
                        ThinkBlockSplitter.Split split = think.push(answer);
                        reasoning = reasoningOut.push(split.reasoning());
                        answer = split.content();
                    }
                    String text = out.push(tools == null ? answer : tools.push(answer));
                    output.append(text);
                    reasoningSent.append(reasoning);
                    ObjectNode lp = null;
                    if (req.params().logprobs() && step.counted()) {
                        lp = Json.object();
                        lp.putArray("content").add(Logprobs.chatEntry(tok, step));
                        lp.putNull("refusal");
                    }
                    if (!reasoning.isEmpty() || !text.isEmpty() || lp != null) sse.send(chunk(delta(reasoning, text), lp, null));
                    if (step.finish() != null) finish = step.finish().wireName;
                    e = Generations.next(job);
                }
                if (e instanceof JobEvent.Failed f) {
                    ex.used(job.prompt().length, generated);
                    sse.error(Generations.error(f));
                    sse.done();
                    return;
                }
                JobEvent.Finished done = (JobEvent.Finished) e;
                if (think != null) {
                    // what the splitter held back: an unclosed block's last reasoning, or a text that began like a tag
                    ThinkBlockSplitter.Split last = think.finish();
                    String r = reasoningOut.push(last.reasoning()) + reasoningOut.finish();
                    reasoningSent.append(r);
                    String a = last.content().isEmpty() ? "" : out.push(tools == null ? last.content() : tools.push(last.content()));
                    output.append(a);
                    if (!r.isEmpty() || !a.isEmpty()) sse.send(chunk(delta(r, a), null, null));
                }
                ToolCallParser.Parsed parsed = tools == null ? null : tools.finish();
                String rest = out.push(parsed == null || parsed.content() == null ? "" : parsed.content()) + out.finish();
                if (!rest.isEmpty()) sse.send(chunk(contentDelta(rest), null, null));
                output.append(rest);
                if (tools != null) {
                    if (parsed.hasToolCalls()) {
                        ObjectNode d = Json.object();
                        ArrayNode tc = d.putArray("tool_calls");
                        for (int i = 0; i < parsed.toolCalls().size(); i++) {
                            ToolCall c = filtered(textFilter, parsed.toolCalls().get(i));
                            tc.add(toolCall(c, i));
                            output.append('\n').append(c.name()).append(' ').append(c.argumentsJson());
                        }
                        sse.send(chunk(d, null, null));
                        finish = "tool_calls";
                    }
                }
                sse.send(chunk(Json.object(), null, finish));
                if (req.params().includeUsage()) {
                    ObjectNode u = envelope("chat.completion.chunk");
                    u.putArray("choices");
                    u.set("usage", usage(done));
                    sse.send(u);
                }
                ex.finished(done, sentText(reasoningSent, output));
                sse.done();
            } catch (ClientGoneException gone) {
                job.cancel(); // free the slot at the next step
                ex.clientLeft(job.prompt().length, generated, sentText(reasoningSent, output));
                throw gone;
            } catch (IOException | RuntimeException failed) {
                job.cancel();
                throw failed;
            }
        }

        /** The call with the output filter applied to its arguments (a redaction stays inside the JSON strings). */
        private static ToolCall filtered(OutputFilter out, ToolCall c) {
            return out.active() ? new ToolCall(c.id(), c.name(), out.apply(c.argumentsJson())) : c;
        }

        private ObjectNode contentDelta(String text) {
            ObjectNode d = Json.object();
            d.put("content", text);
            return d;
        }

        /** A delta with reasoning and/or content; content is always there unless the chunk carries only reasoning. */
        private ObjectNode delta(String reasoning, String text) {
            ObjectNode d = Json.object();
            if (!reasoning.isEmpty()) d.put("reasoning_content", reasoning);
            if (!text.isEmpty() || reasoning.isEmpty()) d.put("content", text);
            return d;
        }

        /** The text the client got, for the audit: the reasoning first, as in the non-streamed answer. */
        private static String sentText(CharSequence reasoning, CharSequence content) {
            return reasoning.isEmpty() ? content.toString() : reasoning + "\n" + content;
        }

        private ObjectNode chunk(ObjectNode delta, ObjectNode logprobs, String finishReason) {
            ObjectNode root = envelope("chat.completion.chunk");
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0);
            choice.set("delta", delta);
            if (logprobs == null) choice.putNull("logprobs"); else choice.set("logprobs", logprobs);
            choice.put("finish_reason", finishReason);
            return root;
        }

        private ObjectNode envelope(String object) {
            ObjectNode root = Json.object();
            root.put("id", id);
            root.put("object", object);
            root.put("created", created);
            root.put("model", m.alias());
            root.putNull("system_fingerprint");
            return root;
        }

        private ObjectNode toolCall(ToolCall c, Integer index) {
            ObjectNode n = Json.object();
            if (index != null) n.put("index", index);
            n.put("id", c.id());
            n.put("type", "function");
            ObjectNode fn = n.putObject("function");
            fn.put("name", c.name());
            fn.put("arguments", c.argumentsJson());
            return n;
        }
    }

    static ObjectNode usage(JobEvent.Finished done) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", done.promptTokens());
        u.put("completion_tokens", done.completionTokens());
        u.put("total_tokens", done.promptTokens() + done.completionTokens());
        u.putObject("prompt_tokens_details").put("cached_tokens", done.cachedPromptTokens());
        return u;
    }
}
