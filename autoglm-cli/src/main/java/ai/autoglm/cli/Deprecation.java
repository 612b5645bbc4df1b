package ai.autoglm.cli;

/**
 * Old option spellings kept as hidden aliases after a rename (one name per idea across commands): they still work
 * and say once on stderr which name replaced them, so scripts keep running while their authors learn the new name.
 */
final class Deprecation {
    private Deprecation() {
    }

    /** Warns that {@code old} is deprecated in favour of {@code replacement} and returns {@code value}. */
    static <T> T alias(String old, String replacement, T value) {
        System.err.println("autoglm: warning: " + old + " is deprecated; use " + replacement);
        return value;
    }
}
