package ai.autoglm.server.tools;

import ai.autoglm.core.generate.StopSequenceMatcher;

import java.util.List;

/**
 * Streams content while a tool call may follow: text before the parser's start marker is released as soon as it
 * cannot be the beginning of the marker (the same hold-back as stop strings); from the marker on, everything is
 * kept until the end, when the whole output is parsed.
 */
public final class ToolCallStreamFilter {
    private final ToolCallParser parser;
    private final StopSequenceMatcher marker;
    private final StringBuilder all = new StringBuilder();
    private final StringBuilder streamed = new StringBuilder();

    public ToolCallStreamFilter(ToolCallParser parser) {
        this.parser = parser;
        this.marker = new StopSequenceMatcher(List.of(parser.startMarker()));
    }

    /** Adds generated text; returns the content that may be sent now. */
    public String push(String text) {
        all.append(text);
        String out = marker.push(text);
        streamed.append(out);
        return out;
    }

    /** At the end: the content not sent yet and the tool calls. */
    public ToolCallParser.Parsed finish() {
        if (!marker.stopped()) {
            String rest = marker.flush();
            return new ToolCallParser.Parsed(rest.isEmpty() ? null : rest, List.of());
        }
        ToolCallParser.Parsed parsed = parser.parse(all.toString());
        if (parsed.calls().isEmpty()) {
            // The marker led to nothing parseable: the rest is plain content.
            return new ToolCallParser.Parsed(all.substring(streamed.length()), List.of());
        }
        String content = parsed.content() == null ? "" : parsed.content();
        String sent = streamed.toString().strip();
        String rest = content.startsWith(sent) ? content.substring(sent.length()).strip() : "";
        return new ToolCallParser.Parsed(rest.isEmpty() ? null : rest, parsed.calls());
    }
}
