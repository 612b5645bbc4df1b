package ai.autoglm.client;

import java.util.Iterator;

/**
 * A streamed answer: iterate to get the text as it is generated (UTF-8 safe pieces; with tools offered, the text
 * before a tool call). {@link #close()} cancels: the slot is freed (locally at the next engine step, remotely by
 * closing the connection, which the server notices). Use it in try-with-resources.
 *
 * <p>Iteration throws {@link StreamInterruptedException} when the answer breaks half way, and the other
 * {@link AutoGLMException}s for errors the server reports inside the stream.
 */
public interface ChatStream extends Iterable<String>, AutoCloseable {

    /** The pieces of text; one iterator per stream. */
    @Override
    Iterator<String> iterator();

    /**
     * The whole answer with usage, timing and route; reads what is left of the stream first.
     */
    ChatResponse response();

    /** Cancels the answer if it is still running. */
    @Override
    void close();
}
