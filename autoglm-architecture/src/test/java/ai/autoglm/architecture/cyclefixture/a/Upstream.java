package ai.autoglm.architecture.cyclefixture.a;

import ai.autoglm.architecture.cyclefixture.b.Downstream;

/** Half of a deliberate package cycle: {@code PackageCyclesTest} checks that the rule it applies to the code catches it. */
public final class Upstream {
    public Downstream next() {
        return new Downstream();
    }
}
