package ai.autoglm.core.generate.json;

import java.util.List;

/** The rules of unconstrained JSON (RFC 8259): any value, and the plain type rules schemas share. */
final class AnyJson {
    static final ValueRule.StringRule STRING = new ValueRule.StringRule(0, ValueRule.UNLIMITED);
    static final ValueRule.NumberRule NUMBER = new ValueRule.NumberRule(false);
    static final ValueRule.NumberRule INTEGER = new ValueRule.NumberRule(true);
    static final ValueRule.LiteralRule BOOLEAN = ValueRule.LiteralRule.of("true", "false");
    static final ValueRule.LiteralRule NULL = ValueRule.LiteralRule.of("null");
    private static final ValueRule.Ref ANY = new ValueRule.Ref("any JSON value");
    /** Any object: any keys, any values (OpenAI {@code json_object}). */
    static final ValueRule.ObjectRule OBJECT = new ValueRule.ObjectRule(List.of(), List.of(), List.of(), ANY);
    static final ValueRule.ArrayRule ARRAY = new ValueRule.ArrayRule(ANY, 0, ValueRule.UNLIMITED);
    static final ValueRule.AnyOf VALUE = new ValueRule.AnyOf(List.of(OBJECT, ARRAY, STRING, NUMBER, BOOLEAN, NULL));

    static {
        ANY.target = VALUE;
        ANY.alternatives(); // flattened here, once, before any thread reads it
    }

    private AnyJson() {
    }
}
