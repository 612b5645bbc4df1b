package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.gguf.GgufValue;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
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
 * {@link NodeReference}), and GGUF-metadata loading against tokenizer.json loading.
 */
class TokenizerReferenceTest {
    private static final List<String> CORPUS = TokenizerCorpus.all();
    private static final Map<String, Tokenizer> HF = new ConcurrentHashMap<>();
    private static final Map<String, List<NodeReference.Result>> REF = new ConcurrentHashMap<>();

    private static Tokenizer hf(String model) {
        return HF.computeIfAbsent(model, m -> Tokenizers.fromHfDirectory(NodeReference.modelDir(m)));
    }

    private static List<NodeReference.Result> ref(String model, boolean plain) {
        return REF.computeIfAbsent(model + plain, k -> NodeReference.encode(NodeReference.modelDir(model), CORPUS, plain));
    }

    private static void failIfAny(String what, List<String> failures) {
        if (!failures.isEmpty()) {
            StringBuilder sb = new StringBuilder(what + ": " + failures.size() + " mismatches, first ones:");
            for (String f : failures.subList(0, Math.min(8, failures.size()))) {
                sb.append('\n').append(f.length() > 700 ? f.substring(0, 700) + " ..." : f);
            }
            fail(sb.toString());
        }
    }

    private static String show(String s) {
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

    /**
     * Pipeline variants the three real files do not use, made by editing them and checked against the
     * reference too: GPT-2's ByteLevel-only pre-tokenizer (with and without add_prefix_space) and a
     * Metaspace pre-tokenizer (prepend_scheme "first", as newer Llama/Mistral files have) instead of the
     * Prepend/Replace normalizer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-bytelevel", "gpt2-bytelevel-prefix", "metaspace-first"})
    void pipelineVariantsMatchTransformersJs(String variant, @TempDir Path tmp) throws Exception {
        String base = variant.startsWith("gpt2") ? "qwen3" : "llama2";
        Path src = NodeReference.modelDir(base);
        ObjectNode json = (ObjectNode) NodeReference.JSON.readTree(Files.readString(src.resolve("tokenizer.json")));
        ObjectNode pre = NodeReference.JSON.createObjectNode();
        if (variant.startsWith("gpt2")) {
            json.putNull("normalizer");
            pre.put("type", "ByteLevel").put("add_prefix_space", variant.endsWith("prefix"))
                    .put("trim_offsets", true).put("use_regex", true);
        } else {
            json.putNull("normalizer");
            pre.put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first")
                    .put("add_prefix_space", true).put("split", false);
        }
        json.set("pre_tokenizer", pre);
        Files.writeString(tmp.resolve("tokenizer.json"), NodeReference.JSON.writeValueAsString(json));
        Files.copy(src.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));

        Tokenizer tok = Tokenizers.fromHfDirectory(tmp);
        List<NodeReference.Result> ref = NodeReference.encode(tmp, CORPUS, false);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < CORPUS.size(); i++) {
            int[] ids = tok.encode(CORPUS.get(i), true);
            if (!Arrays.equals(ids, ref.get(i).ids())) {
                failures.add("encode \"" + show(CORPUS.get(i)) + "\"\n   ours " + Arrays.toString(ids)
                        + "\n   ref  " + Arrays.toString(ref.get(i).ids()));
            } else if (!tok.decode(ids).equals(ref.get(i).decoded())) {
                failures.add("decode \"" + show(CORPUS.get(i)) + "\": ours \"" + show(tok.decode(ids)) + "\"");
            }
        }
        failIfAny(variant, failures);
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

    @ParameterizedTest
    @CsvSource({"qwen3,qwen2", "llama3,llama-bpe", "llama2,"})
    void ggufMetadataGivesTheSameTokensAsTokenizerJson(String model, String pre) throws Exception {
        Path dir = NodeReference.modelDir(model);
        Map<String, GgufValue> md = GgufVocabFixture.fromTokenizerJson(dir, pre, pre == null ? 0 : 5);
        Tokenizer gguf = Tokenizers.fromGguf(md);
        Tokenizer hf = hf(model);
        List<String> failures = new ArrayList<>();
        for (boolean parseSpecial : new boolean[] {true, false}) {
            for (String text : CORPUS) {
                int[] a = hf.encode(text, parseSpecial);
                int[] b = gguf.encode(text, parseSpecial);
                if (!Arrays.equals(a, b)) {
                    failures.add("parseSpecial=" + parseSpecial + " \"" + show(text) + "\"\n   json " + Arrays.toString(a)
                            + "\n   gguf " + Arrays.toString(b));
                } else if (!hf.decode(a).equals(gguf.decode(b))) {
                    failures.add("decode \"" + show(text) + "\": json \"" + show(hf.decode(a)) + "\" gguf \"" + show(gguf.decode(b)) + "\"");
                }
            }
        }
        failIfAny(model + " GGUF vs tokenizer.json", failures);
        assertThat(gguf.bosId()).isEqualTo(hf.bosId());
        assertThat(gguf.eosId()).isEqualTo(hf.eosId());
        assertThat(gguf.vocabSize()).isEqualTo(hf.vocabSize() + (pre == null ? 0 : 5));
        for (int id = 0; id < hf.vocabSize(); id++) {
            assertThat(gguf.isSpecial(id)).as("special %d", id).isEqualTo(hf.isSpecial(id)
                    || (hf.tokenString(id).startsWith("<|") && hf.tokenString(id).endsWith("|>")));
        }
    }
}
