package ai.autoglm.cli;

import ai.autoglm.core.generate.SamplerSettings;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Sampling and stopping flags shared by run and chat; defaults are llama.cpp's. */
final class SamplingOptions {
    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "" + SamplerSettings.DEFAULT_TEMPERATURE,
            description = "0 = greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "" + SamplerSettings.DEFAULT_TOP_K, description = "0 = off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "" + SamplerSettings.DEFAULT_TOP_P, description = "1 = off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "" + SamplerSettings.DEFAULT_MIN_P, description = "0 = off (default ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0", description = "1 = off (default ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "" + SamplerSettings.DEFAULT_PENALTY_LAST_N,
            description = "Tokens the penalties look back over; -1 = all (default ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--presence-penalty", paramLabel = "X", defaultValue = "0", description = "OpenAI presence penalty in [-2, 2].")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", defaultValue = "0", description = "OpenAI frequency penalty in [-2, 2].")
    float frequencyPenalty;

    @Option(names = "--seed", paramLabel = "N", description = "Seed for reproducible sampling (default: random).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text is generated (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplerSettings settings() {
        return SamplerSettings.defaults().withTemperature(temperature).withTopK(topK).withTopP(topP).withMinP(minP)
                .withPenalties(repeatPenalty, repeatLastN, presencePenalty, frequencyPenalty).withSeed(seed);
    }
}
