package ai.autoglm.client;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.model.ComputeThreads;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.schedule.ContinuousBatchScheduler;
import ai.autoglm.core.schedule.GenerationJob;
import ai.autoglm.core.schedule.JobEvent;
import ai.autoglm.core.schedule.SchedulerListener;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Not a test: where a decode step of the serving path spends its time besides the forward pass (bench/sdk/run.sh
 * step; results in bench/sdk/RESULTS.md, "Where the SDK's per-step time went"). One JVM, one model, T compute threads;
 * per round, in this order:
 * <ul>
 *   <li>{@code forward}: N single-token forwards at depth P with a greedy pick, as {@code autoglm bench}'s tg;</li>
 *   <li>{@code streamed}: one greedy job of N tokens after a P-token prompt through a {@link ContinuousBatchScheduler}
 *       of one slot, read token by token on this thread (the server's streaming path; the reader wakes per token);</li>
 *   <li>{@code whole}: the same with {@link GenerationJob#wakeReaderAtEndsOnly} (the SDK's {@code chat()}).</li>
 * </ul>
 * Reported over the second half of the rounds (the first half warms the JIT): ms per token (median), and for the
 * scheduler runs, from the scheduler's own {@code stepDone} callbacks, each decode step's forward time and the time
 * from one step's end to the next one's end minus that forward: the scheduler thread's time per step outside the
 * forward pass (sampling, stop rules, detokenizing, the hand-off to the reader, and any wait for a core).
 */
public final class StepOverheadBench {
    public static void main(String[] args) throws Exception {
        Path modelPath = Path.of(args[0]);
        ComputeThreads.set(Integer.parseInt(args[1]));
        int rounds = Integer.parseInt(args[2]);
        int p = 64, n = 64;
        long[] stepEnd = new long[rounds * (n + 2) * 2 + 16], stepForward = new long[stepEnd.length];
        int[] stepMode = new int[stepEnd.length];
        int[] count = {0};
        int[] mode = {0};
        SchedulerListener listener = new SchedulerListener() {
            @Override
            public void stepDone(int rows, int decodeRows, long nanos) {
                int i = count[0];
                if (i >= stepEnd.length) return;
                // a prefill step breaks the chain of decode steps: mark it so that no interval spans it
                stepEnd[i] = rows == 1 && decodeRows == 1 ? System.nanoTime() : -1;
                stepForward[i] = nanos;
                stepMode[i] = mode[0];
                count[0] = i + 1;
            }
        };
        try (LanguageModel model = ModelLoader.load(modelPath);
             ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler("bench", model, 1, p + n + 16, 4, 256, listener)) {
            int[] tokens = new int[p + n];
            for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7919 + 13) % 256;
            InferenceState state = model.newState(p + n);
            double[][] msPerToken = new double[3][rounds];
            int[] halfStart = new int[1];
            for (int r = 0; r < rounds; r++) {
                if (r == rounds / 2) halfStart[0] = count[0];
                state.rewind(0);
                model.forward(state, tokens, 0, p, false);
                long t = System.nanoTime();
                for (int i = p; i < p + n; i++) argmax(model.forward(state, tokens, i, 1, false));
                msPerToken[0][r] = (System.nanoTime() - t) / 1e6 / n;
                for (int m = 1; m <= 2; m++) {
                    mode[0] = m;
                    int[] prompt = Arrays.copyOf(tokens, p);
                    prompt[0] = (r * 31 + m * 7) % 256; // a new prompt each time: the slot's cache cannot skip the prefill
                    GenerationRequest req = new GenerationRequest(prompt, n, SamplerSettings.greedy(), Set.of(), List.of());
                    GenerationJob job = new GenerationJob(req, 0, true, 600_000_000_000L);
                    if (m == 2) job.wakeReaderAtEndsOnly();
                    scheduler.submit(job);
                    long first = 0, last = 0;
                    int got = 0;
                    for (JobEvent e; ; ) {
                        e = job.next(1000);
                        if (e == null) continue; // the first, cold prefill may take longer than a second
                        if (!(e instanceof JobEvent.Token)) break;
                        last = System.nanoTime();
                        if (first == 0) first = last;
                        got++;
                    }
                    // streamed: the reader's clock; whole: the tokens arrive together, so its rate comes from the steps
                    msPerToken[m][r] = m == 1 ? (last - first) / 1e6 / (got - 1) : Double.NaN;
                }
                mode[0] = 0;
            }
            System.out.printf(Locale.ROOT, "model %s, %d threads, %d rounds (reported: rounds %d-%d)%n",
                    modelPath.getFileName(), ComputeThreads.count(), rounds, rounds / 2 + 1, rounds);
            System.out.printf(Locale.ROOT, "forward (as autoglm bench tg): %.3f ms/token%n", median(tail(msPerToken[0], rounds / 2)));
            System.out.printf(Locale.ROOT, "scheduler, streamed reader: %.3f ms/token (reader's clock)%n", median(tail(msPerToken[1], rounds / 2)));
            for (int m = 1; m <= 2; m++) {
                List<Double> over = new ArrayList<>(), fwd = new ArrayList<>(), step = new ArrayList<>();
                for (int i = halfStart[0]; i + 1 < count[0]; i++) {
                    if (stepMode[i + 1] != m || stepMode[i] != m || stepEnd[i] < 0 || stepEnd[i + 1] < 0) continue;
                    long interval = stepEnd[i + 1] - stepEnd[i];
                    step.add(interval / 1e3);
                    fwd.add(stepForward[i + 1] / 1e3);
                    over.add((interval - stepForward[i + 1]) / 1e3);
                }
                double[] o = over.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                System.out.printf(Locale.ROOT, "scheduler, %s: step %.1f us = forward %.1f us + outside the forward median %.1f us "
                                + "[p25 %.1f, p75 %.1f, p90 %.1f] (%d steps)%n", m == 1 ? "streamed reader" : "whole-answer reader",
                        median(step.stream().mapToDouble(Double::doubleValue).toArray()),
                        median(fwd.stream().mapToDouble(Double::doubleValue).toArray()),
                        median(o), o[o.length / 4], o[3 * o.length / 4], o[9 * o.length / 10], o.length);
            }
        }
    }

    private static double[] tail(double[] a, int from) {
        return Arrays.copyOfRange(a, from, a.length);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
