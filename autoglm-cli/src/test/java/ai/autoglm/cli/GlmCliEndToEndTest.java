package ai.autoglm.cli;

import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Spec;
import ai.autoglm.core.testing.GlmReferenceForward;
import ai.autoglm.core.testing.GlmTokenizerFiles;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code run --chat} and {@code chat} on every GLM layout, each directory carrying the real glm-4-9b-chat chat
 * template: the remote-code directory with a tiktoken tokenizer.model (glm-4-9b-chat), glm-4-9b-chat-hf, GLM-4-0414,
 * and GGUF files made from them by {@code autoglm convert}. Greedy output must be the greedy continuation of the
 * double-precision reference forward pass (GlmReferenceForward, written from modeling_chatglm.py / modeling_glm.py /
 * modeling_glm4.py), stopping where the model emits {@code <|user|>}, {@code <|observation|>} or {@code <|endoftext|>}
 * (the GLM turn ends, written here by their text).
 */
class GlmCliEndToEndTest {
    @TempDir
    static Path dir;

    /** A model file or directory and the reference that computes its logits. */
    record Case(Path model, Spec spec, Layout layout) {
    }

    static final Map<String, Case> CASES = new LinkedHashMap<>();
    static final List<String> STOP_TEXTS = List.of("<|user|>", "<|observation|>", "<|endoftext|>");

    @BeforeAll
    static void writeModels() {
        String template = GlmTokenizerFiles.chatTemplate("glm-4-9b-chat");
        // Seeds picked (by running the reference) so that the greedy paths end turns: glm-4-9b's with <|endoftext|>,
        // 0414's with <|observation|> and <|user|>; every stop token is then exercised.
        Spec glm4 = GlmFixtures.glm4_9b().withSeed(57);
        Spec z = GlmFixtures.glm4_0414().withSeed(58);
        Path remote = GlmTokenizerFiles.writeGlm4Tiktoken(glm4, dir.resolve("glm-4-9b-chat"));
        Path hf = GlmTokenizerFiles.withChatTemplate(GlmFixtures.writeHf(glm4, Layout.GLM_HF, dir.resolve("glm-4-9b-chat-hf")), template);
        Path z0414 = GlmTokenizerFiles.withChatTemplate(GlmFixtures.writeHf(z, Layout.GLM4_HF, dir.resolve("glm-4-0414")), template);
        CASES.put("remote-code tiktoken", new Case(remote, glm4, Layout.CHATGLM_REMOTE));
        CASES.put("-hf", new Case(hf, glm4, Layout.GLM_HF));
        CASES.put("0414", new Case(z0414, z, Layout.GLM4_HF));
        for (var e : List.copyOf(CASES.entrySet())) {
            Path gguf = dir.resolve(e.getValue().model().getFileName() + ".gguf");
            CliRunner.Result r = CliRunner.run("convert", e.getValue().model().toString(), gguf.toString(), "--type", "f32");
            assertThat(r.exitCode()).as(r.err()).isZero();
            CASES.put(e.getKey() + " GGUF", new Case(gguf, e.getValue().spec(), e.getValue().layout()));
        }
    }

    @Test
    void runChatIsTheReferenceGreedyContinuationAndStopsAtTheTurnEnd() {
        int maxTokens = 24;
        Set<String> stoppedBy = new java.util.TreeSet<>();
        for (var e : CASES.entrySet()) {
            for (String prompt : List.of("你好", "Hello world")) {
                Expected x = reference(e.getValue(), List.of(ChatMessage.user(prompt)), maxTokens);
                CliRunner.Result r = CliRunner.run("run", "--model", e.getValue().model().toString(), "--chat", "--prompt", prompt,
                        "--temperature", "0", "-n", String.valueOf(maxTokens));
                assertThat(r.exitCode()).as(e.getKey() + ": " + r.err()).isZero();
                assertThat(r.out()).as("%s, prompt %s", e.getKey(), prompt).isEqualTo(x.text() + System.lineSeparator());
                assertThat(r.err()).as(e.getKey()).contains("finish: " + (x.stopped() ? "stop" : "length"))
                        .contains("generated " + x.tokens() + " tokens");
                if (x.stopped()) stoppedBy.add(x.stopText());
            }
        }
        // the fixtures' greedy paths do reach turn ends, so each stop token is exercised, not only the length limit
        assertThat(stoppedBy).containsExactlyInAnyOrderElementsOf(STOP_TEXTS);
    }

