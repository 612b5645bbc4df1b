package ai.autoglm.core.tokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.CORPUS;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.failIfAny;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.show;
import static org.assertj.core.api.Assertions.assertThat;

/** tokenizer.json pipeline parts the three real files do not use, against transformers.js ({@link NodeReference}). */
class TokenizerPipelineVariantsTest {

    /**
     * Pipeline variants the three real files do not use, made by editing them and checked against the
     * reference too: GPT-2's ByteLevel-only pre-tokenizer (with and without add_prefix_space) and a
     * Metaspace pre-tokenizer (prepend_scheme "first", as newer Llama/Mistral files have) instead of the
     * Prepend/Replace normalizer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-bytelevel", "gpt2-bytelevel-prefix", "digits", "metaspace-first"})
    void pipelineVariantsMatchTransformersJs(String variant, @TempDir Path tmp) throws Exception {
        String base = variant.startsWith("metaspace") ? "llama2" : "qwen3";
        List<String> corpus = CORPUS;
        Path src = NodeReference.modelDir(base);
        ObjectNode json = (ObjectNode) NodeReference.JSON.readTree(Files.readString(src.resolve("tokenizer.json")));
        ObjectNode pre = NodeReference.JSON.createObjectNode();
        if (variant.equals("digits")) {
            // HF Digits isolates char::is_numeric runs (\p{N}); transformers.js only ASCII \d, so compare on
            // texts whose numerals are ASCII.
            json.putNull("normalizer");
            pre.put("type", "Sequence");
            pre.putArray("pretokenizers").add(NodeReference.JSON.createObjectNode().put("type", "Digits").put("individual_digits", true))
                    .add(NodeReference.JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true));
            corpus = CORPUS.stream().filter(t -> t.codePoints().allMatch(c -> !Character.isDigit(c) && Character.getType(c) != Character.OTHER_NUMBER
                    && Character.getType(c) != Character.LETTER_NUMBER || (c >= '0' && c <= '9'))).toList();
            assertThat(corpus.size()).isGreaterThan(CORPUS.size() / 2);
        } else if (variant.startsWith("gpt2")) {
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
        List<NodeReference.Result> ref = NodeReference.encode(tmp, corpus, false);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            int[] ids = tok.encode(corpus.get(i), true);
            if (!Arrays.equals(ids, ref.get(i).ids())) {
                failures.add("encode \"" + show(corpus.get(i)) + "\"\n   ours " + Arrays.toString(ids)
                        + "\n   ref  " + Arrays.toString(ref.get(i).ids()));
            } else if (!tok.decode(ids).equals(ref.get(i).decoded())) {
                failures.add("decode \"" + show(corpus.get(i)) + "\": ours \"" + show(tok.decode(ids)) + "\"");
            }
        }
        failIfAny(variant, failures);
    }

}
