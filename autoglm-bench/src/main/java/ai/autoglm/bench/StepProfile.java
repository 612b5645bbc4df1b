package ai.autoglm.bench;

import ai.autoglm.core.generate.Sampler;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.model.BatchEntry;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.Parallel;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Where a server decode step over k slots spends its time: the batched forward pass ({@link LanguageModel#forwardBatch}
 * with one token per slot), the same step's weight products alone (every 2-D weight of the file through
 * {@link Parallel#matmul} with k tokens, as the forward pass runs them), and the sampler over the vocabulary for
 * each slot (default settings: temperature, top-k/top-p/min-p, logprob of the chosen token). Forward minus
 * matmuls is the step's own overhead (norms, rope, attention, copies, thread hand-offs); sampling comes on top.
 *
 * <p>{@code java -cp ... ai.autoglm.bench.StepProfile MODEL.gguf "1 2 4 8" STEPS}; prints one JSON line per k.
 */
public final class StepProfile {
    public static void main(String[] args) {
        Path path = Path.of(args[0]);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        try (LanguageModel model = ModelLoader.load(path)) {
            int vocab = model.config().vocabSize();
            WeightSource ws = ((TransformerModel) model).weights();
            List<FloatTensor> mats = new ArrayList<>();
            List<int[]> shapes = new ArrayList<>();
            boolean hasOutput = ws.names().contains("output.weight");
            for (String name : ws.names()) {
                long[] shape = ws.shape(name);
                if (shape.length != 2 || (name.equals("token_embd.weight") && hasOutput)) continue;
                mats.add(ws.tensor(name));
                shapes.add(new int[]{(int) shape[0], (int) shape[1]});
            }
            SplittableRandom r = new SplittableRandom(1);
            for (String level : args[1].trim().split("\\s+")) {
                int k = Integer.parseInt(level);
                List<InferenceState> states = new ArrayList<>();
                int[] prompt = new int[32];
                for (int i = 0; i < prompt.length; i++) prompt[i] = r.nextInt(vocab);
                for (int i = 0; i < k; i++) {
                    InferenceState s = model.newState(prompt.length + 3 * steps + 8);
                    model.forward(s, prompt, 0, prompt.length, false);
                    states.add(s);
                }
                List<Sampler> samplers = new ArrayList<>();
                for (int i = 0; i < k; i++) samplers.add(new Sampler(SamplerSettings.defaults(), vocab));
                int maxN = 0, maxD = 0;
                for (int[] s : shapes) {
                    maxN = Math.max(maxN, s[0]);
                    maxD = Math.max(maxD, s[1]);
                }
                float[] x = new float[k * maxN], out = new float[k * maxD];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                long fwd = 0, mm = 0, sample = 0;
                for (int rep = 0; rep < 3; rep++) { // rep 0: warm-up, not counted
                    long f = 0, m = 0, sm = 0;
                    for (int step = 0; step < steps; step++) {
                        List<BatchEntry> entries = new ArrayList<>();
                        for (InferenceState s : states) entries.add(BatchEntry.of(s, r.nextInt(vocab)));
                        long t0 = System.nanoTime();
                        float[][] logits = model.forwardBatch(entries);
                        long t1 = System.nanoTime();
                        for (int i = 0; i < k; i++) {
                            samplers.get(i).sample(logits[i], prompt, prompt.length);
                            samplers.get(i).lastLogprob();
                        }
                        long t2 = System.nanoTime();
                        for (int i = 0; i < mats.size(); i++) Parallel.matmul(mats.get(i), x, 0, shapes.get(i)[0], out, 0, shapes.get(i)[1], k);
                        long t3 = System.nanoTime();
                        f += t1 - t0;
                        sm += t2 - t1;
                        m += t3 - t2;
                    }
                    for (InferenceState s : states) s.rewind(prompt.length);
                    if (rep > 0) {
                        fwd += f;
                        mm += m;
                        sample += sm;
                    }
                }
                double n = 2.0 * steps;
                System.out.printf("{\"model\":\"%s\",\"k\":%d,\"forward_ms\":%.2f,\"matmul_ms\":%.2f,\"forward_minus_matmul_ms\":%.2f,"
                                + "\"sampling_ms\":%.2f,\"step_tokens_per_s\":%.1f}%n",
                        path.getFileName(), k, fwd / n / 1e6, mm / n / 1e6, (fwd - mm) / n / 1e6, sample / n / 1e6,
                        k / ((fwd + sample) / n / 1e9));
            }
        }
    }
}
