package ai.autoglm.server.gateway;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;

/**
 * Finds personal data in text that may arrive in pieces, and redacts it.
 *
 * <p>Semantics (the same for a whole text and for any split of it into chunks): scanning left to right, at each
 * position the first detector (in priority order) whose pattern matches there and whose check passes wins; the
 * match is replaced by {@code [REDACTED:kind]} and scanning goes on after it.
 *
 * <p>Streaming: {@link #push} releases only text that no further input can change. A start position is settled
 * when, for every detector, the regex engine decided the match there without reading to the end of the text so far:
 * {@link Matcher#hitEnd()} is false after {@code lookingAt()} (its contract: when it returns true, "more input could
 * have changed the result"; when false, the outcome at that position is final whatever comes next). So the text held
 * back is exactly the tail from the first unsettled start position, e.g. "call 138 0013" while the rest of a phone
 * number may still come, however the number is split; no fixed window can be too short. Look-behinds see the last
 * {@value #CONTEXT} released characters. A tail that stays unsettled beyond {@value #MAX_HOLD} characters (a
 * pattern that keeps matching, like an endless token) is scanned as if the text ended there, so a stream never stalls.
 *
 * <p>Matching is on the {@link PiiNormalizer normal form} of the text (full-width and other scripts' digits, zero-width
 * characters, NBSP, {@code ＠} and {@code (at)}, look-alike Cyrillic letters folded), and each match replaces the
 * original characters it comes from. The normaliser's own unstable tail (trailing spaces, an unfinished {@code (at)})
 * is held back too, so a split anywhere still gives the whole text's result.
 */
final class PiiScanner {
    static final int CONTEXT = 64;
    static final int MAX_HOLD = 4096;

    private final List<PiiDetector> detectors;
    private final Matcher[] matchers;
    private final Consumer<String> found;
    private final StringBuilder buf = new StringBuilder();
    /** Index in buf of the first character not yet released; what is before it is context for look-behinds. */
    private int from;

    /** @param found told the kind of every match */
    PiiScanner(List<PiiDetector> detectors, Consumer<String> found) {
        this.detectors = detectors;
        this.found = found;
        this.matchers = new Matcher[detectors.size()];
        for (int i = 0; i < matchers.length; i++) matchers[i] = detectors.get(i).pattern().matcher("");
    }

    /** The redacted text that is now final. */
    String push(String text) {
        buf.append(text);
        PiiNormalizer.Normalized n = PiiNormalizer.of(buf, false);
        int hold = firstUnsettled(n);
        if (buf.length() - hold > MAX_HOLD) {
            n = PiiNormalizer.of(buf, true);
            hold = buf.length();
        }
        return release(n, hold);
    }

    /** A whole text at once (no settling work: everything is final). */
    String whole(String text) {
        buf.append(text);
        return finish();
    }

    /** The rest, at the end of the text. */
    String finish() {
        return release(PiiNormalizer.of(buf, true), buf.length());
    }

    /** The kind of the first match in a whole text, or null. */
    static String firstKind(List<PiiDetector> detectors, String text) {
        String[] kind = new String[1];
        PiiScanner s = new PiiScanner(detectors, k -> {
            if (kind[0] == null) kind[0] = k;
        });
        s.whole(text);
        return kind[0];
    }

    /** The original index from which the text is held back: the first unsettled start, or the normaliser's unstable tail. */
    private int firstUnsettled(PiiNormalizer.Normalized n) {
        String t = n.text();
        int len = t.length();
        for (Matcher m : matchers) m.reset(t).useTransparentBounds(true).useAnchoringBounds(false);
        for (int s = n.indexAtOrAfter(from); s < len; s++) {
            for (int d = 0; d < matchers.length; d++) {
                Matcher m = matchers[d];
                m.region(s, len);
                boolean matched = m.lookingAt();
                if (m.hitEnd() && (!matched || m.end() > m.start())) return n.start()[s];
            }
        }
        return n.stableEnd();
    }

    /**
     * Releases buf[from, hold) with its matches replaced (a match that starts before hold is released whole). Matches
     * are found in the normal form; what is replaced is the original characters they come from, and everything
     * between matches is released as it was written.
     */
    private String release(PiiNormalizer.Normalized n, int hold) {
        String t = n.text();
        int len = t.length();
        for (Matcher m : matchers) m.reset(t).useTransparentBounds(true).useAnchoringBounds(false);
        StringBuilder out = new StringBuilder();
        int pos = from;
        int np = n.indexAtOrAfter(from);
        int normHold = n.indexAtOrAfter(hold);
        while (np < normHold) {
            int best = -1, bestStart = Integer.MAX_VALUE, bestEnd = 0;
            for (int d = 0; d < matchers.length; d++) {
                Matcher m = matchers[d];
                m.region(np, len);
                while (m.find()) {
                    if (m.start() >= bestStart || m.start() >= normHold) break;
                    if (m.end() > m.start() && detectors.get(d).valid().test(m.group())) {
                        best = d;
                        bestStart = m.start();
                        bestEnd = m.end();
                        break;
                    }
                    // The candidate failed its check: look again from the next start position.
                    if (m.start() + 1 > len) break;
                    m.region(m.start() + 1, len);
                }
            }
            if (best < 0) break;
            out.append(buf, pos, n.start()[bestStart]);
            String kind = detectors.get(best).kind();
            out.append("[REDACTED:").append(kind).append(']');
            found.accept(kind);
            pos = n.end()[bestEnd - 1];
            np = bestEnd;
        }
        if (pos < hold) {
            out.append(buf, pos, hold);
            pos = hold;
        }
        from = pos;
        int drop = Math.max(0, from - CONTEXT);
        if (drop > 0) {
            buf.delete(0, drop);
            from -= drop;
        }
        return out.toString();
    }
}
