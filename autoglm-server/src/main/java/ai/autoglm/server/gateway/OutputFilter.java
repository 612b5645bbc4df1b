package ai.autoglm.server.gateway;

/** What the gateway does to generated text before the client sees it (the PII filter's redaction, or nothing). */
public interface OutputFilter {
    OutputFilter NONE = () -> new Stream() {
        @Override
        public String push(String text) {
            return text;
        }

        @Override
        public String finish() {
            return "";
        }
    };

    /** One streamed text: {@link #push} returns what may be sent now, {@link #finish} the rest at the end. */
    interface Stream {
        String push(String text);

        String finish();
    }

    Stream open();

    /** A whole text at once. */
    default String apply(String text) {
        Stream s = open();
        return s.push(text) + s.finish();
    }

    default boolean active() {
        return this != NONE;
    }
}
