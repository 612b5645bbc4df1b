package ai.autoglm.core.generate.reasoning;

/**
 * Separates a reasoning model's {@code <think>...</think>} block from its answer, for the OpenAI API's
 * {@code reasoning_content} (as vLLM's reasoning parsers and DeepSeek's API return it: the message's, or each
 * streamed delta's, {@code reasoning_content} beside {@code content}). Qwen3 and GLM-4.5 write
 * {@code <think>\nreasoning\n</think>\n\nanswer}; when a client sends the answer back with its
 * {@code reasoning_content}, their chat templates rebuild exactly that (Qwen3:
 * {@code '<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n')}), and drop it
 * for turns before the last user message. So the split strips what the templates strip: newlines around the
 * reasoning and before the answer.
 *
 * <p>The block counts only at the start of the output (after whitespace), or from the start when the prompt
 * already opened it ({@link #startsInside}: templates that end the generation prompt with {@code <think>}). Output
 * that does not begin with the block is all content, byte for byte; a block the generation never closed (length
 * limit) is all reasoning. Streaming holds back only what may still turn out to be a tag (a {@code <think>} or
 * {@code </think>} split over several tokens) and the newlines the split would strip, so pushing the output in
 * any pieces gives the same reasoning and content as pushing it whole.
 *
 * <p>GLM chat templates (ChatGLM3, GLM-4, GLM-4-0414, GLM-4.5) end the generation prompt with {@code <|assistant|>}
 * and the model writes a line break before its answer; GLM's own {@code process_response} (THUDM
 * modeling_chatglm.py) strips the answer, so for them the leading newlines of the content are dropped too
 * ({@link Start#trimsLeadingNewlines}), streamed or not.
 *
 * <p>One instance per generation; not thread-safe.
 */
public final class ThinkBlockSplitter {
    static final String OPEN = "<think>";
    static final String CLOSE = "</think>";

    /** Text to send now (either part may be empty). */
    public record Split(String reasoning, String content) {
        public boolean isEmpty() {
            return reasoning.isEmpty() && content.isEmpty();
        }
    }

    /**
     * How an answer starts, from the chat template and the rendered prompt.
     *
     * @param inside               the prompt ended inside an opened think block ({@link #startsInside})
     * @param detectsBlocks        the template writes think blocks ({@code </think>} in it: Qwen3, GLM-4.5, GLM-Z1)
     * @param trimsLeadingNewlines a GLM template: the answer's leading newlines are dropped
     */
    public record Start(boolean inside, boolean detectsBlocks, boolean trimsLeadingNewlines) {
    }

    private enum State { BEFORE, REASONING, CONTENT }

    private State state;
    private final StringBuilder pending = new StringBuilder();
    private boolean reasoningStarted; // a non-newline reasoning character was sent (leading newlines are dropped)
    private boolean contentStarted;   // a non-newline content character was sent after the block (likewise)
    private boolean sawBlock;
    private final StringBuilder reasoning = new StringBuilder();
    private final boolean detectsBlocks;
    private final boolean trimsLeadingNewlines;

    /** @param startsInside whether the prompt ended inside an open think block (see {@link #startsInside}) */
    public ThinkBlockSplitter(boolean startsInside) {
        this(new Start(startsInside, true, false));
    }

    public ThinkBlockSplitter(Start start) {
        this.state = start.inside() ? State.REASONING : State.BEFORE;
        this.sawBlock = start.inside();
        this.detectsBlocks = start.detectsBlocks();
        this.trimsLeadingNewlines = start.trimsLeadingNewlines();
    }

    /**
     * Whether a chat template's outputs go through a splitter: it writes think blocks (Qwen3, GLM-4.5, GLM-Z1,
     * DeepSeek-R1 style), or it is a GLM template whose answers start with a line break.
     */
    public static boolean appliesTo(String chatTemplate) {
        return chatTemplate != null && (chatTemplate.contains(CLOSE) || isGlm(chatTemplate));
    }

    /** How an answer to {@code renderedPrompt} starts under {@code chatTemplate}; null when nothing is split or trimmed. */
    public static Start start(String chatTemplate, String renderedPrompt) {
        if (!appliesTo(chatTemplate)) return null;
        boolean blocks = chatTemplate.contains(CLOSE);
        return new Start(blocks && startsInside(renderedPrompt), blocks, isGlm(chatTemplate));
    }

    /** GLM's generation prompt is {@code <|assistant|>} (ChatGLM3 and GLM-4 tokenizer_config.json chat templates). */
    private static boolean isGlm(String chatTemplate) {
        return chatTemplate.contains("<|assistant|>");
    }

