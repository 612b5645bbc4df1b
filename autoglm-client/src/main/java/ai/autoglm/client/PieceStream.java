package ai.autoglm.client;

import java.util.Iterator;
import java.util.NoSuchElementException;

/** The iteration of a {@link ChatStream} over a source that yields pieces of text until it ends. */
abstract class PieceStream implements ChatStream {
    private String lookahead;
    private boolean ended;
    private boolean iteratorTaken;

    /** The next non-empty piece of text, or null at the end (then {@link #result} is ready). */
    protected abstract String pull();

    /** The whole answer; called once, after {@link #pull} returned null. */
    protected abstract ChatResponse result();

    private ChatResponse response;

    private boolean hasNext() {
        if (lookahead == null && !ended) {
            lookahead = pull();
            if (lookahead == null) ended = true;
        }
        return lookahead != null;
    }

    @Override
    public final Iterator<String> iterator() {
        if (iteratorTaken) throw new IllegalStateException("a stream can be iterated once");
        iteratorTaken = true;
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return PieceStream.this.hasNext();
            }

            @Override
            public String next() {
                if (!PieceStream.this.hasNext()) throw new NoSuchElementException();
                String s = lookahead;
                lookahead = null;
                return s;
            }
        };
    }

    @Override
    public final ChatResponse response() {
        while (hasNext()) lookahead = null;
        if (response == null) response = result();
        return response;
    }
}
