package ai.autoglm.server.gateway;

import ai.autoglm.server.config.PiiConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each kind of personal data with positives and near misses, whole and split into chunks at every position.
 * Valid ID numbers and card numbers are made here by a second, plain implementation of the check digits.
 */
public class PiiScannerTest {
    static final List<PiiDetector> ALL = PiiDetectors.of(PiiConfig.redactAll());

    /** GB 11643-1999 check character, written from the standard: weight of position i (1-based from the right) is 2^(i-1) mod 11. */
    public static String withIdCheck(String first17) {
        int sum = 0;
        for (int i = 0; i < 17; i++) sum += (first17.charAt(i) - '0') * (int) (Math.pow(2, 17 - i) % 11);
        int check = (12 - sum % 11) % 11;
        return first17 + (check == 10 ? "X" : Integer.toString(check));
    }

    /** Appends the Luhn digit: the one that makes the doubled-alternate digit sum a multiple of 10. */
    static String withLuhn(String digits) {
        for (int c = 0; c <= 9; c++) {
            String n = digits + c;
            int sum = 0;
            for (int i = 0; i < n.length(); i++) {
                int d = n.charAt(n.length() - 1 - i) - '0';
                sum += i % 2 == 1 ? (d * 2 / 10 + d * 2 % 10) : d;
            }
            if (sum % 10 == 0) return n;
        }
        throw new AssertionError();
    }

    static String redact(String text) {
        return new PiiScanner(ALL, k -> { }).whole(text);
    }

    static String r(String kind) {
        return "[REDACTED:" + kind + "]";
    }

    @Test
    void emailAddresses() {
        assertThat(redact("write to bob.smith+ml@mail.example.co.uk today")).isEqualTo("write to " + r("email") + " today");
        assertThat(redact("邮箱：zhang.san@qq.com。")).isEqualTo("邮箱：" + r("email") + "。");
        assertThat(redact("the end: a@b.io.")).isEqualTo("the end: " + r("email") + ".");
        // near misses: no domain dot, no local part, an @-mention
        assertThat(redact("user@localhost, @handle and foo@ bar")).isEqualTo("user@localhost, @handle and foo@ bar");
    }

    @Test
    void phoneNumbers() {
        assertThat(redact("call 13800138000 now")).isEqualTo("call " + r("phone") + " now");
        assertThat(redact("电话+86 138 0013 8000，谢谢")).isEqualTo("电话" + r("phone") + "，谢谢");
        assertThat(redact("tel: 0086-139-1234-5678")).isEqualTo("tel: " + r("phone"));
        assertThat(redact("US (555) 123-4567 or +44 20 7946 0958")).isEqualTo("US " + r("phone") + " or " + r("phone"));
        // near misses: second digit 2 (not a mobile prefix), 10 and 12 digits, a year range, a plain count
        assertThat(redact("12345678901 1380013800 138001380001 1999-2024 3000 people"))
                .isEqualTo("12345678901 1380013800 138001380001 1999-2024 3000 people");
    }

    @Test
    void chineseResidentIdNumbersNeedTheirCheckCharacter() {
        String id = withIdCheck("11010519491231002");
        String idX = findIdEndingInX();
        assertThat(redact("身份证号" + id + "。")).isEqualTo("身份证号" + r("cn-id") + "。");
        assertThat(redact("id " + idX.toLowerCase())).isEqualTo("id " + r("cn-id"));
        // near misses: wrong check character, impossible month, 19 digits
        char wrong = id.charAt(17) == '1' ? '2' : '1';
        String badCheck = id.substring(0, 17) + wrong;
        assertThat(redact("号码 " + badCheck)).isEqualTo("号码 " + badCheck);
        String badMonth = withIdCheck("11010519491331002");
        assertThat(redact(badMonth)).isEqualTo(badMonth);
        assertThat(redact(id + "7")).doesNotContain(r("cn-id"));
    }

    static String findIdEndingInX() {
        for (int seq = 0; seq < 1000; seq++) {
            String id = withIdCheck("44030119900101" + String.format("%03d", seq));
            if (id.endsWith("X")) return id;
        }
        throw new AssertionError("no X check character in 1000 tries");
    }

    @Test
    void bankCardsMustPassLuhn() {
        String visa = withLuhn("411111111111111");
        String unionPay = withLuhn("621700000000000001");
        assertThat(redact("card " + visa + " ok")).isEqualTo("card " + r("bank-card") + " ok");
        String grouped = visa.substring(0, 4) + " " + visa.substring(4, 8) + " " + visa.substring(8, 12) + " " + visa.substring(12);
        assertThat(redact("卡号 " + grouped + "。")).isEqualTo("卡号 " + r("bank-card") + "。");
        assertThat(redact(unionPay)).isEqualTo(r("bank-card"));
        String notLuhn = visa.substring(0, 15) + ((visa.charAt(15) - '0' + 1) % 10);
        assertThat(redact("card " + notLuhn)).isEqualTo("card " + notLuhn);
        // 12 digits is too short for a card even when Luhn-valid
        String short12 = withLuhn("41111111111");
        assertThat(redact("n " + short12)).isEqualTo("n " + short12);
    }

