package ai.autoglm.core.model;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.format.safetensors.SafetensorsWriter;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.ModelFixtures.Spec;
import ai.autoglm.core.testing.ReferenceForward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static ai.autoglm.core.model.LogitsAssert.assertRowsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * LoRA adapters in PEFT format applied at load time. The adapters here are written by an independent writer in the
 * test (the JSON text and safetensors keys peft's save_pretrained produces, by hand), and the reference is core's
 * double-precision {@link ReferenceForward} over the HF weights with {@code scale * B @ A} added to each adapted
 * weight, computed here: so the HF-name mapping, the llama q/k row permutation of GGUF files, the scaling and the
 * unmerged forward are all checked against something that shares none of their code.
 */
class LoraLoadingTest {
    private static final List<String> ALL_MODULES = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    @TempDir
    Path tmp;

    /** An adapter: module name -> {A [r][in], B [out][r]} with B non-zero (as after training). */
    private static Map<String, float[][]> randomAdapter(Spec s, Map<String, float[]> hf, int r, long seed) {
        Random rnd = new Random(seed);
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (int l = 0; l < s.layers(); l++) {
            for (String m : ALL_MODULES) {
                String module = "model.layers." + l + "." + m;
                long[] shape = ModelFixtures.hfShape(s, module + ".weight");
                int rows = (int) shape[0], in = (int) shape[1];
                float[] a = new float[r * in], b = new float[rows * r];
                for (int i = 0; i < a.length; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) / Math.sqrt(in));
                for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextGaussian() * 0.1);
                out.put(module, new float[][]{a, b});
            }
        }
        return out;
    }

    /** Writes what peft's save_pretrained writes, without any of the code under test. */
    private static Path writePeft(Path dir, Map<String, float[][]> adapter, int r, double alpha, boolean rslora, String extraJson) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        for (var e : adapter.entrySet()) {
            float[] a = e.getValue()[0], b = e.getValue()[1];
            int in = a.length / r, out = b.length / r;
            w.add("base_model.model." + e.getKey() + ".lora_A.weight", new long[]{r, in}, "F32", a);
            w.add("base_model.model." + e.getKey() + ".lora_B.weight", new long[]{out, r}, "F32", b);
        }
        w.write(dir.resolve("adapter_model.safetensors"));
        Files.writeString(dir.resolve("adapter_config.json"), """
                {"alpha_pattern": {}, "base_model_name_or_path": "fixture", "bias": "none", "fan_in_fan_out": false,
                 "inference_mode": true, "init_lora_weights": true, "lora_alpha": %s, "lora_dropout": 0.05,
                 "modules_to_save": null, "peft_type": "LORA", "r": %d, "rank_pattern": {}, %s
                 "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                 "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": %s}
                """.formatted(alpha, r, extraJson, rslora));
        return dir;
    }

    /** HF weights with {@code scale * B @ A} added to every adapted weight (the merge peft's merge_and_unload does). */
    private static Map<String, float[]> merged(Map<String, float[]> hf, Map<String, float[][]> adapter, int r, Map<String, Double> scales) {
        Map<String, float[]> out = new LinkedHashMap<>(hf);
        for (var e : adapter.entrySet()) {
            String name = e.getKey() + ".weight";
            float[] w = hf.get(name).clone(), a = e.getValue()[0], b = e.getValue()[1];
            int in = a.length / r, rows = b.length / r;
            double scale = scales.get(e.getKey());
            for (int o = 0; o < rows; o++) {
                for (int i = 0; i < in; i++) {
                    double d = 0;
                    for (int k = 0; k < r; k++) d += (double) b[o * r + k] * a[k * in + i];
                    w[o * in + i] = (float) (w[o * in + i] + scale * d);
                }
            }
            out.put(name, w);
        }
        return out;
    }

    private static Map<String, Double> uniform(Map<String, float[][]> adapter, double scale) {
        Map<String, Double> m = new LinkedHashMap<>();
        adapter.keySet().forEach(k -> m.put(k, scale));
        return m;
    }

    private static float[] logits(LanguageModel m, int[] tokens) {
        return m.forward(m.newState(16), tokens, 0, tokens.length, true);
    }

    @Test
    void peftAdapterOnGgufLlamaMatchesReferenceOfMergedHfWeights() throws IOException {
        Spec s = ModelFixtures.llama();
        Map<String, float[]> hf = ModelFixtures.hfWeights(s);
        int r = 4;
        Map<String, float[][]> adapter = randomAdapter(s, hf, r, 11);
        Path dir = writePeft(tmp.resolve("adapter"), adapter, r, 16, false, "");
        int[] tokens = TransformerModelTest.prompt(7, 3);
        double[][] ref = new ReferenceForward(s, merged(hf, adapter, r, uniform(adapter, 16.0 / r)), tokens.length).run(tokens);
        double[][] base = new ReferenceForward(s, hf, tokens.length).run(tokens);

        Path gguf = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel m = ModelLoader.load(gguf, LoadOptions.defaults().withLora(dir))) {
            float[] got = logits(m, tokens);
            assertRowsClose("GGUF llama (q/k rows permuted) + LoRA", got, ref, TransformerModelTest.TOL);
            // The adapter matters: the base model's logits are far from these.
            assertThat(LogitsAssert.relativeError(got, 0, base[0])).isGreaterThan(100 * TransformerModelTest.TOL);
        }
        Path hfDir = ModelFixtures.writeHf(s, tmp.resolve("hf"));
        try (LanguageModel m = ModelLoader.load(hfDir, LoadOptions.defaults().withLora(dir))) {
            assertRowsClose("HF directory (rows unpermuted) + LoRA", logits(m, tokens), ref, TransformerModelTest.TOL);
        }
    }

    @Test
    void rsLoraAndAlphaPatternScaleAsPeftDoes() throws IOException {
        Spec s = ModelFixtures.qwen2();
        Map<String, float[]> hf = ModelFixtures.hfWeights(s);
        int r = 4;
        Map<String, float[][]> adapter = randomAdapter(s, hf, r, 12);
        Path dir = writePeft(tmp.resolve("rs"), adapter, r, 8, true, "\"alpha_pattern\": {\"v_proj\": 2}, ");
        // The writer's template already has an empty alpha_pattern; a JSON object keeps the last duplicate key.
        Map<String, Double> scales = new LinkedHashMap<>();
        for (String k : adapter.keySet()) scales.put(k, (k.endsWith("v_proj") ? 2.0 : 8.0) / Math.sqrt(r));
        int[] tokens = TransformerModelTest.prompt(5, 4);
        double[][] ref = new ReferenceForward(s, merged(hf, adapter, r, scales), tokens.length).run(tokens);
        Path gguf = ModelFixtures.writeGguf(s, tmp.resolve("q.gguf"), GgmlType.F32);
        try (LanguageModel m = ModelLoader.load(gguf, LoadOptions.defaults().withLora(dir))) {
            assertRowsClose("qwen2 + rsLoRA with alpha_pattern", logits(m, tokens), ref, TransformerModelTest.TOL);
        }
    }

    @Test
    void writtenAdapterReadsBackAndGgufOrderRoundTrips() throws IOException {
        Spec s = ModelFixtures.llama();
        Map<String, float[]> hf = ModelFixtures.hfWeights(s);
        int r = 2;
        Map<String, float[][]> raw = randomAdapter(s, hf, r, 13);
        PeftAdapter read = PeftAdapter.read(writePeft(tmp.resolve("a"), raw, r, 4, false, ""));
        read.write(tmp.resolve("b"));
        PeftAdapter again = PeftAdapter.read(tmp.resolve("b"));
        assertThat(again.modules().keySet()).isEqualTo(read.modules().keySet());
        for (String k : read.modules().keySet()) {
            assertThat(again.modules().get(k).a()).containsExactly(raw.get(k)[0]);
            assertThat(again.modules().get(k).b()).containsExactly(raw.get(k)[1]);
        }
        assertThat(again.config().scaleOf("model.layers.0.self_attn.q_proj")).isEqualTo(2.0);

        // GGUF order (what training on a GGUF llama produces) back to PEFT: B's q/k rows return to HF order.
        Path gguf = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel m = ModelLoader.load(gguf)) {
            TransformerModel tm = (TransformerModel) m;
            Map<String, List<LoraUpdate>> resolved = LoraTargets.resolve(read, tm.config(), tm.weights(), tmp.resolve("a"));
            Map<String, PeftAdapter.Module> byGguf = new LinkedHashMap<>();
            resolved.forEach((name, us) -> {
                LoraUpdate u = us.getFirst();
                byGguf.put(name, new PeftAdapter.Module(u.a(), u.b(), u.rank(), u.inputDim(), u.outputRows()));
            });
            PeftAdapter back = LoraTargets.toPeft(byGguf, tm.config(), read.config());
            for (String k : raw.keySet()) assertThat(back.modules().get(k).b()).as(k).containsExactly(raw.get(k)[1]);
            // and the q rows really were reordered on the way in (the heads are permuted, not the identity)
            assertThat(resolved.get("blk.0.attn_q.weight").getFirst().b()).isNotEqualTo(raw.get("model.layers.0.self_attn.q_proj")[1]);
        }
    }

    @Test
    void unsupportedAdaptersAreRefusedNamingTheProblem() throws IOException {
        Spec s = ModelFixtures.llama();
        Map<String, float[]> hf = ModelFixtures.hfWeights(s);
        Path gguf = ModelFixtures.writeGguf(s, tmp.resolve("m.gguf"), GgmlType.F32);
        Map<String, float[][]> one = new LinkedHashMap<>();
        one.put("model.layers.0.self_attn.q_proj", randomAdapter(s, hf, 2, 1).get("model.layers.0.self_attn.q_proj"));

        Path dora = writePeft(tmp.resolve("dora"), one, 2, 4, false, "");
        Files.writeString(dora.resolve("adapter_config.json"), Files.readString(dora.resolve("adapter_config.json")).replace("\"use_dora\": false", "\"use_dora\": true"));
        assertThatThrownBy(() -> ModelLoader.load(gguf, LoadOptions.defaults().withLora(dora))).isInstanceOf(ModelFormatException.class).hasMessageContaining("DoRA");

        Map<String, float[][]> unknown = Map.of("model.layers.0.self_attn.rotary_proj", one.values().iterator().next());
        Path unk = writePeft(tmp.resolve("unk"), unknown, 2, 4, false, "");
        assertThatThrownBy(() -> ModelLoader.load(gguf, LoadOptions.defaults().withLora(unk))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("rotary_proj").hasMessageContaining("no projection");

        Map<String, float[][]> beyond = Map.of("model.layers.9.self_attn.q_proj", one.values().iterator().next());
        Path far = writePeft(tmp.resolve("far"), beyond, 2, 4, false, "");
        assertThatThrownBy(() -> ModelLoader.load(gguf, LoadOptions.defaults().withLora(far))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("blk.9.attn_q.weight");

        Map<String, float[][]> wrong = Map.of("model.layers.0.self_attn.k_proj", one.values().iterator().next()); // q's 64 rows onto k's 32
        Path shape = writePeft(tmp.resolve("shape"), wrong, 2, 4, false, "");
        assertThatThrownBy(() -> ModelLoader.load(gguf, LoadOptions.defaults().withLora(shape))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("k_proj").hasMessageContaining("rows x inputs");

        Path rank = writePeft(tmp.resolve("rank"), one, 2, 4, false, "");
        Files.writeString(rank.resolve("adapter_config.json"), Files.readString(rank.resolve("adapter_config.json")).replace("\"r\": 2", "\"r\": 8"));
        assertThatThrownBy(() -> PeftAdapter.read(rank)).isInstanceOf(ModelFormatException.class).hasMessageContaining("r = 8");

        Path noB = tmp.resolve("nob");
        Files.createDirectories(noB);
        new SafetensorsWriter().add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", new long[]{2, 64}, "F32", new float[128])
                .write(noB.resolve("adapter_model.safetensors"));
        Files.copy(rank.resolve("adapter_config.json"), noB.resolve("adapter_config.json"));
        assertThatThrownBy(() -> PeftAdapter.read(noB)).isInstanceOf(ModelFormatException.class).hasMessageContaining("no lora_B");

        Path emb = tmp.resolve("emb");
        Files.createDirectories(emb);
        new SafetensorsWriter().add("base_model.model.model.embed_tokens.lora_embedding_A", new long[]{2, 64}, "F32", new float[128])
                .write(emb.resolve("adapter_model.safetensors"));
        Files.copy(rank.resolve("adapter_config.json"), emb.resolve("adapter_config.json"));
        assertThatThrownBy(() -> PeftAdapter.read(emb)).isInstanceOf(ModelFormatException.class).hasMessageContaining("embeddings");

        assertThatThrownBy(() -> PeftAdapter.read(tmp.resolve("missing"))).isInstanceOf(ModelFormatException.class).hasMessageContaining("not a directory");
        assertThat(LoraConfig.FILE_NAME).isEqualTo("adapter_config.json");
    }
}
