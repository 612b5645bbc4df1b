package ai.autoglm.core.model.encoder;

import ai.autoglm.core.tensor.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quantization quality on real trained encoders (issue 6: "on the real bge-small/MiniLM encoder weights ... encoder:
 * cosine >= 0.999"): the projection matrices converted to Q8_0 (and Q4_0, reported only) in memory at load time
 * ({@link EmbeddingModels.Options#withProjectionType}), each sentence's embedding compared with ONNX Runtime running the
 * unquantized .onnx of the same langchain4j jar. The cosines printed here are the ones in bench/QUALITY.md "Encoders".
 */
class EncoderQuantizationTest {
    /** English and Chinese sentences: the shared corpus (accents, punctuation, emoji, Chinese) plus more Chinese. */
    private static List<String> texts() {
        List<String> t = new ArrayList<>(EmbeddingCorpus.SHORT.stream().filter(s -> !s.isEmpty()).toList());
        t.add("北京是中华人民共和国的首都，也是全国的政治、文化中心。");
        t.add("“你好！”他说：“今天是2024年11月21日，星期四。”");
        t.add("混合 Mixed 文本 with CamelCase 和 ＵＴＦ全角字符，以及繁體中文與日本語のテキスト。");
        t.add("A sentence embedding maps a whole sentence to one vector, so that similar meanings lie close together.");
        return t;
    }

    @ParameterizedTest
    @CsvSource({EmbeddingJars.MINILM + ",MEAN", EmbeddingJars.BGE_ZH + ",CLS"})
    void q8_0ProjectionsKeepCosineWithOnnxRuntimeAbove0999(String modelName, Pooling pooling) throws Exception {
        List<String> texts = texts();
        double[][] ref;
        List<int[]> ids = new ArrayList<>();
        float[][] stored;
        float[][] q8;
        float[][] q4;
        try (BertEmbeddingModel plain = EmbeddingModels.load(EmbeddingJars.jar(modelName), EmbeddingModels.Options.DEFAULT);
             BertEmbeddingModel q8Model = EmbeddingModels.load(EmbeddingJars.jar(modelName),
                     EmbeddingModels.Options.DEFAULT.withProjectionType(GgmlType.Q8_0));
             BertEmbeddingModel q4Model = EmbeddingModels.load(EmbeddingJars.jar(modelName),
                     EmbeddingModels.Options.DEFAULT.withProjectionType(GgmlType.Q4_0));
             OrtReference ort = new OrtReference(EmbeddingJars.onnx(modelName))) {
            for (String t : texts) ids.add(plain.tokenize(t));
            ref = ort.embed(ids, pooling);
            stored = plain.embed(texts);
            q8 = q8Model.embed(texts);
            q4 = q4Model.embed(texts);
        }
        double minQ8 = 1, sumQ8 = 0, minQ4 = 1, sumQ4 = 0, maxChange = 0;
        for (int i = 0; i < texts.size(); i++) {
            double c8 = OrtReference.cosine(q8[i], ref[i]);
            double c4 = OrtReference.cosine(q4[i], ref[i]);
            assertThat(OrtReference.cosine(stored[i], ref[i])).as("unquantized, '%s'", texts.get(i)).isGreaterThanOrEqualTo(0.9999);
            assertThat(c8).as("%s Q8_0 cosine with ONNX Runtime for '%s'", modelName, texts.get(i)).isGreaterThanOrEqualTo(0.999);
            for (int d = 0; d < q8[i].length; d++) maxChange = Math.max(maxChange, Math.abs(q8[i][d] - stored[i][d]));
            minQ8 = Math.min(minQ8, c8);
            minQ4 = Math.min(minQ4, c4);
            sumQ8 += c8;
            sumQ4 += c4;
        }
        double meanQ8 = sumQ8 / texts.size();
        double meanQ4 = sumQ4 / texts.size();
        System.out.printf(Locale.ROOT, "%s (%d sentences): Q8_0 cosine mean %.6f min %.6f; Q4_0 cosine mean %.6f min %.6f%n",
                modelName, texts.size(), meanQ8, minQ8, meanQ4, minQ4);
        // The weights really were rounded: Q8_0 moves the vectors (by far less than Q4_0 does).
        assertThat(maxChange).as("largest change of an embedding component by Q8_0").isGreaterThan(1e-5);
        assertThat(meanQ4).as("Q4_0 mean cosine below Q8_0's").isLessThan(meanQ8);
    }
}