    @Test
    void ipAddresses() {
        assertThat(redact("host 192.168.1.20, gw 10.0.0.1.")).isEqualTo("host " + r("ip") + ", gw " + r("ip") + ".");
        assertThat(redact("v6 2001:db8::8a2e:370:7334 and fe80::1 and ::ffff:192.0.2.1 end"))
                .isEqualTo("v6 " + r("ip") + " and " + r("ip") + " and " + r("ip") + " end");
        // near misses: octet 256, a version with 5 parts, a time of day, C++ scope, a ratio
        assertThat(redact("256.1.1.1 1.2.3.4.5 12:30:45 std::vector 16:9"))
                .isEqualTo("256.1.1.1 1.2.3.4.5 12:30:45 std::vector 16:9");
    }

    @Test
    void secrets() {
        assertThat(redact("key sk-proj-4f9aB3kLm2Qx7Zt1Wc8Rv5Yn0 here")).isEqualTo("key " + r("secret") + " here");
        assertThat(redact("AKIAIOSFODNN7EXAMPLE")).isEqualTo(r("secret"));
        assertThat(redact("token=ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")).isEqualTo("token=" + r("secret"));
        assertThat(redact("Bearer eyJhbGciOiJIUzI1NiJ9xQ3mK8pLz2Vb7Nw4Rt6Ys1")).isEqualTo("Bearer " + r("secret"));
        // near misses: a long identifier, a hex digest (16 symbols: low entropy, no upper case), a short sk-
        String text = "averyveryverylongidentifiernamewithoutdigits e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 sk-short";
        assertThat(redact(text)).isEqualTo(text);
    }

    @Test
    void customPatternsAndBlockedTerms() {
        PiiConfig cfg = new PiiConfig(PiiConfig.Action.REDACT, PiiConfig.Action.REDACT, PiiConfig.BUILT_IN_KINDS,
                List.of(new PiiConfig.NamedPattern("ticket", Pattern.compile("TICKET-\\d{6}"))), List.of("Project Aurora", "机密"));
        PiiScanner s = new PiiScanner(PiiDetectors.of(cfg), k -> { });
        assertThat(s.whole("see TICKET-123456 about project aurora, 绝对机密文件; Project Auroras"))
                .isEqualTo("see [REDACTED:ticket] about [REDACTED:blocked-term], 绝对[REDACTED:blocked-term]文件; Project Auroras");
    }

    /** Texts with every kind, split at every position (two chunks) and at random points: the same output as whole. */
    @Test
    void anySplitGivesTheWholeTextsResultAndNeverLeaksAPrefix() {
        String id = withIdCheck("11010519491231002");
        String card = withLuhn("622588000000000");
        String text = "张三 13800138000 z3@corp.example.com 身份证" + id + " card " + card + " ip 10.1.2.3 key sk-"
                + "abcDEF123456ghiJKL7890mnop; +86 139-1234-5678 end";
        String whole = redact(text);
        assertThat(whole).doesNotContain("13800138000", "z3@", id, card, "10.1.2.3", "sk-abc", "139-1234");
        for (int cut = 0; cut <= text.length(); cut++) {
            assertThat(split(text, List.of(cut))).as("split at %d", cut).isEqualTo(whole);
        }
        Random rnd = new Random(42);
        for (int trial = 0; trial < 200; trial++) {
            List<Integer> cuts = new ArrayList<>();
            for (int i = 0; i < 1 + rnd.nextInt(20); i++) cuts.add(rnd.nextInt(text.length() + 1));
            cuts.sort(null);
            assertThat(split(text, cuts)).isEqualTo(whole);
        }
        // One character per chunk: no emitted chunk holds a digit of the phone number before it is known whole.
        PiiScanner s = new PiiScanner(ALL, k -> { });
        StringBuilder out = new StringBuilder();
        for (char c : "call 13800138000 ok".toCharArray()) out.append(s.push(String.valueOf(c)));
        out.append(s.finish());
        assertThat(out.toString()).isEqualTo("call " + r("phone") + " ok");
    }

    static String split(String text, List<Integer> cuts) {
        return split(ALL, text, cuts);
    }

    static String split(List<PiiDetector> detectors, String text, List<Integer> cuts) {
        PiiScanner s = new PiiScanner(detectors, k -> { });
        StringBuilder out = new StringBuilder();
        int prev = 0;
        for (int c : cuts) {
            out.append(s.push(text.substring(prev, c)));
            prev = c;
        }
        out.append(s.push(text.substring(prev)));
        return out.append(s.finish()).toString();
    }

