package ai.autoglm.server.config;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The PII filter (YAML {@code pii:}).
 *
 * @param input        what to do with personal data in requests (messages, prompt)
 * @param output       what to do with it in answers: {@code REDACT} or {@code OFF} (an answer already streamed cannot be refused)
 * @param kinds        the built-in detectors in use: email, phone, cn-id, bank-card, ip, secret
 * @param patterns     custom patterns, each named
 * @param blockedTerms words or phrases (case-insensitive) treated like personal data of kind {@code blocked-term}
 */
public record PiiConfig(Action input, Action output, Set<String> kinds, List<NamedPattern> patterns, List<String> blockedTerms) {
    public static final Set<String> BUILT_IN_KINDS = Set.of("email", "phone", "cn-id", "bank-card", "ip", "secret");

    public enum Action { OFF, REDACT, REJECT }

    /** A custom detector: matches of {@code regex} are personal data of kind {@code name}. */
    public record NamedPattern(String name, Pattern regex) {
    }

    public PiiConfig {
        kinds = Set.copyOf(kinds);
        patterns = List.copyOf(patterns);
        blockedTerms = List.copyOf(blockedTerms);
        for (String k : kinds) {
            if (!BUILT_IN_KINDS.contains(k)) throw new IllegalArgumentException("pii.kinds: unknown kind '" + k + "'; known: " + BUILT_IN_KINDS.stream().sorted().toList());
        }
        if (output == Action.REJECT) throw new IllegalArgumentException("pii.output must be redact or off: an answer cannot be refused after it has started streaming");
        for (String t : blockedTerms) if (t.isBlank()) throw new IllegalArgumentException("pii.blocked-terms: a term must not be empty");
    }

    /** Every built-in kind, redacted both ways. */
    public static PiiConfig redactAll() {
        return new PiiConfig(Action.REDACT, Action.REDACT, BUILT_IN_KINDS, List.of(), List.of());
    }
}
