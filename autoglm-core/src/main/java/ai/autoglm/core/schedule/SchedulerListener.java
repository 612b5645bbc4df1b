package ai.autoglm.core.schedule;

/** What the scheduler reports for metrics; called on the scheduler thread, must be quick. Every report defaults to ignored. */
public interface SchedulerListener {
    /** One engine step ran {@code rows} tokens ({@code decodeRows} of them decode tokens) in {@code nanos}. */
    default void stepDone(int rows, int decodeRows, long nanos) {
    }

    /** A job's first token came {@code nanos} after it was submitted. */
    default void firstToken(long nanos) {
    }

    /** After every step: queue length, busy slots, KV positions in use and the total. */
    default void occupancy(int queued, int activeSlots, long kvUsed, long kvCapacity) {
    }

    /** A job ended: "stop", "length", "cancelled", "timeout" or "error". */
    default void jobEnded(String outcome, int completionTokens) {
    }

    SchedulerListener NONE = new SchedulerListener() {
    };
}
