package ai.autoglm.cli;

import ai.autoglm.core.generate.GenerationResult;

import java.io.PrintStream;
import java.util.Locale;

/** The one-line speed summary printed after a generation, like llama.cpp's timings. */
final class Timings {
    private Timings() {
    }

    static void print(PrintStream err, GenerationResult r) {
        err.printf(Locale.ROOT, "[prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | finish: %s]%n",
                r.promptTokens(), r.prefillTokensPerSecond(), r.completionTokens(), r.decodeTokensPerSecond(),
                r.finishReason().wireName);
    }
}
