package ai.autoglm.cli;

import ai.autoglm.server.security.ApiKey;
import ai.autoglm.server.security.KeyStore;
import ai.autoglm.server.security.Role;
import ai.autoglm.server.config.SecurityConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code autoglm keys create|list|revoke}: the API keys of {@code autoglm serve}, in the data directory's keys.json. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage the server's API keys (only salted hashes are stored).",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static KeyStore store(HomeOption home) {
        return new KeyStore(home.locate().create().resolve(SecurityConfig.DEFAULT_KEYS_FILE));
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a key and print it (the only time it is shown).")
    static final class Create implements Callable<Integer> {
        @Mixin
        HomeOption home;

        @Option(names = "--name", required = true, paramLabel = "N", description = "The key's name (in the audit trail and in 'keys list').")
        String name;

        @Option(names = "--role", required = true, paramLabel = "R", description = "admin, user, reader, or a role from the config's security.roles.")
        String role;

        @Option(names = "--models", split = ",", paramLabel = "A,B", description = "Models the key may use (default: all its role allows).")
        List<String> models = List.of();

        @Option(names = "--expires", paramLabel = "WHEN", description = "Lifetime like 30d, 12h, 90m, or a date YYYY-MM-DD (UTC); default never.")
        String expires;

        @Override
        public Integer call() {
            Instant until = expires == null ? null : expiry(expires, Instant.now());
            KeyStore.Issued issued = store(home).create(name, role, models, until);
            System.out.println(issued.secret());
            System.err.printf("autoglm: created key '%s' (role %s%s%s) in %s; it is shown only now: store it safely%n", name, role,
                    models.isEmpty() ? "" : ", models " + String.join(",", models), until == null ? "" : ", expires " + until,
                    store(home).file());
            if (!Set.of(Role.ADMIN.name(), Role.USER.name(), Role.READER.name()).contains(role)) {
                System.err.println("autoglm: note: '" + role + "' is not a built-in role; define it under security.roles in the server config");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys: name, role, models, state, dates (no secrets).")
    static final class ListKeys implements Callable<Integer> {
        @Mixin
        HomeOption home;

        @Override
        public Integer call() {
            Instant now = Instant.now();
            System.out.printf("%-24s %-10s %-8s %-24s %-22s %s%n", "NAME", "ROLE", "STATE", "MODELS", "CREATED", "EXPIRES");
            for (ApiKey k : store(home).list()) {
                System.out.printf("%-24s %-10s %-8s %-24s %-22s %s%n", k.name(), k.role(), k.state(now),
                        k.models().isEmpty() ? "*" : String.join(",", k.models()), k.created(), k.expires() == null ? "never" : k.expires());
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a key; a running server refuses it from its next request.")
    static final class Revoke implements Callable<Integer> {
        @Mixin
        HomeOption home;

        @Parameters(paramLabel = "NAME", description = "The key's name.")
        String name;

        @Override
        public Integer call() {
            store(home).revoke(name);
            System.err.println("autoglm: revoked key '" + name + "'");
            return 0;
        }
    }

    /** "30d", "12h", "90m", "45s" from now, or a date (UTC midnight). */
    static Instant expiry(String s, Instant now) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.matches("\\d{4}-\\d{2}-\\d{2}")) {
                Instant at = LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
                if (!at.isAfter(now)) throw new IllegalArgumentException("--expires: " + s + " is in the past");
                return at;
            }
            if (v.matches("\\d+[dhms]")) {
                long n = Long.parseLong(v.substring(0, v.length() - 1));
                if (n <= 0) throw new IllegalArgumentException("--expires must be positive, got " + s);
                Duration d = switch (v.charAt(v.length() - 1)) {
                    case 'd' -> Duration.ofDays(n);
                    case 'h' -> Duration.ofHours(n);
                    case 'm' -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                };
                return now.plus(d);
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            // fall through to the one message
        }
        throw new IllegalArgumentException("--expires: expected a lifetime like 30d, 12h, 90m or a date YYYY-MM-DD, got '" + s + "'");
    }
}
