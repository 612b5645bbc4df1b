package ai.autoglm.core.schedule;

/** What the scheduler reports for metrics; called on the scheduler thread, must be quick. */
public interface SchedulerListener {
    /** One engine step ran {@code rows} tokens ({@code decodeRows} of them decode tokens) in {@code nanos}. */
    void stepDone(int rows, int decodeRows, long nanos);

    /** A job's first token came {@code nanos} after it was submitted. */
    void firstToken(long nanos);

    /** After every step: queue length, busy slots, KV positions in use and the total. */
    void occupancy(int queued, int activeSlots, long kvUsed, long kvCapacity);

    /** A job ended: "stop", "length", "cancelled", "timeout" or "error". */
    void jobEnded(String outcome, int completionTokens);

    SchedulerListener NONE = new SchedulerListener() {
        @Override
        public void stepDone(int rows, int decodeRows, long nanos) {
        }

        @Override
        public void firstToken(long nanos) {
        }

        @Override
        public void occupancy(int queued, int activeSlots, long kvUsed, long kvCapacity) {
        }

        @Override
        public void jobEnded(String outcome, int completionTokens) {
        }
    };
}
