package ai.autoglm.core.generate.json;

/**
 * The automaton's stack: an immutable linked list of {@link Frame}s, the innermost value on top. Immutable so that
 * a token-trie walk can branch from one state without copying, and so that states can key a mask cache; the hash
 * is computed once.
 */
final class FrameStack {
    final Frame top;
    final FrameStack rest;
    private final int hash;

    private FrameStack(Frame top, FrameStack rest) {
        this.top = top;
        this.rest = rest;
        this.hash = 31 * top.hashCode() + (rest == null ? 0 : rest.hash);
    }

    static FrameStack of(Frame top, FrameStack rest) {
        return new FrameStack(top, rest);
    }

    /** This stack with its top frame replaced. */
    FrameStack withTop(Frame newTop) {
        return new FrameStack(newTop, rest);
    }

    /** The top value is complete: pop it and move its container past it. */
    FrameStack finishTop() {
        return rest.withTop(rest.top.childDone(top));
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof FrameStack s) || s.hash != hash) return false;
        FrameStack a = this, b = s;
        while (a != null && b != null) {
            if (a == b) return true;
            if (a.hash != b.hash || !a.top.equals(b.top)) return false;
            a = a.rest;
            b = b.rest;
        }
        return a == b;
    }
}
