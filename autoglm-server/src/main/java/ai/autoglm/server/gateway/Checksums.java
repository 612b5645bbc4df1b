package ai.autoglm.server.gateway;

/** The check digits that tell a real identifier from a number that only looks like one. */
final class Checksums {
    /** GB 11643-1999 weights: 2^(17-i) mod 11 for the first 17 digits. */
    private static final int[] ID_WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    /** GB 11643-1999 check character for (sum mod 11) = 0..10 (ISO 7064 MOD 11-2). */
    private static final String ID_CHECK = "10X98765432";

    private Checksums() {
    }

    /** Luhn (ISO/IEC 7812-1 annex B) over the digits of {@code s}, ignoring spaces and dashes; 13 to 19 digits. */
    static boolean luhn(CharSequence s) {
        int sum = 0;
        int n = 0;
        for (int i = s.length() - 1; i >= 0; i--) {
            char c = s.charAt(i);
            if (c == ' ' || c == '-') continue;
            if (c < '0' || c > '9') return false;
            int d = c - '0';
            if ((n & 1) == 1) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            n++;
        }
        return n >= 13 && n <= 19 && sum % 10 == 0;
    }

    /** A Chinese resident identity number (18 characters, GB 11643-1999) with a correct check character. */
    static boolean chineseResidentId(CharSequence s) {
        if (s.length() != 18) return false;
        int sum = 0;
        for (int i = 0; i < 17; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
            sum += (c - '0') * ID_WEIGHTS[i];
        }
        return Character.toUpperCase(s.charAt(17)) == ID_CHECK.charAt(sum % 11);
    }

    /** Shannon entropy of the characters of {@code s}, in bits per character. */
    static double entropy(CharSequence s) {
        java.util.Map<Character, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < s.length(); i++) counts.merge(s.charAt(i), 1, Integer::sum);
        double h = 0;
        for (int c : counts.values()) {
            double p = (double) c / s.length();
            h -= p * Math.log(p) / Math.log(2);
        }
        return h;
    }
}
