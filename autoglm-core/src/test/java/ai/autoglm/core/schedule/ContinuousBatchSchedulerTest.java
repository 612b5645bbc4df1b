package ai.autoglm.core.schedule;

import ai.autoglm.core.generate.GenerationRequest;
import ai.autoglm.core.generate.Generator;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.generate.SamplerSettings;
import ai.autoglm.core.generate.Sequence;
import ai.autoglm.core.generate.StopTokens;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler on its own, with the real engine: sequences really share engine steps (several decode rows in one
 * forward pass) and still produce exactly what the single-sequence Generator produces. A prefill budget of one
 * token per step makes every job take many steps, so jobs submitted together overlap.
 */
class ContinuousBatchSchedulerTest {
    @TempDir
    Path dir;

    @Test
    void jobsShareStepsAndEachEqualsTheGenerator() throws Exception {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withContext(512), dir.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel model = ModelLoader.load(file)) {
            AtomicInteger maxDecodeRows = new AtomicInteger();
            SchedulerListener listener = new SchedulerListener() {
                @Override
                public void stepDone(int rows, int decodeRows, long nanos) {
                    maxDecodeRows.accumulateAndGet(decodeRows, Math::max);
                }
            };
            String[] prompts = {"hello world, hello the world", "or the world or hello", "lo lo lo he he he", "world world"};
            List<GenerationRequest> requests = new ArrayList<>();
            for (String p : prompts) {
                requests.add(new GenerationRequest(Prompts.completion(model, p), 24, SamplerSettings.greedy(),
                        StopTokens.defaults(model.tokenizer()), List.of()));
            }
            List<GenerationJob> jobs = new ArrayList<>();
            try (ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler("t", model, 4, 128, 8, 1, listener)) {
                for (GenerationRequest r : requests) {
                    GenerationJob job = new GenerationJob(r, 0, true, 60_000_000_000L);
                    scheduler.submit(job);
                    jobs.add(job);
                }
                for (int i = 0; i < jobs.size(); i++) {
                    StringBuilder text = new StringBuilder();
                    int tokens = 0;
                    JobEvent e;
                    while ((e = jobs.get(i).next(30_000)) instanceof JobEvent.Token t) {
                        text.append(t.step().text());
                        tokens++;
                    }
                    assertThat(e).isInstanceOf(JobEvent.Finished.class);
                    assertThat(((JobEvent.Finished) e).completionTokens()).isEqualTo(24); // ignore_eos: runs to max_tokens
                    assertThat(tokens).isEqualTo(24);
                    assertThat(text.toString()).as(prompts[i]).isEqualTo(reference(model, requests.get(i)));
                }
            }
            assertThat(maxDecodeRows.get()).as("decode rows of different sequences in one engine step").isGreaterThanOrEqualTo(2);
        }
    }

    /**
     * A job that wakes its reader at the ends only (a non-streaming request) gives the same events in the same order,
     * and the same text as the Generator; while it runs, only its first token is queued.
     */
    @Test
    void aQuietJobQueuesItsFirstTokenThenTheRestAtTheEndInOrder() throws Exception {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withContext(512), dir.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel model = ModelLoader.load(file)) {
            GenerationRequest r = new GenerationRequest(Prompts.completion(model, "hello world, hello the world"), 24,
                    SamplerSettings.greedy(), StopTokens.defaults(model.tokenizer()), List.of());
            // unit level: the events queued as the scheduler emits them
            GenerationJob unit = new GenerationJob(r, 0, true, 60_000_000_000L).wakeReaderAtEndsOnly();
            for (int i = 0; i < 4; i++) {
                unit.emit(new JobEvent.Token(new ai.autoglm.core.generate.GenerationStream.Step(i, true, "t" + i, Float.NaN,
                        new int[0], new float[0], i == 3 ? ai.autoglm.core.generate.FinishReason.LENGTH : null)));
                if (i == 2) {
                    assertThat(unit.next(0)).as("first token at once").isInstanceOf(JobEvent.Token.class);
                    assertThat(unit.next(0)).as("the middle tokens wait for the end").isNull();
                }
            }
            unit.emit(new JobEvent.Finished(1, 0, 4));
            List<Integer> ids = new ArrayList<>();
            JobEvent e;
            while ((e = unit.next(0)) instanceof JobEvent.Token t) ids.add(t.step().token());
            assertThat(ids).containsExactly(1, 2, 3);
            assertThat(e).isInstanceOf(JobEvent.Finished.class);

            // with the scheduler: the same text as the Generator
            try (ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler("t", model, 1, 128, 8, 256, SchedulerListener.NONE)) {
                GenerationJob job = new GenerationJob(r, 0, true, 60_000_000_000L).wakeReaderAtEndsOnly();
                scheduler.submit(job);
                StringBuilder text = new StringBuilder();
                int tokens = 0;
                while ((e = job.next(30_000)) instanceof JobEvent.Token t) {
                    text.append(t.step().text());
                    tokens++;
                }
                assertThat(e).isInstanceOf(JobEvent.Finished.class);
                assertThat(tokens).isEqualTo(24);
                assertThat(text.toString()).isEqualTo(reference(model, r));
            }
        }
    }

    /**
     * Mixed steps: beside a job that decodes, a long prompt is prefilled at most {@code budget} tokens per
     * step, in the same steps as the other job's decode rows, so the decoding job never waits a whole prompt's
     * prefill for its next token. Both outputs equal the Generator's.
     */
    @Test
    void aLongPromptIsPrefilledWithinTheBudgetBesideTheDecodingJobs() throws Exception {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withContext(512), dir.resolve("m.gguf"), GgmlType.F32);
        int budget = 4;
        try (LanguageModel model = ModelLoader.load(file)) {
            List<int[]> steps = java.util.Collections.synchronizedList(new ArrayList<>());
            SchedulerListener listener = new SchedulerListener() {
                @Override
                public void stepDone(int rows, int decodeRows, long nanos) {
                    steps.add(new int[]{rows, decodeRows});
                }
            };
            // 96 tokens: still decoding for ~96 steps, long after the second job (submitted right after it) joins
            GenerationRequest shortOne = new GenerationRequest(Prompts.completion(model, "hello"), 96, SamplerSettings.greedy(),
                    java.util.Set.of(), List.of());
            GenerationRequest longOne = new GenerationRequest(Prompts.completion(model,
                    "hello world or the world, hello the world or lo he lo he world world hello the lo lo he he"), 8,
                    SamplerSettings.greedy(), java.util.Set.of(), List.of());
            assertThat(longOne.promptTokens().length).as("the long prompt needs several steps").isGreaterThan(5 * budget);
            try (ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler("t", model, 2, 128, 8, budget, listener)) {
                GenerationJob a = new GenerationJob(shortOne, 0, true, 60_000_000_000L);
                GenerationJob b = new GenerationJob(longOne, 0, true, 60_000_000_000L);
                scheduler.submit(a);
                scheduler.submit(b); // joins while a decodes (at the latest a few steps after a's prompt)
                StringBuilder textA = new StringBuilder();
                JobEvent e;
                while ((e = a.next(30_000)) instanceof JobEvent.Token t) textA.append(t.step().text());
                assertThat(e).isInstanceOf(JobEvent.Finished.class);
                StringBuilder textB = new StringBuilder();
                while ((e = b.next(30_000)) instanceof JobEvent.Token t) textB.append(t.step().text());
                assertThat(e).isInstanceOf(JobEvent.Finished.class);
                assertThat(textA.toString()).isEqualTo(reference(model, shortOne));
                assertThat(textB.toString()).isEqualTo(reference(model, longOne));
            }
            synchronized (steps) {
                for (int[] s : steps) assertThat(s[0] - s[1]).as("prompt rows in one step").isLessThanOrEqualTo(budget);
                long mixed = steps.stream().filter(s -> s[1] >= 1 && s[0] - s[1] == budget).count();
                assertThat(mixed).as("steps that prefilled a full budget beside a decode row").isGreaterThanOrEqualTo(3);
            }
        }
    }

    /**
     * A job whose engine step throws (here: a token id outside the vocabulary, which only the HTTP layer would
     * normally catch) fails alone; the jobs batched with it finish with their exact output.
     */
    @Test
    void aFailingJobDoesNotDisturbTheOthers() throws Exception {
        Path file = ModelFixtures.writeGguf(ModelFixtures.llama().withContext(512), dir.resolve("m.gguf"), GgmlType.F32);
        try (LanguageModel model = ModelLoader.load(file);
             ContinuousBatchScheduler scheduler = new ContinuousBatchScheduler("t", model, 3, 128, 8, 1, SchedulerListener.NONE)) {
            GenerationRequest good = new GenerationRequest(Prompts.completion(model, "hello the world"), 16, SamplerSettings.greedy(),
                    java.util.Set.of(), List.of());
            int[] badPrompt = Prompts.completion(model, "hello");
            badPrompt[badPrompt.length - 1] = ModelFixtures.VOCAB_SIZE + 5;
            GenerationRequest bad = new GenerationRequest(badPrompt, 16, SamplerSettings.greedy(), java.util.Set.of(), List.of());
            GenerationJob a = new GenerationJob(good, 0, true, 60_000_000_000L);
            GenerationJob b = new GenerationJob(bad, 0, true, 60_000_000_000L);
            GenerationJob c = new GenerationJob(good, 0, true, 60_000_000_000L);
            scheduler.submit(a);
            scheduler.submit(b);
            scheduler.submit(c);
            JobEvent e;
            while ((e = b.next(30_000)) instanceof JobEvent.Token) {
                // none expected
            }
            assertThat(e).isInstanceOf(JobEvent.Failed.class);
            assertThat(((JobEvent.Failed) e).message()).contains("outside the vocabulary");
            for (GenerationJob job : List.of(a, c)) {
                StringBuilder text = new StringBuilder();
                while ((e = job.next(30_000)) instanceof JobEvent.Token t) text.append(t.step().text());
                assertThat(e).isInstanceOf(JobEvent.Finished.class);
                assertThat(text.toString()).isEqualTo(reference(model, good));
            }
        }
    }

    /** The Generator, with the job's stop tokens removed as the job ignores them. */
    private static String reference(LanguageModel model, GenerationRequest r) {
        GenerationRequest noStops = new GenerationRequest(r.promptTokens(), r.maxTokens(), r.sampling(), java.util.Set.of(), List.of());
        return new Generator(model).generate(new Sequence(model, 128), noStops, s -> {
        }).text();
    }
}
