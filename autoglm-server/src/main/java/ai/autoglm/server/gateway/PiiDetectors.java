package ai.autoglm.server.gateway;

import ai.autoglm.server.config.PiiConfig;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The built-in detectors, in priority order (at one position the first that matches wins), and the ones built from
 * the config. Each pattern refuses to start or end inside a longer run of the same kind of characters (the
 * look-behinds and look-aheads), so a 20-digit number is not read as an ID number plus two digits.
 */
final class PiiDetectors {
    private PiiDetectors() {
    }

    /** Custom patterns and blocked terms first (they are the operator's own words), then the built-in kinds asked for. */
    static List<PiiDetector> of(PiiConfig config) {
        List<PiiDetector> out = new ArrayList<>();
        for (PiiConfig.NamedPattern p : config.patterns()) out.add(new PiiDetector(p.name(), p.regex()));
        for (String term : config.blockedTerms()) out.add(new PiiDetector("blocked-term", blockedTerm(term)));
        for (PiiDetector d : builtIn()) {
            if (config.kinds().contains(d.kind())) out.add(d);
        }
        return out;
    }

    static List<PiiDetector> builtIn() {
        return List.of(
                // Provider key formats: OpenAI/Anthropic sk-..., AWS access key ids (AKIA/ASIA + 16), GitHub tokens
                // (ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_), Slack xox?-, Google AIza + 35, GitLab glpat-.
                new PiiDetector("secret", "(?<![\\w-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
                        + "|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9-]{10,}"
                        + "|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})", s -> true),
                // RFC 5321 limits: local part at most 64 octets, a label at most 63.
                new PiiDetector("email", "(?<![\\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}"
                        + "[A-Za-z]{2,24}(?![\\w-])", s -> true),
                // GB 11643-1999: 6-digit region, birth date YYYYMMDD, 3-digit sequence, check character 0-9 or X.
                new PiiDetector("cn-id", "(?<![0-9A-Za-z])[1-9]\\d{5}(?:18|19|20)\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])\\d{3}[0-9Xx]"
                        + "(?![0-9A-Za-z])", Checksums::chineseResidentId),
                // Chinese mobile numbers: 11 digits 1[3-9]x xxxx xxxx, optionally +86 / 0086 first, optionally grouped.
                new PiiDetector("phone", "(?<![\\w+])(?:(?:\\+|00)86[ -]?)?1[3-9]\\d(?:[ -]?\\d{4}){2}(?!\\w)", s -> true),
                // Payment cards: 13 to 19 digits (ISO/IEC 7812), optionally grouped by spaces or dashes, Luhn-valid.
                new PiiDetector("bank-card", "(?<![\\w-])\\d(?:[ -]?\\d){12,18}(?![\\w-]|[ ]\\d)", Checksums::luhn),
                // International numbers in E.164 style (+ country code, at most 15 digits) and North American (555) 123-4567.
                new PiiDetector("phone", "(?<![\\w+])\\+[1-9]\\d{0,2}[ -]?(?:\\(\\d{1,4}\\)[ -]?)?\\d{2,4}(?:[ -]?\\d{2,4}){1,4}(?!\\w)",
                        s -> digits(s) >= 8 && digits(s) <= 15),
                new PiiDetector("phone", "(?<![\\w-])(?:\\(\\d{3}\\) ?|\\d{3}[-.])\\d{3}[-.]\\d{4}(?![\\w-])", s -> true),
                new PiiDetector("ip", "(?<![\\w.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
                        + "(?!\\w|\\.\\d)", s -> true),
                // IPv6 (RFC 4291 section 2.2 text forms, incl. :: and a trailing IPv4), confirmed by the JDK's literal parser.
                new PiiDetector("ip", "(?<![\\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\\d{1,3}\\.){3}\\d{1,3})?(?![\\w:]|\\.\\d)",
                        PiiDetectors::ipv6),
                // Generic tokens: long runs of base64/base64url characters mixing cases and digits with high entropy
                // (random 32+ character keys have about 4.5-5 bits per character; words and identifiers far less).
                new PiiDetector("secret", "(?<![\\w+/-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\\w+/=-])", PiiDetectors::highEntropy));
    }

    /** A term matches its normal form in the normalised text (see {@link PiiNormalizer}): spaces, width and look-alikes aside. */
    static Pattern blockedTerm(String original) {
        String term = PiiNormalizer.normalize(original).strip();
        if (term.isEmpty()) throw new IllegalArgumentException("pii.blocked-terms: '" + original + "' is empty once normalised");
        String q = Pattern.quote(term);
        // Word boundaries only where the term itself starts or ends with a letter or digit of a spaced script;
        // a Chinese term is matched anywhere (Chinese text has no spaces between words).
        String before = Character.isLetterOrDigit(term.charAt(0)) && term.charAt(0) < 0x2E80 ? "(?<![\\p{L}\\p{N}_])" : "";
        char last = term.charAt(term.length() - 1);
        String after = Character.isLetterOrDigit(last) && last < 0x2E80 ? "(?![\\p{L}\\p{N}_])" : "";
        return Pattern.compile(before + q + after, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    }

    private static int digits(String s) {
        return (int) s.chars().filter(c -> c >= '0' && c <= '9').count();
    }

    private static boolean ipv6(String s) {
        if (s.chars().noneMatch(c -> Character.digit(c, 16) >= 0)) return false;
        try {
            // A literal parser, never a DNS lookup. (IPv4-mapped forms such as ::ffff:192.0.2.1 come back as Inet4Address.)
            InetAddress.ofLiteral(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean highEntropy(String s) {
        boolean lower = false, upper = false, digit = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            lower |= c >= 'a' && c <= 'z';
            upper |= c >= 'A' && c <= 'Z';
            digit |= c >= '0' && c <= '9';
        }
        return lower && upper && digit && Checksums.entropy(s) >= 4.0;
    }
}
