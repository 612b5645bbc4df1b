package ai.autoglm.core.generate;

import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The generation loop on a random-weight fixture model: stop rules, limits, seeds and KV reuse. */
class GeneratorTest {
    @TempDir
    static Path dir;
    static LanguageModel model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(ModelFixtures.writeGguf(ModelFixtures.llama(), dir.resolve("m.gguf"), GgmlType.F32));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static GenerationResult generate(int[] prompt, int max, SamplerSettings s, List<String> stops, List<String> chunks) {
        return new Generator(model).generate(new Sequence(model, 128),
                new GenerationRequest(prompt, max, s, Set.of(), stops), chunks::add);
    }

    @Test
    void streamedChunksAddUpToTheTextAndMaxTokensEndsWithLength() {
        List<String> chunks = new ArrayList<>();
        GenerationResult r = generate(Prompts.completion(model, "abc"), 20, SamplerSettings.greedy(), List.of(), chunks);
        assertThat(r.completionTokens()).isEqualTo(20);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(String.join("", chunks)).isEqualTo(r.text());
    }

    @Test
    void aStopStringCutsTheOutputWhereverTheTokensSplitIt() {
        GenerationResult full = generate(Prompts.completion(model, "abc"), 30, SamplerSettings.greedy(), List.of(), new ArrayList<>());
        String text = full.text();
        int at = text.length() / 2;
        String stop = text.substring(at, Math.min(text.length(), at + 3));
        int first = text.indexOf(stop);
        List<String> chunks = new ArrayList<>();
        GenerationResult cut = generate(Prompts.completion(model, "abc"), 30, SamplerSettings.greedy(), List.of(stop), chunks);
        assertThat(cut.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(cut.text()).isEqualTo(text.substring(0, first));
        assertThat(String.join("", chunks)).isEqualTo(cut.text());
    }

    @Test
    void aStopTokenEndsGenerationAndIsNotCounted() {
        int[] prompt = Prompts.completion(model, "abc");
        List<Integer> ids = new ArrayList<>();
        Sequence seq = new Sequence(model, 128);
        new Generator(model).generate(seq, new GenerationRequest(prompt, 5, SamplerSettings.greedy(), Set.of(), List.of()), t -> { });
        for (int i = prompt.length; i < seq.historyLength(); i++) ids.add(seq.history()[i]);
        int firstNew = 1;
        while (ids.subList(0, firstNew).contains(ids.get(firstNew))) firstNew++;
        GenerationResult r = new Generator(model).generate(new Sequence(model, 128),
                new GenerationRequest(prompt, 5, SamplerSettings.greedy(), Set.of(ids.get(firstNew)), List.of()), t -> { });
        assertThat(r.completionTokens()).isEqualTo(firstNew);
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void theSameSeedGivesTheSameTextAndTheContextLimitsTheLength() {
        SamplerSettings s = SamplerSettings.defaults().withTemperature(1.5f).withTopK(0).withTopP(1f).withMinP(0f).withSeed(42L);
        String a = generate(Prompts.completion(model, "x"), 15, s, List.of(), new ArrayList<>()).text();
        String b = generate(Prompts.completion(model, "x"), 15, s, List.of(), new ArrayList<>()).text();
        assertThat(a).isEqualTo(b);
        int[] prompt = Prompts.completion(model, "hello");
        GenerationResult r = new Generator(model).generate(new Sequence(model, prompt.length + 3),
                new GenerationRequest(prompt, 50, SamplerSettings.greedy(), Set.of(), List.of()), t -> { });
        assertThat(r.completionTokens()).isEqualTo(3);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThatThrownBy(() -> new Generator(model).generate(new Sequence(model, prompt.length),
                new GenerationRequest(prompt, 5, SamplerSettings.greedy(), Set.of(), List.of()), t -> { }))
                .isInstanceOf(ContextOverflowException.class).hasMessageContaining(String.valueOf(prompt.length));
    }

    @Test
    void reusingTheCacheOfAnEarlierPromptGivesTheSameOutputAsAFreshSequence() {
        Sequence shared = new Sequence(model, 128);
        Generator g = new Generator(model);
        g.generate(shared, new GenerationRequest(Prompts.completion(model, "the first question"), 8,
                SamplerSettings.greedy(), Set.of(), List.of()), t -> { });
        int[] longer = Prompts.completion(model, "the first question and a follow-up");
        String reused = g.generate(shared, new GenerationRequest(longer, 8, SamplerSettings.greedy(), Set.of(), List.of()), t -> { }).text();
        String fresh = g.generate(new Sequence(model, 128), new GenerationRequest(longer, 8, SamplerSettings.greedy(), Set.of(), List.of()), t -> { }).text();
        assertThat(reused).isEqualTo(fresh);
    }
}
