package ai.autoglm.server.gateway;

import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One kind of personal data: a pattern that finds candidates and a check that a candidate is real (a checksum, a
 * parse), e.g. an 18-character ID number whose GB 11643 check character is right.
 */
record PiiDetector(String kind, Pattern pattern, Predicate<String> valid) {
    PiiDetector(String kind, String regex, Predicate<String> valid) {
        this(kind, Pattern.compile(regex), valid);
    }

    PiiDetector(String kind, Pattern pattern) {
        this(kind, pattern, s -> true);
    }
}
