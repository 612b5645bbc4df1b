package ai.autoglm.core.testing;

import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random-weight ~1B-parameter GGUF models for the end-to-end speed table ({@code bench/run-e2e.sh}), with the
 * metadata of {@link ModelFixtures} (llama) and {@link GlmFixtures} (chatglm, fused qkv + bias, fused gate|up) and
 * the shapes of real 1B models. 1B float weights do not fit a small heap, so tensors are generated and quantized
 * one at a time (only the quantized bytes are held until the file is written). Every matrix is stored in the
 * requested type (token_embd and output included, so both engines read the same bytes); norms and biases F32.
 * Values are uniform with the variance of N(0, 1/in): speed does not depend on the distribution, and a uniform
 * draw is much faster than a Gaussian one for a billion values.
 *
 * <p>{@code java ... BenchModels llama|glm q4_0|q8_0|f16 out.gguf}
 */
public final class BenchModels {
    /** Vocabulary rows (Llama 2 / TinyLlama size); the fixture tokenizer's ids come first, then [PADi] tokens. */
    static final int VOCAB = 32000;

    private BenchModels() {
    }

    /** TinyLlama-1.1B's shape: dim 2048, 22 layers, 32 heads over 4 KV heads, ffn 5632, untied output (1.1B parameters). */
    public static ModelFixtures.Spec llama1B() {
        return new ModelFixtures.Spec("llama", 2048, 22, 32, 4, 5632, 2048, 1e-5f, 10000.0, false, false, null, 1);
    }

    /** GLM-4-9B's proportions at 1.2B: dim 2048, 20 layers, 16 heads of 128 over 2 KV groups, ffn 6848, qkv bias. */
    public static GlmFixtures.Spec glm1B() {
        return new GlmFixtures.Spec("glm-1b", 2048, 20, 16, 2, 128, 6848, 2048, 1.5625e-7f, 500.0, true, VOCAB, false, 2);
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: BenchModels llama|glm q4_0|q8_0|f16|... out.gguf");
            System.exit(2);
        }
        GgmlType type = GgmlType.valueOf(args[1].toUpperCase());
        Path out = Path.of(args[2]);
        switch (args[0]) {
            case "llama" -> writeLlama(llama1B(), type, out);
            case "glm" -> writeGlm(glm1B(), type, out);
            default -> throw new IllegalArgumentException("arch must be llama or glm, got " + args[0]);
        }
    }

    public static void writeLlama(ModelFixtures.Spec s, GgmlType type, Path out) {
        GgufWriter g = new GgufWriter();
        LinkedHashMap<String, GgufValue> meta = ModelFixtures.ggufMetadata(s);
        padVocabulary(meta, ModelFixtures.TOKENS, ModelFixtures.FIRST_SPECIAL);
        meta.put("llama.vocab_size", GgufValue.uint32(VOCAB));
        meta.forEach(g::put);
        g.putUint32("general.file_type", fileType(type));
        SplittableRandom r = new SplittableRandom(s.seed());
        int d = s.dim(), q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        matrix(g, r, "token_embd.weight", d, VOCAB, type, 1.0);
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            norm(g, r, p + "attn_norm.weight", d);
            matrix(g, r, p + "attn_q.weight", d, q, type, 1 / Math.sqrt(d));
            matrix(g, r, p + "attn_k.weight", d, kv, type, 1 / Math.sqrt(d));
            matrix(g, r, p + "attn_v.weight", d, kv, type, 1 / Math.sqrt(d));
            matrix(g, r, p + "attn_output.weight", q, d, type, 1 / Math.sqrt(q));
            norm(g, r, p + "ffn_norm.weight", d);
            matrix(g, r, p + "ffn_gate.weight", d, s.ffn(), type, 1 / Math.sqrt(d));
            matrix(g, r, p + "ffn_up.weight", d, s.ffn(), type, 1 / Math.sqrt(d));
            matrix(g, r, p + "ffn_down.weight", s.ffn(), d, type, 1 / Math.sqrt(s.ffn()));
        }
        norm(g, r, "output_norm.weight", d);
        matrix(g, r, "output.weight", d, VOCAB, type, 1 / Math.sqrt(d));
        g.write(out);
    }

    public static void writeGlm(GlmFixtures.Spec s, GgmlType type, Path out) {
        GgufWriter g = new GgufWriter();
        // GlmFixtures pads the vocabulary to paddedVocab with [PADi] tokens itself.
        GlmFixtures.ggufMetadata(s, GlmFixtures.Layout.CHATGLM_REMOTE).forEach(g::put);
        g.putUint32("general.file_type", fileType(type));
        SplittableRandom r = new SplittableRandom(s.seed());
        int d = s.dim(), qkvRows = s.qDim() + 2 * s.kvDim();
        matrix(g, r, "token_embd.weight", d, s.paddedVocab(), type, 1.0);
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            norm(g, r, p + "attn_norm.weight", d);
            matrix(g, r, p + "attn_qkv.weight", d, qkvRows, type, 1 / Math.sqrt(d));
            vector(g, r, p + "attn_qkv.bias", qkvRows, 0, 0.5);
            matrix(g, r, p + "attn_output.weight", s.qDim(), d, type, 1 / Math.sqrt(s.qDim()));
            norm(g, r, p + "ffn_norm.weight", d);
            matrix(g, r, p + "ffn_up.weight", d, 2 * s.ffn(), type, 1 / Math.sqrt(d));
            matrix(g, r, p + "ffn_down.weight", s.ffn(), d, type, 1 / Math.sqrt(s.ffn()));
        }
        norm(g, r, "output_norm.weight", d);
        matrix(g, r, "output.weight", d, s.paddedVocab(), type, 1 / Math.sqrt(d));
        g.write(out);
    }

    /** Pads tokenizer.ggml.tokens / token_type to {@link #VOCAB} with unused [PADi] tokens (type 5), as GlmFixtures does. */
    private static void padVocabulary(Map<String, GgufValue> meta, List<String> tokens, int firstSpecial) {
        List<Object> t = new ArrayList<>(tokens);
        List<Object> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) types.add(i >= firstSpecial ? 3 : 1);
        for (int i = tokens.size(); i < VOCAB; i++) {
            t.add("[PAD" + i + "]");
            types.add(5);
        }
        meta.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, t));
        meta.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
    }

    /** llama.cpp's LLAMA_FTYPE for an all-{@code type} file. */
    private static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q4_K -> 15;
            case Q5_K -> 17;
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no file type for " + type);
        };
    }

    private static void matrix(GgufWriter g, SplittableRandom r, String name, int rowLength, int rows, GgmlType type, double std) {
        float[] v = uniform(r, Math.multiplyExact(rowLength, rows), 0, std);
        g.addTensor(name, new long[]{rowLength, rows}, v, type);
    }

    private static void norm(GgufWriter g, SplittableRandom r, String name, int n) {
        vector(g, r, name, n, 1, 0.1);
    }

    private static void vector(GgufWriter g, SplittableRandom r, String name, int n, double mean, double std) {
        g.addTensor(name, new long[]{n}, uniform(r, n, mean, std), GgmlType.F32);
    }

    private static float[] uniform(SplittableRandom r, int n, double mean, double std) {
        double a = Math.sqrt(3) * std; // U(-a, a) has variance a^2 / 3
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (mean + a * (2 * r.nextDouble() - 1));
        return v;
    }
}
