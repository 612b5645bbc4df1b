package ai.autoglm.server.api;

import ai.autoglm.core.generate.GenerationStream;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.server.models.ServedModel;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.server.gateway.OutputFilter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.UUID;

/** {@code POST /v1/completions}: plain-text (or token-id) prompts, answered as {@code text_completion} objects or chunks. */
final class CompletionsEndpoint {
    private final OpenAiApi api;

    CompletionsEndpoint(OpenAiApi api) {
        this.api = api;
    }

    /**
     * @param m          the model the request names, acquired once by the pipeline ({@link ModelStage})
     * @param textFilter what to do to the generated text before it is sent (the PII filter's redaction, or nothing)
     */
    void handle(JsonNode body, ServedModel m, OutputFilter textFilter, HttpExchange ex) throws IOException {
        CompletionRequest req = CompletionRequest.read(body);
        Tokenizer tok = m.model().tokenizer();
        int[] prompt = req.tokens() != null ? req.tokens() : Prompts.completion(m.model(), req.text());
        api.metrics().promptTokens(m.alias(), prompt.length);
        GenerationJob job = Generations.submit(m, prompt, req.params(), api.config().requestTimeout(), "prompt");
        if (!req.params().stream()) ex.cancelWhenClientLeaves(job);
        String echo = !req.echo() ? "" : req.text() != null ? req.text() : tok.decode(prompt, true);

        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        JobEvent e = Generations.next(job);
        if (e instanceof JobEvent.Failed f) throw Generations.error(f);
        boolean logprobs = req.params().logprobs();
        String finish = null;

        if (!req.params().stream()) {
            StringBuilder text = new StringBuilder(echo);
            Logprobs.Legacy lp = new Logprobs.Legacy();
            int generated = 0;
            while (e instanceof JobEvent.Token t) {
                GenerationStream.Step step = t.step();
                if (step.counted()) generated++;
                if (logprobs && step.counted()) lp.add(tok, step, text.length());
                text.append(step.text());
                if (step.finish() != null) finish = step.finish().wireName;
                e = Generations.next(job);
            }
            if (e instanceof JobEvent.Failed f) {
                ex.used(prompt.length, generated);
                throw Generations.error(f);
            }
            String answer = echo + textFilter.apply(text.substring(echo.length()));
            ObjectNode root = envelope(id, created, m.alias());
            root.putArray("choices").add(choice(answer, logprobs ? lp.node : null, finish));
            root.set("usage", ChatCompletionsEndpoint.usage((JobEvent.Finished) e));
            ex.finished((JobEvent.Finished) e, answer);
            ex.sendJson(200, root);
            return;
        }

        Sse sse = ex.startEventStream();
        OutputFilter.Stream out = textFilter.open();
        StringBuilder output = new StringBuilder(echo);
        int generated = 0;
        try {
            int offset = 0;
            if (!echo.isEmpty()) {
                sse.send(chunk(id, created, m.alias(), echo, null, null));
                offset = echo.length();
            }
            while (e instanceof JobEvent.Token t) {
                GenerationStream.Step step = t.step();
                ObjectNode lpNode = null;
                if (logprobs && step.counted()) {
                    Logprobs.Legacy lp = new Logprobs.Legacy();
                    lp.add(tok, step, offset);
                    lpNode = lp.node;
                }
                if (step.counted()) generated++;
                String piece = out.push(step.text());
                if (!piece.isEmpty() || lpNode != null) sse.send(chunk(id, created, m.alias(), piece, lpNode, null));
                offset += step.text().length();
                output.append(piece);
                if (step.finish() != null) finish = step.finish().wireName;
                e = Generations.next(job);
            }
            if (e instanceof JobEvent.Failed f) {
                ex.used(prompt.length, generated);
                sse.error(Generations.error(f));
                sse.done();
                return;
            }
            String rest = out.finish();
            if (!rest.isEmpty()) sse.send(chunk(id, created, m.alias(), rest, null, null));
            output.append(rest);
            sse.send(chunk(id, created, m.alias(), "", null, finish));
            if (req.params().includeUsage()) {
                ObjectNode u = envelope(id, created, m.alias());
                u.putArray("choices");
                u.set("usage", ChatCompletionsEndpoint.usage((JobEvent.Finished) e));
                sse.send(u);
            }
            ex.finished((JobEvent.Finished) e, output.toString());
            sse.done();
        } catch (ClientGoneException gone) {
            job.cancel(); // free the slot at the next step
            ex.clientLeft(prompt.length, generated, output.toString());
            throw gone;
        } catch (IOException | RuntimeException failed) {
            job.cancel();
            throw failed;
        }
    }

    private static ObjectNode envelope(String id, long created, String model) {
        ObjectNode root = Json.object();
        root.put("id", id);
        root.put("object", "text_completion");
        root.put("created", created);
        root.put("model", model);
        root.putNull("system_fingerprint");
        return root;
    }

    private static ObjectNode choice(String text, ObjectNode logprobs, String finish) {
        ObjectNode c = Json.object();
        c.put("text", text);
        c.put("index", 0);
        if (logprobs == null) c.putNull("logprobs"); else c.set("logprobs", logprobs);
        c.put("finish_reason", finish);
        return c;
    }

    private static ObjectNode chunk(String id, long created, String model, String text, ObjectNode logprobs, String finish) {
        ObjectNode root = envelope(id, created, model);
        root.putArray("choices").add(choice(text, logprobs, finish));
        return root;
    }
}
