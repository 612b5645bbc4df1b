package ai.autoglm.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopSequenceMatcherTest {

    /** Reference on the whole text: cut before the stop string whose first occurrence ends first (longer on ties). */
    static String expectedOutput(String text, List<String> stops) {
        int bestAt = -1, bestEnd = Integer.MAX_VALUE;
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at < 0) continue;
            int end = at + s.length();
            if (end < bestEnd || (end == bestEnd && at < bestAt)) {
                bestEnd = end;
                bestAt = at;
            }
        }
        return bestAt < 0 ? text : text.substring(0, bestAt);
    }

    /** Streams {@code chunks}; returns everything emitted (plus the flush), checking the matcher never emits late text. */
    static String stream(List<String> chunks, List<String> stops, String text) {
        StopSequenceMatcher m = new StopSequenceMatcher(stops);
        StringBuilder out = new StringBuilder();
        for (String c : chunks) {
            out.append(m.push(c));
            // what was emitted is always a prefix of the correct output
            assertThat(expectedOutput(text, stops)).startsWith(out.toString());
        }
        out.append(m.flush());
        String expected = expectedOutput(text, stops);
        assertThat(m.stopped()).isEqualTo(!expected.equals(text));
        return out.toString();
    }

    static final List<String> TEXTS = List.of(
        "Hello world<|end|> trailing text",
        "no stop here at all, only <|e and <| and STO fragments <|en",
        "a <|e b <|end|> c STOP d",
        "xxabcdyy",                 // "bc" completes before "abcd"
        "overlap: aaab then aab",   // "aab" first occurs inside "aaab"
        "中文文本，停止词：结束了，后面不要",
        "<|end|> at the very start",
        "ends exactly with STOP");

    static final List<String> STOPS = List.of("<|end|>", "STOP", "abcd", "bc", "aab", "结束");

    @Test
    void everySplitIntoTwoAndThreeChunks() {
        for (String text : TEXTS) {
            String expected = expectedOutput(text, STOPS);
            assertThat(stream(List.of(text), STOPS, text)).isEqualTo(expected);
            for (int i = 0; i <= text.length(); i++) {
                assertThat(stream(List.of(text.substring(0, i), text.substring(i)), STOPS, text))
                    .as("split at %d of %s", i, text).isEqualTo(expected);
                for (int j = i; j <= text.length(); j++) {
                    assertThat(stream(List.of(text.substring(0, i), text.substring(i, j), text.substring(j)), STOPS, text))
                        .as("split at %d,%d of %s", i, j, text).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void characterByCharacter() {
        for (String text : TEXTS) {
            List<String> chars = new ArrayList<>();
            text.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
            assertThat(stream(chars, STOPS, text)).isEqualTo(expectedOutput(text, STOPS));
        }
    }

    @Test
    void reportsTheStopAndIgnoresLaterChunks() {
        StopSequenceMatcher m = new StopSequenceMatcher(List.of("</s>", "User:"));
        assertThat(m.push("Answer. Us")).isEqualTo("Answer. ");
        assertThat(m.stopped()).isFalse();
        assertThat(m.push("er: more")).isEmpty();
        assertThat(m.stopped()).isTrue();
        assertThat(m.matchedStop()).isEqualTo("User:");
        assertThat(m.push("anything")).isEmpty();
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void holdsBackOnlyPossibleStarts() {
        StopSequenceMatcher m = new StopSequenceMatcher(List.of("<|end|>"));
        assertThat(m.push("abc<")).isEqualTo("abc");
        assertThat(m.push("|x")).isEqualTo("<|x");
        assertThat(m.push("<|en")).isEmpty();
        assertThat(m.flush()).isEqualTo("<|en");
        assertThat(m.stopped()).isFalse();
    }

    @Test
    void noStopsPassesTextThrough() {
        StopSequenceMatcher m = new StopSequenceMatcher(List.of());
        assertThat(m.push("abc")).isEqualTo("abc");
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void rejectsEmptyStopStrings() {
        assertThatThrownBy(() -> new StopSequenceMatcher(List.of("a", ""))).isInstanceOf(IllegalArgumentException.class);
    }
}
