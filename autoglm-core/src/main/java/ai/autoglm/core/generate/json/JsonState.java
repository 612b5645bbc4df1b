package ai.autoglm.core.generate.json;

import java.util.Arrays;

/**
 * A position of the JSON automaton: the set of stacks (the pushdown automaton is non-deterministic where a
 * schema's anyOf leaves a choice open, and where a number or literal may end or go on) that the bytes so far
 * lead to. Immutable; equal positions are equal objects, so states can key a cache of token masks.
 *
 * <p>{@link #advance} feeds one byte; it returns null when the byte cannot continue any valid document. The
 * automaton never keeps a stack that cannot be completed, so a live state always has a way to a complete value.
 */
public final class JsonState {
    /** More open choices than this are cut (the first ones kept): the output stays valid, only fewer are possible. */
    static final int MAX_STACKS = 64;

    private final FrameStack[] stacks;
    private final int maxWhitespace;
    private final int hash;

    private JsonState(FrameStack[] stacks, int maxWhitespace) {
        this.stacks = stacks;
        this.maxWhitespace = maxWhitespace;
        int h = 0;
        for (FrameStack s : stacks) h += s.hashCode(); // order does not matter
        this.hash = h;
    }

    static JsonState start(ValueRule root, int maxWhitespace) {
        // check that every anyOf/$ref resolves now, not in the middle of a generation
        root.alternatives();
        return new JsonState(new FrameStack[]{FrameStack.of(new Frame.RootFrame(root, Frame.RootFrame.START, 0), null)},
                maxWhitespace);
    }

    /** The state after byte {@code b} (0..255), or null when no valid JSON text continues that way. */
    public JsonState advance(int b) {
        // the hot path of a trie walk inside a string: a plain character leaves an unlimited string's state as it is
        if (stacks.length == 1 && stacks[0].top instanceof Frame.StringFrame str && str.keepsStateOn(b)) return this;
        Transitions out = new Transitions(maxWhitespace);
        for (FrameStack s : stacks) s.top.step(b, s, out);
        if (out.size == 0) return null;
        if (stacks.length == 1 && out.size == 1 && out.items[0] == stacks[0]) return this; // nothing changed
        FrameStack[] next = new FrameStack[Math.min(out.size * 2, MAX_STACKS)];
        int n = 0;
        for (int i = 0; i < out.size && n < next.length; i++) {
            FrameStack s = out.items[i];
            Frame top = s.top;
            // a number or literal that may end here: also take the branch where it has ended (an epsilon move)
            if (top.canComplete()) n = addNew(next, n, s.finishTop());
            if ((!top.canComplete() || top.canContinue()) && n < next.length) n = addNew(next, n, s);
        }
        return new JsonState(n == next.length ? next : Arrays.copyOf(next, n), maxWhitespace);
    }

    private static int addNew(FrameStack[] into, int n, FrameStack s) {
        for (int i = 0; i < n; i++) if (into[i].equals(s)) return n;
        into[n] = s;
        return n + 1;
    }

    /** The state after all of {@code bytes}, or null when they leave the language on the way. */
    public JsonState advance(byte[] bytes) {
        JsonState s = this;
        for (int i = 0; i < bytes.length && s != null; i++) s = s.advance(bytes[i] & 0xff);
        return s;
    }

    /** Whether the text so far is a complete value (generation may end here). */
    public boolean canEnd() {
        for (FrameStack s : stacks) if (isDone(s)) return true;
        return false;
    }

    /** Whether the text so far is a complete value that nothing can extend (generation must end here). */
    public boolean isComplete() {
        for (FrameStack s : stacks) if (!isDone(s)) return false;
        return true;
    }

    private static boolean isDone(FrameStack s) {
        return s.rest == null && s.top instanceof Frame.RootFrame root && root.done();
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof JsonState other) || other.hash != hash || other.stacks.length != stacks.length) return false;
        // stacks hold no duplicates, so equal sizes and one inclusion make equal sets
        for (FrameStack s : stacks) {
            boolean found = false;
            for (FrameStack t : other.stacks) {
                if (s.equals(t)) {
                    found = true;
                    break;
                }
            }
            if (!found) return false;
        }
        return true;
    }
}
