package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.LlamaCppReference;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.CORPUS;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.failIfAny;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real Qwen3, Llama 3 and Llama 2 tokenizers, converted to GGUF by our HfToGgufConverter (with a tiny
 * model whose vocabulary size is theirs), tokenize the mixed corpus to the same ids in llama.cpp (its own
 * {@code llama-vocab.cpp}: pre-tokenizer regexes, BPE and SentencePiece merges, special-token parsing) as
 * in our {@link Tokenizers#fromGguf}; and llama.cpp's detokenization of those ids is our decoding.
 *
 * <p>Known differences, where we follow the model's own tokenizer (HF) and llama.cpp does not; each is asserted
 * in its exact form rather than skipped:
 * <ul>
 *   <li>NFC: Qwen2's tokenizer.json NFC-normalizes the text first, llama.cpp's {@code qwen2} pre-tokenizer does
 *       not (llama-vocab.cpp has no normalizer step for BPE vocabularies; see GgufTokenizerLoader). For corpus
 *       texts not in NFC, llama.cpp on the NFC form must give our ids, and on the raw text it differs.</li>
 *   <li>{@code </s>}: llama.cpp's vocabulary loader marks any token spelled {@code </s>} as end-of-generation
 *       and CONTROL, whatever its type in the file (added for PaddleOCR; it logs "control-looking token ... was
 *       not control-type"). Qwen's vocabulary has a normal {@code </s>} (id 128247), so with special-token
 *       parsing llama.cpp matches it as a whole where HF (and we) apply the BPE merges. Expected ids for those
 *       texts: ours on the pieces between the {@code </s>} occurrences, joined by that id.</li>
 *   <li>Clean-up of spaces: llama_detokenize applies llama.cpp's version of HF's
 *       {@code clean_up_tokenization_spaces} to BPE vocabularies except those that turn it off (qwen2 does,
 *       llama-bpe does not); our decode returns the plain token text (as streaming output is). For llama-bpe the
 *       test applies the three passes of llama-vocab.cpp's {@code clean_spaces} to our text before comparing.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppTokenizerTest {
    @TempDir
    static Path tmp;

    /** Tokenizer package to the architecture of the tiny model that carries it (Qwen3's vocabulary is Qwen2's). */
    static final Map<String, Spec> CARRIER = Map.of(
            "qwen3", ModelFixtures.qwen2().withDims(16, 2, 1, 32),
            "llama3", ModelFixtures.llama().withDims(16, 2, 1, 32).withTiedEmbeddings(true),
            "llama2", ModelFixtures.llama().withDims(16, 2, 1, 32).withTiedEmbeddings(true));

    private final Map<String, Path> ggufs = new HashMap<>();
    private final Map<String, LlamaCppReference.Handle<LlamaCppReference.Tokenized>> reference = new HashMap<>();
    private final List<String> nfcCorpus = CORPUS.stream().map(t -> Normalizer.normalize(t, Normalizer.Form.NFC)).toList();

    @BeforeAll
    void convertAndAskLlamaCpp() throws IOException {
        LlamaCppReference.Batch batch = new LlamaCppReference.Batch();
        for (String model : CARRIER.keySet()) {
            Path gguf = convert(model);
            ggufs.put(model, gguf);
            for (boolean parseSpecial : new boolean[]{true, false}) {
                reference.put(model + parseSpecial, batch.tokenize(gguf, CORPUS, parseSpecial));
                if (model.equals("qwen3")) reference.put("nfc" + parseSpecial, batch.tokenize(gguf, nfcCorpus, parseSpecial));
            }
        }
        batch.run();
    }

    /** An HF directory: the real tokenizer files, a tiny model with vocab_size rows of embedding; converted to F16. */
    private Path convert(String model) throws IOException {
        Path tokenizerDir = NodeReference.modelDir(model);
        Path hf = Files.createDirectories(tmp.resolve(model + "-hf"));
        Files.copy(tokenizerDir.resolve("tokenizer.json"), hf.resolve("tokenizer.json"));
        Files.copy(tokenizerDir.resolve("tokenizer_config.json"), hf.resolve("tokenizer_config.json"));
        Spec spec = CARRIER.get(model);
        int vocab = vocabSize(tokenizerDir);
        ObjectNode config = ModelFixtures.hfConfig(spec);
        config.put("vocab_size", vocab);
        config.remove(List.of("bos_token_id", "eos_token_id")); // the fixture's ids; tokenizer_config.json names the real ones
        NodeReference.JSON.writeValue(hf.resolve("config.json").toFile(), config);
        SafetensorsWriter st = new SafetensorsWriter();
        for (String name : ModelFixtures.hfNames(spec)) {
            long[] shape = ModelFixtures.hfShape(spec, name);
            if (name.equals("model.embed_tokens.weight")) shape = new long[]{vocab, spec.dim()};
            long n = 1;
            for (long d : shape) n *= d;
            float[] values = new float[Math.toIntExact(n)];
            Arrays.fill(values, 0.01f); // the weights play no part: only the vocabulary is compared
            st.add(name, shape, "F16", values);
        }
        st.write(hf.resolve("model.safetensors"));
        Path gguf = tmp.resolve(model + ".gguf");
        HfToGgufConverter.convert(hf, gguf, GgmlType.F16);
        return gguf;
    }

    /** One past the largest id of the vocabulary and the added tokens, as the model's embedding would be sized. */
    private static int vocabSize(Path dir) throws IOException {
        var root = NodeReference.JSON.readTree(dir.resolve("tokenizer.json").toFile());
        int max = -1;
        for (var id : root.get("model").get("vocab")) max = Math.max(max, id.asInt());
        for (var a : root.get("added_tokens")) max = Math.max(max, a.get("id").asInt());
        return max + 1;
    }

    private Tokenizer ours(String model) {
        try (GgufFile f = GgufFile.open(ggufs.get(model))) {
            return Tokenizers.fromGguf(f.metadata(), f.path());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "llama2"})
    void tokenizesLikeLlamaCpp(String model) {
        Tokenizer ours = ours(model);
        List<String> failures = new ArrayList<>();
        int nfcDifferences = 0, endSDifferences = 0;
        for (boolean parseSpecial : new boolean[]{true, false}) {
            LlamaCppReference.Tokenized theirs = reference.get(model + parseSpecial).get();
            for (int i = 0; i < CORPUS.size(); i++) {
                String text = CORPUS.get(i);
                int[] a = model.equals("qwen3") && parseSpecial && text.contains(END_S)
                        ? withEndSAsControl(ours, text) : ours.encode(text, parseSpecial);
                if (!Arrays.equals(a, ours.encode(text, parseSpecial))) endSDifferences++;
                int[] b = theirs.ids().get(i);
                if (model.equals("qwen3") && !text.equals(nfcCorpus.get(i))) {
                    // llama.cpp skips Qwen2's NFC step: same ids once the text is NFC, different ones before.
                    int[] onNfc = reference.get("nfc" + parseSpecial).get().ids().get(i);
                    if (!Arrays.equals(a, onNfc)) {
                        failures.add("parseSpecial=" + parseSpecial + " NFC \"" + show(text) + "\"\n   ours           "
                                + Arrays.toString(a) + "\n   llama.cpp(NFC) " + Arrays.toString(onNfc));
                    }
                    if (!Arrays.equals(a, b)) nfcDifferences++;
                    continue;
                }
                if (!Arrays.equals(a, b)) {
                    failures.add("parseSpecial=" + parseSpecial + " \"" + show(text) + "\"\n   ours      " + Arrays.toString(a)
                            + "\n   llama.cpp " + Arrays.toString(b));
                } else if (parseSpecial) {
                    String decoded = model.equals("llama3") ? cleanSpaces(ours.decode(a)) : ours.decode(a);
                    if (!decoded.equals(theirs.detokenized().get(i))) {
                        failures.add("decode \"" + show(text) + "\": ours \"" + show(decoded) + "\" llama.cpp \""
                                + show(theirs.detokenized().get(i)) + "\"");
                    }
                }
            }
        }
        failIfAny(model + ": ours vs llama.cpp on the converted GGUF", failures);
        if (model.equals("qwen3")) {
            assertThat(nfcDifferences).as("corpus texts where skipping NFC changes llama.cpp's qwen2 ids").isPositive();
            assertThat(endSDifferences).as("corpus texts where a control </s> changes the ids").isPositive();
        }
    }

    static final String END_S = "</s>";

    /** Our ids for {@code text} if {@code </s>} were a control token: the pieces around it encoded on their own. */
    static int[] withEndSAsControl(Tokenizer ours, String text) {
        int endS = ours.tokenId(END_S);
        assertThat(endS).as("Qwen's vocabulary has a %s token", END_S).isNotNegative();
        assertThat(ours.isSpecial(endS)).as("%s is a normal token for us (as in HF)", END_S).isFalse();
        List<Integer> ids = new ArrayList<>();
        String[] pieces = text.split(java.util.regex.Pattern.quote(END_S), -1);
        for (int k = 0; k < pieces.length; k++) {
            if (k > 0) ids.add(endS);
            for (int id : ours.encode(pieces[k], true)) ids.add(id);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * llama-vocab.cpp {@code token_to_piece}/{@code detokenize} clean_spaces, in its three passes: drop the space
     * before ? ! . ,; turn " ' " into "'"; drop the space before 's 'm 're 've (but not 't 'd 'll).
     */
    static String cleanSpaces(String text) {
        String t = text.replaceAll(" ([?!.,])", "$1");
        t = t.replace(" ' ", "'");
        return t.replaceAll(" '(s|m|re|ve)", "'$1");
    }
}