    /**
     * Issue 15 item 7: the evasions found by hand (full-width and Arabic-Indic digits, zero-width characters and NBSP
     * between digit groups, {@code ＠} and {@code (at)}, blocked terms with double spaces, zero-width characters or
     * Cyrillic look-alikes) are caught, the redaction replaces exactly the original characters, and every split of
     * each text (the streaming hold-back over the normal form) gives the whole text's result.
     */
    @Test
    void evasionsAreNormalisedBeforeMatchingAndTheOriginalCharactersAreReplaced() {
        String visa = withLuhn("411111111111111");
        String id = withIdCheck("11010519491231002");
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("call \uFF11\uFF13\uFF18\uFF10\uFF10\uFF11\uFF13\uFF18\uFF10\uFF10\uFF10 now", "call " + r("phone") + " now");
        cases.put("رقم \u0661\u0663\u0668\u0660\u0660\u0661\u0663\u0668\u0660\u0660\u0660 شكرا", "رقم " + r("phone") + " شكرا");
        cases.put("tel 138\u200B0013\u200B8000.", "tel " + r("phone") + ".");
        cases.put("tel 138\u00A00013\u00A08000, ok", "tel " + r("phone") + ", ok");
        cases.put("tel 1\u200D3\uFEFF8 0013 8000", "tel " + r("phone"));
        cases.put("card " + visa.substring(0, 4) + "\u00A0" + visa.substring(4, 8) + "\u200B" + visa.substring(8, 12) + "\u2007" + visa.substring(12) + " ok",
                "card " + r("bank-card") + " ok");
        cases.put("身份证" + id.substring(0, 9) + "\u200C" + id.substring(9) + "。", "身份证" + r("cn-id") + "。");
        cases.put("mail zhang.san\uFF20example.com!", "mail " + r("email") + "!");
        cases.put("mail bob (at) example.com or bob[AT]example(dot)org.", "mail " + r("email") + " or " + r("email") + ".");
        cases.put("mail b\u043E\u0445@\u0435xample.com", "mail " + r("email")); // Cyrillic о, х, е
        cases.put("see project  aurora now", "see " + r("blocked-term") + " now");
        cases.put("see Proj\u200Bect\u00A0Aurora now", "see " + r("blocked-term") + " now");
        cases.put("see Pr\u043Eject \u0410ur\u043Era now", "see " + r("blocked-term") + " now"); // Cyrillic о, А, о
        cases.put("see \uFF30roject Aurora, 机\u200B密", "see " + r("blocked-term") + ", " + r("blocked-term"));
        // near misses keep their original characters
        cases.put("价格\uFF11\uFF12\uFF13元 (at) noon, Project Auroras, 12\u00A0345", "价格\uFF11\uFF12\uFF13元 (at) noon, Project Auroras, 12\u00A0345");
        PiiConfig cfg = new PiiConfig(PiiConfig.Action.REDACT, PiiConfig.Action.REDACT, PiiConfig.BUILT_IN_KINDS, List.of(),
                List.of("Project Aurora", "机密"));
        List<PiiDetector> detectors = PiiDetectors.of(cfg);
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String text = c.getKey();
            assertThat(new PiiScanner(detectors, k -> { }).whole(text)).as(text).isEqualTo(c.getValue());
            for (int cut = 0; cut <= text.length(); cut++) {
                assertThat(split(detectors, text, List.of(cut))).as("%s split at %d", text, cut).isEqualTo(c.getValue());
            }
            List<Integer> every = new ArrayList<>();
            for (int i = 1; i < text.length(); i++) every.add(i);
            assertThat(split(detectors, text, every)).as("%s one char at a time", text).isEqualTo(c.getValue());
        }
    }

    @Test
    void plainTextIsReleasedWithoutWaitingForTheEnd() {
        PiiScanner s = new PiiScanner(ALL, k -> { });
        // "today." could still become an e-mail address ("today.x@..." or "today. (at) ..."): a trailing space may
        // still turn into part of a spelled-out "(at)", so it is held with what it could join, until the next chunk.
        String first = s.push("The weather is fine today. ");
        assertThat(first).isEqualTo("The weather is fine ");
        // The start of a possible number is held, then released once it cannot be one.
        assertThat(s.push("Room 13")).isEqualTo("today. Room ");
        // "free." could still become an e-mail address ("free.x@..."): held until the space settles it.
        assertThat(s.push("8 is free.")).isEqualTo("138 is ");
        assertThat(s.push(" Bye")).isEqualTo("free. ");
        assertThat(s.finish()).isEqualTo("Bye");
    }
}
