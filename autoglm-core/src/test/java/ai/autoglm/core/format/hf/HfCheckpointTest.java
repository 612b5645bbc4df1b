package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HfCheckpointTest {

    @TempDir
    Path dir;

    private static float[] seq(int n, float start) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = start + i;
        return v;
    }

    private void config() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":4}");
    }

    private void shards() throws IOException {
        config();
        new SafetensorsWriter().add("a", new long[]{2, 3}, "F32", seq(6, 0)).add("b", new long[]{3}, "BF16", seq(3, 10))
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().add("c", new long[]{4}, "F16", seq(4, 20))
                .write(dir.resolve("model-00002-of-00002.safetensors"));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":0},\"weight_map\":" + weightMap + "}");
    }

    @Test
    void shardedWithIndex() throws IOException {
        shards();
        index("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\"}");
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertThat(ck.config().get("hidden_size").asInt()).isEqualTo(4);
            assertThat(ck.tensorNames()).containsExactly("a", "b", "c");
            assertThat(ck.shape("a")).containsExactly(2, 3);
            assertThat(ck.dtype("b")).isEqualTo("BF16");
            assertThat(ck.tensor("a").getFloat(5)).isEqualTo(5f);
            assertThat(ck.tensor("b").getFloat(2)).isEqualTo(12f);
            assertThat(ck.tensor("c").getFloat(3)).isEqualTo(23f);
            assertThat(ck.fileOf("c").getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
            assertThat(ck.tensor("zzz")).isNull();
        }
    }

    @Test
    void singleFileAndUnindexedParts() throws IOException {
        config();
        new SafetensorsWriter().add("w", new long[]{2}, "F32", seq(2, 7)).write(dir.resolve("model.safetensors"));
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertThat(ck.tensorNames()).containsExactly("w");
            assertThat(ck.tensor("w").getFloat(1)).isEqualTo(8f);
        }
        Files.delete(dir.resolve("model.safetensors"));
        shards();
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertThat(ck.tensorNames()).containsExactly("a", "b", "c");
        }
    }

    private void rejects(Path expectedFile, String problem) {
        assertThatThrownBy(() -> HfCheckpoint.open(dir).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(expectedFile.toString())
                .hasMessageContaining(problem)
                .extracting(e -> ((ModelFormatException) e).file()).isEqualTo(expectedFile);
    }

    @Test
    void missingConfig() throws IOException {
        new SafetensorsWriter().add("w", new long[]{2}, "F32", seq(2, 7)).write(dir.resolve("model.safetensors"));
        rejects(dir.resolve("config.json"), "missing");
    }

    @Test
    void malformedConfig() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": ");
        rejects(dir.resolve("config.json"), "malformed JSON");
    }

    @Test
    void noSafetensorsAtAll() throws IOException {
        config();
        Files.writeString(dir.resolve("pytorch_model.bin"), "pickle");
        rejects(dir, "no safetensors weights");
    }

    @Test
    void missingShard() throws IOException {
        shards();
        index("{\"a\":\"model-00001-of-00002.safetensors\",\"d\":\"model-00003-of-00003.safetensors\"}");
        rejects(dir.resolve("model-00003-of-00003.safetensors"), "missing shard");
    }

    @Test
    void weightMapNamesTensorTheShardLacks() throws IOException {
        shards();
        index("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}");
        rejects(dir.resolve("model-00001-of-00002.safetensors"), "lacks tensor 'c'");
    }

    @Test
    void hostileIndex() throws IOException {
        shards();
        index("{\"a\":\"../../etc/passwd\"}");
        rejects(dir.resolve("model.safetensors.index.json"), "invalid shard file");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": [1]}");
        rejects(dir.resolve("model.safetensors.index.json"), "weight_map");
        index("{\"a\": 3}");
        rejects(dir.resolve("model.safetensors.index.json"), "not a file name");
    }

    @Test
    void duplicateTensorAcrossUnindexedParts() throws IOException {
        shards();
        new SafetensorsWriter().add("a", new long[]{1}, "F32", seq(1, 0)).write(dir.resolve("model-00003-of-00003.safetensors"));
        rejects(dir.resolve("model-00003-of-00003.safetensors"), "also in");
    }
}
