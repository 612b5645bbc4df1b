package ai.autoglm.core.generate.tools;

import ai.autoglm.core.generate.StopSequenceMatcher;
import ai.autoglm.core.tokenizer.ToolCallParser;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Streams content while a tool call may follow: text before the format's start marker is released as soon as it
 * cannot be the beginning of the marker (the same hold-back as stop strings); from the marker on (or from the start,
 * for formats without a marker) everything is kept until the end, when the whole output is parsed.
 */
public final class ToolCallStreamFilter {
    private final ToolCallFormat format;
    private final Set<String> knownTools;
    private final List<Map<String, Object>> tools;
    private final StopSequenceMatcher marker;
    private final StringBuilder all = new StringBuilder();
    private final StringBuilder streamed = new StringBuilder();

    /** @param knownTools the names offered in the request (a call to another name stays text) */
    public ToolCallStreamFilter(ToolCallFormat format, Set<String> knownTools) {
        this(format, knownTools, null);
    }

    /**
     * @param tools the offered tools as the request sent them (their parameter types guide formats with untyped
     *              argument text, GLM-4.5's), or null
     */
    public ToolCallStreamFilter(ToolCallFormat format, Set<String> knownTools, List<Map<String, Object>> tools) {
        this.format = format;
        this.knownTools = knownTools;
        this.tools = tools;
        this.marker = format.streamMarker() == null ? null : new StopSequenceMatcher(List.of(format.streamMarker()));
    }

    /** Adds generated text; returns the content that may be sent now. */
    public String push(String text) {
        all.append(text);
        if (marker == null) return "";
        String out = marker.push(text);
        streamed.append(out);
        return out;
    }

    /** At the end: the content not sent yet (null when none) and the tool calls. */
    public ToolCallParser.Parsed finish() {
        if (marker != null && !marker.stopped()) {
            return new ToolCallParser.Parsed(marker.flush(), List.of());
        }
        ToolCallParser.Parsed parsed = format.parser().parse(all.toString(), knownTools, tools);
        if (!parsed.hasToolCalls()) return new ToolCallParser.Parsed(all.substring(streamed.length()), List.of());
        String content = parsed.content() == null ? "" : parsed.content();
        String sent = streamed.toString().strip();
        String rest = content.startsWith(sent) ? content.substring(sent.length()).strip() : "";
        return new ToolCallParser.Parsed(rest, parsed.toolCalls());
    }

    /** The whole output parsed at once (non-streaming responses). */
    public static ToolCallParser.Parsed parseAll(ToolCallFormat format, String output, Set<String> knownTools) {
        return format.parser().parse(output, knownTools);
    }

    /** The whole output parsed at once, with the offered tools (see the three-argument constructor). */
    public static ToolCallParser.Parsed parseAll(ToolCallFormat format, String output, Set<String> knownTools,
                                                 List<Map<String, Object>> tools) {
        return format.parser().parse(output, knownTools, tools);
    }
}
