package ai.autoglm.core.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test does when the independent reference it checks against (a real {@code redis-server}, the
 * {@code openssl} command, a tmpfs it must mount) is not on the machine. Under {@code CI=true} that is a failure:
 * {@code .ci/run} installs every reference, so a missing one means the suite proved less than it claims. Elsewhere
 * the test is skipped, and the reason is printed on the console as well as given to JUnit, because Surefire's
 * summary shows neither the reason of a class-level skip nor, then, that the class ran no test at all.
 */
public final class ExternalReference {
    private ExternalReference() {
    }

    /** Fails under CI, otherwise skips with {@code reason}, when {@code available} is false. */
    public static void require(boolean available, String reason) {
        if (available) return;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true and the test's reference is missing: " + reason);
        }
        System.err.println("SKIPPED (reference missing): " + reason);
        Assumptions.abort(reason);
    }
}
