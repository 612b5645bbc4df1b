package ai.autoglm.core.generate;

import java.util.List;
import java.util.Objects;

/**
 * Watches streamed text for stop strings (OpenAI {@code stop}): {@link #push} takes the next chunk of decoded text
 * and returns what may be shown now. Text that could be the beginning of a stop string is held back until the
 * following chunks decide; when a stop string appears, the text before it is released, the stop string and
 * everything after it are dropped, and {@link #stopped()} turns true. {@link #flush()} releases what is held back
 * when generation ends without a stop.
 *
 * <p>When several stop strings occur, the one completed first in the text wins (of two completed at the same
 * character, the longer one): the point where a streaming generator would notice it. So the result does not
 * depend on how the text was cut into chunks.
 */
public final class StopSequenceMatcher {

    private final String[] stops;
    private final int longest;
    private final StringBuilder pending = new StringBuilder();
    private String matched;

    public StopSequenceMatcher(List<String> stopStrings) {
        Objects.requireNonNull(stopStrings, "stopStrings");
        this.stops = stopStrings.stream().peek(s -> {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("stop strings must be non-empty");
        }).distinct().toArray(String[]::new);
        int l = 0;
        for (String s : stops) l = Math.max(l, s.length());
        this.longest = l;
    }

    /**
     * Adds the next chunk; returns the text that can be emitted now (possibly empty). After a stop string was
     * found every further chunk is ignored and the result is empty.
     */
    public String push(String chunk) {
        if (matched != null || chunk == null || chunk.isEmpty()) return "";
        if (stops.length == 0) return chunk;
        // only the held-back tail and the new chunk can contain a stop string that was not seen before
        pending.append(chunk);
        int bestAt = -1, bestEnd = Integer.MAX_VALUE;
        String best = null;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at < 0) continue;
            int end = at + stop.length();
            if (end < bestEnd || (end == bestEnd && at < bestAt)) {
                bestAt = at;
                bestEnd = end;
                best = stop;
            }
        }
        if (best != null) {
            matched = best;
            String out = pending.substring(0, bestAt);
            pending.setLength(0);
            return out;
        }
        int hold = heldBackLength();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** The length of the longest tail of the pending text that is a proper beginning of some stop string. */
    private int heldBackLength() {
        int max = Math.min(pending.length(), longest - 1);
        for (int len = max; len > 0; len--) {
            int start = pending.length() - len;
            for (String stop : stops) {
                if (stop.length() > len && regionMatches(start, stop, len)) return len;
            }
        }
        return 0;
    }

    private boolean regionMatches(int start, String stop, int len) {
        for (int i = 0; i < len; i++) if (pending.charAt(start + i) != stop.charAt(i)) return false;
        return true;
    }

    /** Whether a stop string has been found. */
    public boolean stopped() {
        return matched != null;
    }

    /** The stop string found, or null. */
    public String matchedStop() {
        return matched;
    }

    /** At the end of generation: the held-back text (empty after a stop), which is then released. */
    public String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }
}
