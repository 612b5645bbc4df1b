package ai.autoglm.architecture.cyclefixture.b;

import ai.autoglm.architecture.cyclefixture.a.Upstream;

/** The other half of the deliberate cycle ({@code b -> a}). */
public final class Downstream {
    public Upstream back() {
        return new Upstream();
    }
}
