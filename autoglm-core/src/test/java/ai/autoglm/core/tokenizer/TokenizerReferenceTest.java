package ai.autoglm.core.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our tokenizers against transformers.js on the real Qwen3, Llama 3 and Llama 2 tokenizer files (see
 * {@link NodeReference}).
 */
class TokenizerReferenceTest {
    static final List<String> CORPUS = TokenizerCorpus.all();
    private static final Map<String, Tokenizer> HF = new ConcurrentHashMap<>();
    private static final Map<String, List<NodeReference.Result>> REF = new ConcurrentHashMap<>();

    static Tokenizer hf(String model) {
        return HF.computeIfAbsent(model, m -> Tokenizers.fromHfDirectory(NodeReference.modelDir(m)));
    }

    private static List<NodeReference.Result> ref(String model, boolean plain) {
        return REF.computeIfAbsent(model + plain, k -> NodeReference.encode(NodeReference.modelDir(model), CORPUS, plain));
    }

    static void failIfAny(String what, List<String> failures) {
        if (!failures.isEmpty()) {
            StringBuilder sb = new StringBuilder(what + ": " + failures.size() + " mismatches, first ones:");
            for (String f : failures.subList(0, Math.min(8, failures.size()))) {
                sb.append('\n').append(f.length() > 700 ? f.substring(0, 700) + " ..." : f);
            }
            fail(sb.toString());
        }
    }

    static String show(String s) {
        return s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "llama2"})
    void encodesLikeTransformersJs(String model) {
        check(model, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "llama2"})
    void encodesSpecialTokenTextAsPlainTextLikeTransformersJs(String model) {
        check(model, false);
    }

    private void check(String model, boolean parseSpecial) {
        Tokenizer tok = hf(model);
        List<NodeReference.Result> ref = ref(model, !parseSpecial);
        List<String> failures = new ArrayList<>();
        int roundTrips = 0;
        for (int i = 0; i < CORPUS.size(); i++) {
            String text = CORPUS.get(i);
            int[] ids = tok.encode(text, parseSpecial);
            NodeReference.Result r = ref.get(i);
            if (!Arrays.equals(ids, r.ids())) {
                failures.add("encode \"" + show(text) + "\"\n   ours " + Arrays.toString(ids) + "\n   ref  " + Arrays.toString(r.ids()));
                continue;
            }
            String decoded = tok.decode(ids);
            if (!decoded.equals(r.decoded())) {
                failures.add("decode \"" + show(text) + "\": ours \"" + show(decoded) + "\" ref \"" + show(r.decoded()) + "\"");
            }
            if (r.decoded().equals(text)) {
                roundTrips++;
                if (!decoded.equals(text)) {
                    failures.add("round trip \"" + show(text) + "\" gave \"" + show(decoded) + "\"");
                }
            }
        }
        failIfAny(model + " parseSpecial=" + parseSpecial, failures);
        // The reference round-trips most of the corpus (all of it for byte-level BPE except non-NFC text in
        // Qwen); make sure that check was not vacuous.
        assertThat(roundTrips).isGreaterThan(CORPUS.size() / 2);
    }

    /** Arbitrary id sequences, including ones that cut characters apart, decode like the reference. */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "llama2"})
    void decodesArbitraryIdsLikeTransformersJs(String model) {
        Tokenizer tok = hf(model);
        java.util.Random r = new java.util.Random(model.hashCode());
        List<int[]> lists = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int[] ids = new int[1 + r.nextInt(12)];
            for (int k = 0; k < ids.length; k++) {
                // mostly low ids (bytes and byte tokens live there), sometimes anywhere, incl. special tokens
                ids[k] = r.nextInt(4) == 0 ? r.nextInt(tok.vocabSize()) : r.nextInt(600);
            }
            lists.add(ids);
        }
        // token sequences of real text cut at random places
        for (String text : CORPUS.subList(0, 60)) {
            int[] ids = tok.encode(text, true);
            if (ids.length > 2) {
                int a = r.nextInt(ids.length - 1);
                lists.add(Arrays.copyOfRange(ids, a, a + 1 + r.nextInt(ids.length - a - 1)));
            }
        }
        List<String> ref = NodeReference.decode(NodeReference.modelDir(model), lists);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < lists.size(); i++) {
            String ours = tok.decode(lists.get(i));
            if (!ours.equals(ref.get(i))) {
                failures.add(Arrays.toString(lists.get(i)) + ": ours \"" + show(ours) + "\" ref \"" + show(ref.get(i)) + "\"");
            }
        }
        failIfAny(model + " decode", failures);
    }
}
