package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.gguf.GgufValue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.CORPUS;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.failIfAny;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.hf;
import static ai.autoglm.core.tokenizer.TokenizerReferenceTest.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * GGUF tokenizer metadata, written from the real tokenizer.json files as llama.cpp's converter would
 * ({@link GgufVocabFixture}), tokenizes exactly like the tokenizer.json itself (which
 * {@link TokenizerReferenceTest} checks against transformers.js).
 */
class TokenizerGgufTest {

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