    /** Whether the rendered prompt ends with an opened, unclosed think block (the model's output starts inside it). */
    public static boolean startsInside(String renderedPrompt) {
        return renderedPrompt != null && renderedPrompt.stripTrailing().endsWith(OPEN);
    }

    /** The whole output at once: the same as pushing it and finishing. */
    public static Split split(String output, boolean startsInside) {
        return split(output, new Start(startsInside, true, false));
    }

    /** The whole output at once, started as {@code start} says. */
    public static Split split(String output, Start start) {
        ThinkBlockSplitter s = new ThinkBlockSplitter(start);
        Split a = s.push(output);
        Split b = s.finish();
        return new Split(a.reasoning() + b.reasoning(), a.content() + b.content());
    }

    /** Whether any reasoning was seen (a think block opened, even an empty one). */
    public boolean sawReasoning() {
        return sawBlock;
    }

    /** All reasoning sent so far. */
    public String reasoning() {
        return reasoning.toString();
    }

    /** Adds generated text; returns what may be sent now. */
    public Split push(String text) {
        pending.append(text);
        StringBuilder r = new StringBuilder();
        StringBuilder c = new StringBuilder();
        boolean progressed = true;
        while (progressed) {
            progressed = switch (state) {
                case BEFORE -> before(c);
                case REASONING -> inReasoning(r);
                case CONTENT -> content(c);
            };
        }
        reasoning.append(r);
        return new Split(r.toString(), c.toString());
    }

    /** At the end of the generation: what was held back. */
    public Split finish() {
        String rest = pending.toString();
        pending.setLength(0);
        return switch (state) {
            case BEFORE -> new Split("", trimsLeadingNewlines ? stripNewlines(rest, true, false) : rest); // whitespace or a partial "<think": plain content
            case REASONING -> {
                String r = stripNewlines(rest, !reasoningStarted, true);
                reasoning.append(r);
                yield new Split(r, "");
            }
            case CONTENT -> new Split("", rest);
        };
    }

    /** Before anything is known: waits while the text is whitespace or a beginning of {@code <think>}. */
    private boolean before(StringBuilder content) {
        int i = 0;
        while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) i++;
        String t = pending.substring(i);
        if (detectsBlocks && t.startsWith(OPEN)) {
            pending.delete(0, i + OPEN.length());
            state = State.REASONING;
            sawBlock = true;
            return true;
        }
        if (detectsBlocks && OPEN.startsWith(t)) return false; // still maybe a think block
        if (trimsLeadingNewlines) { // GLM: the content's leading newlines go, the rest is sent untouched
            state = State.CONTENT;
            return true;
        }
        content.append(pending);
        pending.setLength(0);
        state = State.CONTENT;
        contentStarted = true; // no block: the content is sent untouched
        return false;
    }

    private boolean inReasoning(StringBuilder out) {
        int close = pending.indexOf(CLOSE);
        if (close >= 0) {
            out.append(stripNewlines(pending.substring(0, close), !reasoningStarted, true));
            pending.delete(0, close + CLOSE.length());
            state = State.CONTENT;
            return true;
        }
        // Hold back a possible start of "</think>" and the newlines right before it (stripped if it closes here).
        int keep = pending.length() - partialTagLength(pending, CLOSE);
        while (keep > 0 && pending.charAt(keep - 1) == '\n') keep--;
        String send = pending.substring(0, keep);
        pending.delete(0, keep);
        if (!reasoningStarted) {
            send = stripNewlines(send, true, false);
        }
        if (!send.isEmpty()) reasoningStarted = true;
        out.append(send);
        return false;
    }

    private boolean content(StringBuilder out) {
        String send = pending.toString();
        pending.setLength(0);
        if (!contentStarted) {
            send = stripNewlines(send, true, false);
            if (!send.isEmpty()) contentStarted = true;
        }
        out.append(send);
        return false;
    }

    /** The length of the longest suffix of {@code s} that is a proper prefix of {@code tag}. */
    private static int partialTagLength(CharSequence s, String tag) {
        for (int n = Math.min(tag.length() - 1, s.length()); n > 0; n--) {
            boolean match = true;
            for (int k = 0; k < n && match; k++) match = s.charAt(s.length() - n + k) == tag.charAt(k);
            if (match) return n;
        }
        return 0;
    }

    private static String stripNewlines(String s, boolean leading, boolean trailing) {
        int a = 0, b = s.length();
        if (leading) while (a < b && s.charAt(a) == '\n') a++;
        if (trailing) while (b > a && s.charAt(b - 1) == '\n') b--;
        return s.substring(a, b);
    }
}
