package ai.autoglm.core.generate.json;

import java.util.Arrays;

/** Collects the stacks one byte leads to from the stacks of a {@link JsonState} (several where a choice is open). */
final class Transitions {
    final int maxWhitespace;
    FrameStack[] items = new FrameStack[4];
    int size;

    Transitions(int maxWhitespace) {
        this.maxWhitespace = maxWhitespace;
    }

    void add(FrameStack s) {
        if (size == items.length) items = Arrays.copyOf(items, size * 2);
        items[size++] = s;
    }

    /** The byte moved the top frame of {@code self} to {@code frame}. */
    void replaceTop(FrameStack self, Frame frame) {
        add(self.withTop(frame));
    }

    /** The byte completed the value on top of {@code self} (a closing quote, brace or bracket). */
    void close(FrameStack self) {
        add(self.finishTop());
    }

    /**
     * The byte {@code b} starts a value of {@code rule} inside {@code container} (which already waits for its child):
     * one stack per alternative of the rule that can start with this byte.
     */
    void begin(ValueRule rule, int b, FrameStack container) {
        for (ValueRule alt : rule.alternatives()) {
            Frame f = Frame.start(alt, b);
            if (f != null) add(FrameStack.of(f, container));
        }
    }
}
