package ai.autoglm.bench;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ParameterCounts;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode speed of a mixture-of-experts model against dense models of the same total and of the same active size, all
 * random Q8_0 GGUFs written here: a GLM-4.5-shaped {@code glm4moe} (dim 1024, 4 layers of which 1 dense, 32 experts of
 * 512, top-4, one shared expert) and {@code qwen3} dense models whose MLP has the MoE layer's total or active width.
 * Reports weights stored, weights read per token (active parameters in Q8_0 bytes) and decode tokens/s (best of
 * rounds of 32 tokens after a 64-token prefill) on one compute thread, timed by the thread's CPU time so that other jobs
 * on a shared machine do not count. Run: {@code java --add-modules jdk.incubator.vector -cp
 * autoglm-bench/target/classes:autoglm-bench/target/lib/* ai.autoglm.bench.MoeDecodeProbe [seconds]}.
 */
public final class MoeDecodeProbe {
    static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    static final int DIM = 1024, LAYERS = 4, HEADS = 8, KV = 2, HD = 128, VOCAB = 1024, EXPERTS = 32, USED = 4, EFF = 512;

    public static void main(String[] args) throws Exception {
        double secs = args.length > 0 ? Double.parseDouble(args[0]) : 10;
        ai.autoglm.core.model.ComputeThreads.set(1);
        Path dir = Files.createTempDirectory("moe-probe");
        Path moe = writeMoe(dir.resolve("moe.gguf"));
        Path denseTotal = writeDense(dir.resolve("dense-total.gguf"), EXPERTS * EFF + EFF);
        Path denseActive = writeDense(dir.resolve("dense-active.gguf"), (USED + 1) * EFF);
        for (Path p : new Path[]{moe, denseTotal, denseActive}) run(p, secs);
    }

    static void run(Path file, double secs) {
        GgufWeightSource w = new GgufWeightSource(GgufFile.open(file));
        ModelConfig c = ModelConfig.fromGguf(file, w.file().metadata(), w);
        try (TransformerModel m = new TransformerModel(c, w, null, null, file)) {
            ParameterCounts pc = ParameterCounts.of(c, w);
            int[] tokens = new int[64 + 32 * 200];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(VOCAB);
            double best = 0;
            long end = System.nanoTime() + (long) (secs * 1e9);
            while (System.nanoTime() < end) {
                InferenceState st = m.newState(64 + 32);
                m.forward(st, tokens, 0, 64, false);
                long t0 = CPU.getCurrentThreadCpuTime();
                for (int t = 64; t < 96; t++) m.forward(st, tokens, t, 1, false);
                best = Math.max(best, 32 / ((CPU.getCurrentThreadCpuTime() - t0) / 1e9));
            }
            System.out.printf(Locale.ROOT, "%-18s %-8s stored %6.1f MB  read/token %6.1f MB  decode %7.1f tok/s%n",
                    file.getFileName(), c.architecture(), GgmlType.Q8_0.bytesFor(pc.total() / 32 * 32) / 1e6,
                    GgmlType.Q8_0.bytesFor(pc.active() / 32 * 32) / 1e6, best);
        }
    }

    static GgufWriter common(String arch, int blocks, int ffn) {
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", arch);
        g.putUint32(arch + ".block_count", blocks);
        g.putUint32(arch + ".context_length", 4096);
        g.putUint32(arch + ".embedding_length", DIM);
        g.putUint32(arch + ".feed_forward_length", ffn);
        g.putUint32(arch + ".attention.head_count", HEADS);
        g.putUint32(arch + ".attention.head_count_kv", KV);
        g.putUint32(arch + ".attention.key_length", HD);
        g.putUint32(arch + ".attention.value_length", HD);
        g.putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
        g.putFloat32(arch + ".rope.freq_base", 10000f);
        return g;
    }

    static void attention(GgufWriter g, SplittableRandom r, int l, String ffnNorm) {
        String b = "blk." + l + ".";
        g.addTensor(b + "attn_norm.weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
        g.addTensor(b + "attn_q.weight", new long[]{DIM, HEADS * HD}, rand(r, DIM * HEADS * HD), GgmlType.Q8_0);
        g.addTensor(b + "attn_k.weight", new long[]{DIM, KV * HD}, rand(r, DIM * KV * HD), GgmlType.Q8_0);
        g.addTensor(b + "attn_v.weight", new long[]{DIM, KV * HD}, rand(r, DIM * KV * HD), GgmlType.Q8_0);
        g.addTensor(b + "attn_output.weight", new long[]{HEADS * HD, DIM}, rand(r, DIM * HEADS * HD), GgmlType.Q8_0);
        g.addTensor(b + ffnNorm + ".weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
    }

    static void head(GgufWriter g, SplittableRandom r) {
        g.addTensor("token_embd.weight", new long[]{DIM, VOCAB}, rand(r, DIM * VOCAB), GgmlType.Q8_0);
        g.addTensor("output_norm.weight", new long[]{DIM}, ones(DIM), GgmlType.F32);
        g.addTensor("output.weight", new long[]{DIM, VOCAB}, rand(r, DIM * VOCAB), GgmlType.Q8_0);
    }

    static Path writeMoe(Path file) {
        String a = "glm4moe";
        GgufWriter g = common(a, LAYERS, 4 * EFF);
        g.putUint32(a + ".expert_count", EXPERTS);
        g.putUint32(a + ".expert_used_count", USED);
        g.putUint32(a + ".expert_feed_forward_length", EFF);
        g.putUint32(a + ".expert_shared_count", 1);
        g.putUint32(a + ".leading_dense_block_count", 1);
        g.putUint32(a + ".expert_gating_func", 2);
        g.putBool(a + ".expert_weights_norm", true);
        g.putFloat32(a + ".expert_weights_scale", 2.5f);
        SplittableRandom r = new SplittableRandom(7);
        head(g, r);
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            attention(g, r, l, "post_attention_norm");
            if (l == 0) {
                mlp(g, r, b, "", 4 * EFF);
                continue;
            }
            g.addTensor(b + "ffn_gate_inp.weight", new long[]{DIM, EXPERTS}, rand(r, DIM * EXPERTS), GgmlType.F32);
            g.addTensor(b + "exp_probs_b.bias", new long[]{EXPERTS}, new float[EXPERTS], GgmlType.F32);
            g.addTensor(b + "ffn_gate_exps.weight", new long[]{DIM, EFF, EXPERTS}, rand(r, DIM * EFF * EXPERTS), GgmlType.Q8_0);
            g.addTensor(b + "ffn_up_exps.weight", new long[]{DIM, EFF, EXPERTS}, rand(r, DIM * EFF * EXPERTS), GgmlType.Q8_0);
            g.addTensor(b + "ffn_down_exps.weight", new long[]{EFF, DIM, EXPERTS}, rand(r, DIM * EFF * EXPERTS), GgmlType.Q8_0);
            mlp(g, r, b, "_shexp", EFF);
        }
        g.write(file);
        return file;
    }

    static void mlp(GgufWriter g, SplittableRandom r, String b, String suffix, int ffn) {
        g.addTensor(b + "ffn_gate" + suffix + ".weight", new long[]{DIM, ffn}, rand(r, DIM * ffn), GgmlType.Q8_0);
        g.addTensor(b + "ffn_up" + suffix + ".weight", new long[]{DIM, ffn}, rand(r, DIM * ffn), GgmlType.Q8_0);
        g.addTensor(b + "ffn_down" + suffix + ".weight", new long[]{ffn, DIM}, rand(r, DIM * ffn), GgmlType.Q8_0);
    }

    static Path writeDense(Path file, int ffn) {
        String a = "qwen3";
        GgufWriter g = common(a, LAYERS, ffn);
        SplittableRandom r = new SplittableRandom(8);
        head(g, r);
        for (int l = 0; l < LAYERS; l++) {
            attention(g, r, l, "ffn_norm");
            g.addTensor("blk." + l + ".attn_q_norm.weight", new long[]{HD}, ones(HD), GgmlType.F32);
            g.addTensor("blk." + l + ".attn_k_norm.weight", new long[]{HD}, ones(HD), GgmlType.F32);
            mlp(g, r, "blk." + l + ".", "", ffn);
        }
        g.write(file);
        return file;
    }

    static float[] rand(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * 0.05);
        return v;
    }

    static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
