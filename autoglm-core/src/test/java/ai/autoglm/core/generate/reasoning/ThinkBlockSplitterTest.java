package ai.autoglm.core.generate.reasoning;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The split against the rule Qwen3's and GLM-4.5's chat templates apply to an assistant message with a think block
 * (written here as the templates' Python expressions: {@code content.split('</think>')[0].rstrip('\n')
 * .split('<think>')[-1].lstrip('\n')} and {@code content.split('</think>')[-1].lstrip('\n')}), whole and streamed
 * in pieces cut at every position (every tag split over pieces).
 */
class ThinkBlockSplitterTest {

    /** The templates' extraction (Python str semantics) for an output with one closed block. */
    static ThinkBlockSplitter.Split templateRule(String output) {
        String beforeClose = output.substring(0, output.indexOf("</think>"));
        String r = stripTrailing(beforeClose, '\n');
        r = r.substring(r.lastIndexOf("<think>") + "<think>".length());
        r = stripLeading(r, '\n');
        String after = output.substring(output.lastIndexOf("</think>") + "</think>".length());
        return new ThinkBlockSplitter.Split(r, stripLeading(after, '\n'));
    }

    static String stripLeading(String s, char c) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == c) i++;
        return s.substring(i);
    }

    static String stripTrailing(String s, char c) {
        int i = s.length();
        while (i > 0 && s.charAt(i - 1) == c) i--;
        return s.substring(0, i);
    }

    static final List<String> WITH_BLOCK = List.of(
            "<think>\nLet me think.\n\nStep 2: 中文推理\n</think>\n\nThe answer is 4.",
            "<think>\n\n</think>\n\nNo thinking.",
            "\n<think>GLM reasoning</think>\nGLM answer\n",
            "<think>r</think><tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
            "<think>\na < b and </thin k> is not a tag\n</think>\n\n\nx");

    @Test
    void wholeOutputsSplitAsTheTemplatesDo() {
        for (String out : WITH_BLOCK) {
            assertThat(ThinkBlockSplitter.split(out, false)).as(out).isEqualTo(templateRule(out));
        }
        ThinkBlockSplitter.Split s = ThinkBlockSplitter.split(WITH_BLOCK.get(0), false);
        assertThat(s.reasoning()).isEqualTo("Let me think.\n\nStep 2: 中文推理");
        assertThat(s.content()).isEqualTo("The answer is 4.");
    }

    @Test
    void streamedInAnyPiecesGivesTheSameSplit() {
        List<String> all = new ArrayList<>(WITH_BLOCK);
        all.add("Plain answer with <think> later");
        all.add("  <thinking> is not a block");
        all.add("<think>\nnever closed\n\n");
        all.add("\n\n");
        all.add("<thi");
        for (String out : all) {
            ThinkBlockSplitter.Split whole = ThinkBlockSplitter.split(out, false);
            for (int i = 0; i <= out.length(); i++) {
                for (int j = i; j <= out.length(); j++) {
                    assertThat(streamed(false, out.substring(0, i), out.substring(i, j), out.substring(j)))
                            .as("%s cut at %d, %d", out, i, j).isEqualTo(whole);
                }
            }
            List<String> chars = new ArrayList<>();
            out.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
            assertThat(streamed(false, chars.toArray(String[]::new))).as("%s char by char", out).isEqualTo(whole);
        }
    }

    @Test
    void outputWithoutALeadingBlockIsContentUntouched() {
        for (String out : List.of("Plain answer with <think>x</think> later", "  <thinking> is not a block", "\n\n", "<thi")) {
            assertThat(ThinkBlockSplitter.split(out, false)).isEqualTo(new ThinkBlockSplitter.Split("", out));
        }
        ThinkBlockSplitter s = new ThinkBlockSplitter(false);
        assertThat(s.push("Hello")).isEqualTo(new ThinkBlockSplitter.Split("", "Hello"));
        assertThat(s.sawReasoning()).isFalse();
    }

    @Test
    void anUnclosedBlockIsReasoning() {
        assertThat(ThinkBlockSplitter.split("<think>\nnever closed\n\n", false))
                .isEqualTo(new ThinkBlockSplitter.Split("never closed", ""));
    }

    @Test
    void aPromptThatOpenedTheBlockStartsInside() {
        assertThat(ThinkBlockSplitter.startsInside("<|im_start|>assistant\n<think>\n")).isTrue();
        assertThat(ThinkBlockSplitter.startsInside("<|assistant|>\n<think></think>")).isFalse();
        assertThat(ThinkBlockSplitter.startsInside("<|im_start|>assistant\n")).isFalse();
        String out = "\nreasoning here\n</think>\n\nanswer";
        ThinkBlockSplitter.Split whole = ThinkBlockSplitter.split(out, true);
        assertThat(whole).isEqualTo(new ThinkBlockSplitter.Split("reasoning here", "answer"));
        for (int i = 0; i <= out.length(); i++) {
            assertThat(streamed(true, out.substring(0, i), out.substring(i))).isEqualTo(whole);
        }
    }

    @Test
    void tagsHeldBackOnlyWhileTheyMayBeTags() {
        ThinkBlockSplitter s = new ThinkBlockSplitter(false);
        assertThat(s.push("<th")).isEqualTo(new ThinkBlockSplitter.Split("", ""));
        assertThat(s.push("ink>\nOne")).isEqualTo(new ThinkBlockSplitter.Split("One", ""));
        assertThat(s.push(" two\n</thi")).isEqualTo(new ThinkBlockSplitter.Split(" two", ""));
        assertThat(s.push("nk>\n\nDone")).isEqualTo(new ThinkBlockSplitter.Split("", "Done"));
        assertThat(s.finish()).isEqualTo(new ThinkBlockSplitter.Split("", ""));
        assertThat(s.reasoning()).isEqualTo("One two");
        assertThat(ThinkBlockSplitter.appliesTo("{{ '<think>\\n' }}...{{ '</think>' }}")).isTrue();
        assertThat(ThinkBlockSplitter.appliesTo("<|im_start|>{{ m.content }}")).isFalse();
    }

    /**
     * GLM's process_response (THUDM modeling_chatglm.py): with no metadata line, {@code content = content.strip()}; the
     * answer's leading line break goes (the API keeps trailing text as generated, as for every model). A GLM-4 template
     * has no think blocks: a leading "<think>" there is content.
     */
    @Test
    void glmAnswersLoseTheirLeadingLineBreakStreamedOrNot() {
        String glm4 = "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{% endfor %}<|assistant|>";
        ThinkBlockSplitter.Start start = ThinkBlockSplitter.start(glm4, "[gMASK]<sop><|user|>\nhi<|assistant|>");
        assertThat(start).isEqualTo(new ThinkBlockSplitter.Start(false, false, true));
        for (String out : List.of("\nHello!\nSecond line", "\n\n你好", "Hello", "\n<think>x</think>y", "\n", "")) {
            String expected = stripLeading(out, '\n');
            assertThat(ThinkBlockSplitter.split(out, start)).as(out).isEqualTo(new ThinkBlockSplitter.Split("", expected));
            for (int cut = 0; cut <= out.length(); cut++) {
                assertThat(streamed(start, out.substring(0, cut), out.substring(cut))).as(out + " cut at " + cut)
                        .isEqualTo(new ThinkBlockSplitter.Split("", expected));
            }
        }
        // GLM-4.5 (think blocks and <|assistant|>): a block is reasoning, an answer without one loses its line break
        String glm45 = glm4 + "{{ '</think>' }}";
        ThinkBlockSplitter.Start s45 = ThinkBlockSplitter.start(glm45, "<|user|>\nhi<|assistant|>");
        assertThat(ThinkBlockSplitter.split("\n<think>r</think>\nanswer", s45)).isEqualTo(new ThinkBlockSplitter.Split("r", "answer"));
        assertThat(ThinkBlockSplitter.split("\nanswer\n", s45)).isEqualTo(new ThinkBlockSplitter.Split("", "answer\n"));
        // other templates are not trimmed, and without blocks or GLM's prompt nothing is split
        assertThat(ThinkBlockSplitter.start("<|im_start|>{{ m.content }}", "x")).isNull();
    }

    static ThinkBlockSplitter.Split streamed(boolean startsInside, String... pieces) {
        return streamed(new ThinkBlockSplitter.Start(startsInside, true, false), pieces);
    }

    static ThinkBlockSplitter.Split streamed(ThinkBlockSplitter.Start start, String... pieces) {
        ThinkBlockSplitter s = new ThinkBlockSplitter(start);
        StringBuilder r = new StringBuilder(), c = new StringBuilder();
        for (String p : pieces) {
            ThinkBlockSplitter.Split d = s.push(p);
            r.append(d.reasoning());
            c.append(d.content());
        }
        ThinkBlockSplitter.Split d = s.finish();
        return new ThinkBlockSplitter.Split(r.append(d.reasoning()).toString(), c.append(d.content()).toString());
    }
}
