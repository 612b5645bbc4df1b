package ai.autoglm.train.tokenizer;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The bundled model's GGUF vocabulary written as tokenizer.json encodes and decodes as the GGUF tokenizer does. */
class GgufTokenizerExportTest {
    @TempDir
    Path dir;

    @Test
    void defaultModelTokenizerRoundTrips() {
        Path gguf = Path.of("../models/default/model.gguf");
        GgufTokenizerExport.write(gguf, 256, dir);
        Tokenizer fromGguf, fromJson = Tokenizers.fromHfDirectory(dir);
        try (GgufFile f = GgufFile.open(gguf)) {
            fromGguf = Tokenizers.fromGguf(f.metadata(), gguf);
        }
        assertThat(fromJson.vocabSize()).isEqualTo(fromGguf.vocabSize());
        assertThat(fromJson.eosId()).isEqualTo(fromGguf.eosId());
        for (String text : new String[]{"床前明月光，疑是地上霜。", "A fortune cookie: you will write Java today.\n\n  Indented 123456 <|user|>hi",
                "[gMASK]<sop><|user|>\n你好<|assistant|>"}) {
            int[] ids = fromGguf.encode(text, true);
            assertThat(fromJson.encode(text, true)).as(text).containsExactly(ids);
            assertThat(fromJson.decode(ids)).isEqualTo(fromGguf.decode(ids));
        }
    }
}