    @Test
    void chatKeepsHistoryOnEveryLayout() {
        for (var e : CASES.entrySet()) {
            CliRunner.Result r = CliRunner.runWithInput("你好\nHello world\n/exit\n", "chat", "--model",
                    e.getValue().model().toString(), "--temperature", "0", "-n", "8", "--quiet");
            assertThat(r.exitCode()).as(e.getKey() + ": " + r.err()).isZero();
            String[] parts = r.out().split("> ", -1);
            assertThat(parts).as(e.getKey()).hasSizeGreaterThanOrEqualTo(3);
            String first = parts[1].stripTrailing();
            String second = parts[2].stripTrailing();
            // the answer as GLM's process_response gives it: without the line break it starts with
            assertThat(first).as(e.getKey()).isEqualTo(reference(e.getValue(), List.of(ChatMessage.user("你好")), 8).text().stripTrailing().replaceFirst("^\n+", ""));
            // the second turn renders the whole conversation with the first answer as the assistant's turn
            List<ChatMessage> conversation = List.of(ChatMessage.user("你好"), ChatMessage.assistant(first), ChatMessage.user("Hello world"));
            assertThat(second).as(e.getKey()).isEqualTo(reference(e.getValue(), conversation, 8).text().stripTrailing().replaceFirst("^\n+", ""));
        }
    }

    /** The reference's greedy text, its token count, and the stop token's text (null when the length limit ended it). */
    @Test
    void infoShowsTheGlmPromptPrefix() {
        for (var e : CASES.entrySet()) {
            CliRunner.Result r = CliRunner.run("info", e.getValue().model().toString());
            assertThat(r.exitCode()).as(e.getKey() + ": " + r.err()).isZero();
            assertThat(r.out()).as(e.getKey()).contains("prompt prefix " + GlmFixtures.GMASK_ID + " [gMASK], " + GlmFixtures.SOP_ID + " <sop>")
                    .contains("chat template: " + GlmTokenizerFiles.chatTemplate("glm-4-9b-chat").length() + " chars");
        }
    }

    record Expected(String text, int tokens, String stopText) {
        boolean stopped() {
            return stopText != null;
        }
    }

    /** Greedy decoding by the reference forward pass over the chat prompt, decoded with the model's tokenizer. */
    private static Expected reference(Case c, List<ChatMessage> messages, int maxTokens) {
        try (LanguageModel m = ModelLoader.load(c.model())) {
            Tokenizer tok = m.tokenizer();
            int[] prompt = Prompts.chat(m, messages, true, null);
            Map<Integer, String> stop = new java.util.HashMap<>();
            for (String t : STOP_TEXTS) stop.put(tok.tokenId(t), t);
            GlmReferenceForward ref = new GlmReferenceForward(c.spec(), c.layout(),
                    GlmFixtures.hfTensors(c.spec(), c.layout(), GlmFixtures.weights(c.spec())), prompt.length + maxTokens);
            double[][] rows = ref.run(prompt);
            double[] logits = rows[rows.length - 1];
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < maxTokens; i++) {
                int best = 0;
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
                if (stop.containsKey(best)) return new Expected(decode(tok, out), out.size(), stop.get(best));
                out.add(best);
                logits = ref.run(new int[]{best})[0];
            }
            return new Expected(decode(tok, out), out.size(), null);
        }
    }

    private static String decode(Tokenizer tok, List<Integer> ids) {
        return tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
    }
}
