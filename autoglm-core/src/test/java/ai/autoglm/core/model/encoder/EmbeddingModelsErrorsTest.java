package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.tokenizer.Tokenizers;
import ai.autoglm.core.tokenizer.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad embedding-model inputs give one ModelFormatException naming the file; the WordPiece loader is found by model type. */
class EmbeddingModelsErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void hostileOnnxFileIsRefused() throws Exception {
        Path onnx = tmp.resolve("bad.onnx");
        Files.write(onnx, new byte[] {0x3A, (byte) 0xFF, (byte) 0xFF, 0x01, 0x02});
        Files.write(tmp.resolve("tokenizer.json"), EmbeddingJars.entry(EmbeddingJars.MINILM, EmbeddingJars.MINILM + "-tokenizer.json"));
        assertThatThrownBy(() -> EmbeddingModels.load(onnx)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("bad.onnx");
    }

    @Test
    void onnxWithoutTokenizerIsRefused() throws Exception {
        Path onnx = tmp.resolve("model.onnx");
        Files.write(onnx, new byte[] {1});
        assertThatThrownBy(() -> EmbeddingModels.load(onnx)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no tokenizer");
    }

    @Test
    void jarWithoutModelIsRefused() throws Exception {
        Path jar = tmp.resolve("empty.jar");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(jar))) {
            z.putNextEntry(new ZipEntry("README"));
            z.write("nothing".getBytes());
        }
        assertThatThrownBy(() -> EmbeddingModels.load(jar)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("exactly one *.onnx");
    }

    @Test
    void unknownFileTypeAndMissingPath() throws Exception {
        Path txt = Files.writeString(tmp.resolve("model.txt"), "x");
        assertThatThrownBy(() -> EmbeddingModels.load(txt)).isInstanceOf(ModelFormatException.class);
        assertThatThrownBy(() -> EmbeddingModels.load(tmp.resolve("missing.gguf"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no such file");
    }

    @Test
    void wordPieceTokenizerJsonLoadsThroughTokenizers() throws Exception {
        Files.write(tmp.resolve("tokenizer.json"), EmbeddingJars.entry(EmbeddingJars.BGE_ZH, EmbeddingJars.BGE_ZH + "-tokenizer.json"));
        assertThat(Tokenizers.fromHfDirectory(tmp)).isInstanceOf(WordPieceTokenizer.class);
        WordPieceTokenizer t = (WordPieceTokenizer) Tokenizers.fromTokenizerJson(tmp.resolve("tokenizer.json"));
        assertThat(t.clsId()).isEqualTo(101);
        assertThat(t.sepId()).isEqualTo(102);
        assertThat(t.encodeForModel("", 512)).containsExactly(101, 102);
        assertThat(t.encodeForModel("一二三四五", 4)).hasSize(4).startsWith(101).endsWith(102);
    }
}
