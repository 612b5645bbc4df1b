package ai.autoglm.bench;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;

/**
 * What the Vector API and C2 on JDK 25 make of int8 x int8 block dots (issue 17: "integer arithmetic where the hardware
 * has it"), measured rather than assumed: one Q8_0-shaped row (blocks of 32 int8 weights with a float scale) dotted
 * with activations in four forms, each as its own small loop, over a row that stays in L1/L2 so this is arithmetic,
 * not memory:
 * <ol>
 *   <li>{@code float}: weights sign-extended and converted to floats, FMA with float x (today's kernels);</li>
 *   <li>{@code int16}: x quantized per 32-block to int8 (as llama.cpp's Q8_0 activations), both widened to 32 short
 *       lanes, one 16-bit multiply (products fit: 127 * 127), the shorts widened to two int vectors and added, one
 *       int-to-float conversion and one FMA with the two scales per block;</li>
 *   <li>{@code int16-pairs}: as int16 but the 32 products summed pairwise in int lanes by shifts of the reinterpreted
 *       ints ({@code (p << 16 >> 16) + (p >> 16)}), no short-to-int conversion;</li>
 *   <li>{@code superword}: a plain Java loop {@code acc[i] += a[2i] b[2i] + a[2i+1] b[2i+1]} over short[] arrays, the
 *       shape C2's auto-vectorizer turns into {@code vpmaddwd} (MulAddVS2VI) and, with AVX512_VNNI, fuses with the add
 *       into {@code vpdpwssd}: the only int dot-product instruction JDK 25 reaches from Java, and only from arrays.</li>
 * </ol>
 * Time is the thread's CPU time (the machine is shared: wall time would count other jobs), best of the rounds, the
 * variants alternating. Run: {@code java --add-modules jdk.incubator.vector -cp autoglm-bench/target/classes
 * ai.autoglm.bench.IntDotProbe [seconds]}. Results in bench/RESULTS.md.
 */
public final class IntDotProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final int N = 4096, BLOCKS = N / 32;

    private IntDotProbe() {
    }

    static float dotFloat(byte[] w, float[] ws, float[] x) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < BLOCKS; b++) {
            ByteVector q = ByteVector.fromArray(B32, w, 32 * b);
            FloatVector v = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, 32 * b));
            v = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, 32 * b + 16), v);
            FloatVector a = v.fma(FloatVector.broadcast(F, ws[b]), a0);
            a0 = a1; a1 = a;
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static float dotInt16(byte[] w, float[] ws, byte[] xq, float[] xs) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < BLOCKS; b++) {
            ShortVector p = ((ShortVector) ByteVector.fromArray(B32, w, 32 * b).convertShape(VectorOperators.B2S, S, 0))
                    .mul((ShortVector) ByteVector.fromArray(B32, xq, 32 * b).convertShape(VectorOperators.B2S, S, 0));
            IntVector s = ((IntVector) p.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
            FloatVector a = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ws[b] * xs[b]), a0);
            a0 = a1; a1 = a;
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static float dotInt16Pairs(byte[] w, float[] ws, byte[] xq, float[] xs) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < BLOCKS; b++) {
            IntVector p = ((ShortVector) ByteVector.fromArray(B32, w, 32 * b).convertShape(VectorOperators.B2S, S, 0))
                    .mul((ShortVector) ByteVector.fromArray(B32, xq, 32 * b).convertShape(VectorOperators.B2S, S, 0))
                    .reinterpretAsInts();
            IntVector s = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
            FloatVector a = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ws[b] * xs[b]), a0);
            a0 = a1; a1 = a;
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** Per block: 16 int lanes of pair sums by C2's auto-vectorizer, then summed and scaled in scalar code. */
    static float dotSuperword(short[] w, float[] ws, short[] xq, float[] xs, int[] acc) {
        float sum = 0f;
        for (int b = 0; b < BLOCKS; b++) {
            int o = 32 * b;
            for (int i = 0; i < 16; i++) acc[i] = 0;
            for (int i = 0; i < 16; i++) acc[i] += w[o + 2 * i] * xq[o + 2 * i] + w[o + 2 * i + 1] * xq[o + 2 * i + 1];
            int s = 0;
            for (int i = 0; i < 16; i++) s += acc[i];
            sum += s * (ws[b] * xs[b]);
        }
        return sum;
    }

    /** The whole row's pair sums in one auto-vectorized loop (no per-block scale): the superword loop's ceiling. */
    static int dotSuperwordRaw(short[] w, short[] xq, int[] acc) {
        for (int i = 0; i < N / 2; i++) acc[i] = w[2 * i] * xq[2 * i] + w[2 * i + 1] * xq[2 * i + 1];
        int s = 0;
        for (int i = 0; i < N / 2; i++) s += acc[i];
        return s;
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        SplittableRandom r = new SplittableRandom(1);
        byte[] w = new byte[N], xq = new byte[N];
        short[] w16 = new short[N], x16 = new short[N];
        float[] ws = new float[BLOCKS], xs = new float[BLOCKS], x = new float[N];
        int[] acc = new int[N / 2];
        for (int i = 0; i < N; i++) {
            w[i] = (byte) (r.nextInt(255) - 127);
            x[i] = (float) (r.nextDouble() * 2 - 1);
            w16[i] = w[i];
        }
        for (int b = 0; b < BLOCKS; b++) {
            ws[b] = (float) r.nextDouble() / 64;
            float max = 0;
            for (int i = 0; i < 32; i++) max = Math.max(max, Math.abs(x[32 * b + i]));
            xs[b] = max / 127;
            for (int i = 0; i < 32; i++) {
                xq[32 * b + i] = (byte) Math.round(x[32 * b + i] / xs[b]);
                x16[32 * b + i] = xq[32 * b + i];
            }
        }
        String[] names = {"float", "int16", "int16-pairs", "superword", "superword-raw"};
        double[] best = new double[names.length];
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        float sink = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9 * names.length);
        while (System.nanoTime() < end) {
            for (int v = 0; v < names.length; v++) {
                int reps = 2000;
                long t0 = bean.getCurrentThreadCpuTime();
                for (int k = 0; k < reps; k++) {
                    sink += switch (v) {
                        case 0 -> dotFloat(w, ws, x);
                        case 1 -> dotInt16(w, ws, xq, xs);
                        case 2 -> dotInt16Pairs(w, ws, xq, xs);
                        case 3 -> dotSuperword(w16, ws, x16, xs, acc);
                        default -> dotSuperwordRaw(w16, x16, acc);
                    };
                }
                best[v] = Math.max(best[v], (double) reps * N / (bean.getCurrentThreadCpuTime() - t0));
            }
        }
        System.out.printf("agreement: float %.4f int16 %.4f pairs %.4f superword %.4f%n",
                dotFloat(w, ws, x), dotInt16(w, ws, xq, xs), dotInt16Pairs(w, ws, xq, xs), dotSuperword(w16, ws, x16, xs, acc));
        for (int v = 0; v < names.length; v++) System.out.printf("%-14s %6.1f GMAC/s%n", names[v], best[v]);
        if (sink == 42) System.out.println();
    }
}
