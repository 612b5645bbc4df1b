package ai.autoglm.cli;

import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code autoglm info}: what a model file is: architecture, sizes, tensor types, tokenizer, chat template. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a GGUF file or Hugging Face model directory.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "M", converter = ModelNameConverter.class, description = "A GGUF file, a Hugging Face model directory, or a model name (see autoglm list --catalog).")
    Path model;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Map<String, long[]> byType = new TreeMap<>(); // type -> {tensors, elements}
        long bytes;
        String format;
        if (Files.isDirectory(model)) {
            format = "Hugging Face safetensors";
            try (HfCheckpoint ckpt = HfCheckpoint.open(model)) {
                for (String name : ckpt.tensorNames()) {
                    count(byType, ckpt.dtype(name), ckpt.info(name).elements());
                }
            }
            try (Stream<Path> files = Files.list(model)) {
                bytes = files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(InfoCommand::size).sum();
            }
        } else {
            try (GgufFile gguf = GgufFile.open(model)) {
                format = "GGUF v" + gguf.version();
                for (GgufTensorInfo t : gguf.tensorInfos()) count(byType, t.type().name(), t.elements());
            }
            bytes = Files.size(model);
        }
        try (LanguageModel m = ModelLoader.load(model)) {
            ModelConfig c = m.config();
            long params = byType.values().stream().mapToLong(v -> v[1]).sum();
            out.printf(Locale.ROOT, "model:         %s%n", model);
            out.printf(Locale.ROOT, "format:        %s, %.1f MB%n", format, bytes / 1e6);
            out.printf(Locale.ROOT, "architecture:  %s%n", c.architecture().ggufName());
            if (c.moe() != null && m instanceof ai.autoglm.core.model.TransformerModel tm) {
                // a token runs `used` of the routed experts: stored vs read per token (the MTP block is stored only)
                ai.autoglm.core.model.ParameterCounts pc = ai.autoglm.core.model.ParameterCounts.of(c, tm.weights());
                out.printf(Locale.ROOT, "parameters:    %s total, %s active per token%n", human(params), human(pc.active()));
                out.printf(Locale.ROOT, "experts:       %d routed, %d used per token, %d shared, expert ffn %d, %d leading dense layers, %s gating%s%n",
                        c.moe().experts(), c.moe().used(), c.moe().shared(), c.moe().expertFfn(), c.moe().leadingDense(),
                        c.moe().gating().name().toLowerCase(Locale.ROOT),
                        c.moe().nextnLayers() > 0 ? ", " + c.moe().nextnLayers() + " MTP block(s) not run" : "");
            } else {
                out.printf(Locale.ROOT, "parameters:    %s%n", human(params));
            }
            out.printf(Locale.ROOT, "layers:        %d, dim %d, ffn %d%n", c.layers(), c.dim(), c.ffnDim());
            out.printf(Locale.ROOT, "attention:     %d heads, %d kv heads, head dim %d, rotary dim %d, rope theta %.0f%n",
                    c.heads(), c.kvHeads(), c.headDim(), c.rotaryDim(), c.ropeTheta());
            out.printf(Locale.ROOT, "context:       %d%n", c.contextLength());
            out.print("tensor types: ");
            byType.forEach((type, v) -> out.printf(Locale.ROOT, " %s x%d (%s)", type, v[0], human(v[1])));
            out.println();
            Tokenizer tok = m.tokenizer();
            String prefix = java.util.Arrays.stream(tok.prefixTokens()).mapToObj(id -> tokenName(tok, id))
                    .collect(java.util.stream.Collectors.joining(", "));
            out.printf(Locale.ROOT, "tokenizer:     %s, %d tokens, bos %s, eos %s, prompt prefix %s%n",
                    tok.getClass().getSimpleName(), tok.vocabSize(), tokenName(tok, tok.bosId()),
                    tokenName(tok, tok.eosId()), prefix.isEmpty() ? "none" : prefix);
            String template = m.chatTemplate().orElse(null);
            if (template == null) {
                out.println("chat template: none");
            } else {
                String head = template.strip().lines().findFirst().orElse("");
                out.printf(Locale.ROOT, "chat template: %d chars, begins: %s%n", template.length(),
                        head.length() > 100 ? head.substring(0, 100) + "..." : head);
            }
        }
        return 0;
    }

    private static void count(Map<String, long[]> byType, String type, long elements) {
        long[] v = byType.computeIfAbsent(type, k -> new long[2]);
        v[0]++;
        v[1] += elements;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static String tokenName(Tokenizer tok, int id) {
        return id < 0 ? "none" : id + " " + tok.tokenString(id);
    }

    private static String human(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }
}
