package ai.autoglm.core.model.encoder;

import ai.autoglm.core.tokenizer.NodeReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One real trained encoder from its langchain4j jar, loaded once per class, checked against independent references:
 * token ids against transformers.js on the same tokenizer.json, embeddings against ONNX Runtime running the same
 * .onnx file (padded batch with attention mask; pooling and normalization written in {@link OrtReference}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OnnxRuntimeReferenceTest {
    private BertEmbeddingModel model;
    private OrtReference ort;
    @TempDir
    Path tmp;

    /** The model's name in its jar. */
    abstract String modelName();

    /** The pooling its model card prescribes (bge: CLS; all-MiniLM-L6-v2 and e5: mean). */
    abstract Pooling modelCardPooling();

    /** The truncation length expected: the tokenizer file's, else the 512 positions. */
    abstract int expectedMaxTokens();

    /**
     * Longest input (in tokens) the embedding comparison runs: a full 512-token forward pass of a 12-layer model
     * costs seconds, so those classes leave the long text to the tokenizer check and the smaller models.
     */
    int maxEmbeddedTokens() {
        return 512;
    }

    /** Texts to run (the corpus; the Chinese model adds more Chinese). */
    List<String> texts() {
        return EmbeddingCorpus.all();
    }

    @BeforeAll
    void load() throws Exception {
        model = EmbeddingModels.load(EmbeddingJars.jar(modelName()), EmbeddingModels.Options.DEFAULT);
        ort = new OrtReference(EmbeddingJars.onnx(modelName()));
    }

    @AfterAll
    void close() throws Exception {
        if (model != null) model.close();
        if (ort != null) ort.close();
    }

    @Test
    void defaultsFollowTheModelCard() {
        assertThat(model.pooling()).isEqualTo(modelCardPooling());
        assertThat(model.maxTokens()).isEqualTo(expectedMaxTokens());
        assertThat(model.dimension()).isEqualTo(model.encoder().config().hidden());
    }

    @Test
    void tokenIdsMatchTransformersJs() {
        List<String> texts = texts();
        List<int[]> reference = NodeReference.encodeWithSpecialTokens(EmbeddingJars.tokenizerJson(modelName(), tmp), texts);
        for (int i = 0; i < texts.size(); i++) {
            int[] ref = reference.get(i);
            assertThat(model.tokenizer().encodeForModel(texts.get(i), Integer.MAX_VALUE))
                    .as("untruncated ids of %s", texts.get(i)).containsExactly(ref);
            // HF truncation cuts the text's tokens and keeps [SEP] (transformers.js would drop [SEP] instead).
            int max = model.maxTokens();
            int[] truncated = ref;
            if (ref.length > max) {
                truncated = Arrays.copyOf(ref, max);
                truncated[max - 1] = ref[ref.length - 1];
            }
            assertThat(model.tokenize(texts.get(i))).as("ids of %s", texts.get(i)).containsExactly(truncated);
            assertThat(model.tokenCount(texts.get(i))).isEqualTo(truncated.length);
        }
    }

    @Test
    void embeddingsMatchOnnxRuntime() throws Exception {
        List<String> texts = texts().stream().filter(t -> model.tokenCount(t) <= maxEmbeddedTokens()).toList();
        float[][] ours = model.embed(texts);
        // The reference runs the short texts as one padded batch and long ones alone (padding to 512 costs much).
        List<int[]> shortIds = new ArrayList<>();
        List<Integer> shortAt = new ArrayList<>();
        double[][] ref = new double[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = model.tokenize(texts.get(i));
            if (ids.length > 64) {
                ref[i] = ort.embed(List.of(ids), modelCardPooling())[0];
            } else {
                shortIds.add(ids);
                shortAt.add(i);
            }
        }
        double[][] shortRef = ort.embed(shortIds, modelCardPooling());
        for (int j = 0; j < shortAt.size(); j++) ref[shortAt.get(j)] = shortRef[j];
        for (int i = 0; i < texts.size(); i++) {
            assertThat(ours[i]).hasSize(model.dimension());
            double norm = 0;
            for (float x : ours[i]) norm += x * x;
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(OrtReference.cosine(ours[i], ref[i])).as("cosine with ONNX Runtime for '%s'", texts.get(i))
                    .isGreaterThanOrEqualTo(0.9999);
        }
    }

    @Test
    void batchGivesTheSameVectorsAsOneByOne() {
        List<String> texts = EmbeddingCorpus.SHORT.subList(0, 4);
        float[][] batch = model.embed(texts);
        for (int i = 0; i < texts.size(); i++) {
            float[] alone = model.embed(List.of(texts.get(i)))[0];
            for (int d = 0; d < alone.length; d++) {
                assertThat(batch[i][d]).isCloseTo(alone[d], org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
    }
}
