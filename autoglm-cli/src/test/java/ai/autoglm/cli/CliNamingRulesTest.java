package ai.autoglm.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One name per idea across commands, checked on picocli's own model of every subcommand (the {@link CommandSpec}s
 * {@code autoglm} builds), so that a new command or option cannot bring a second spelling back: the old spellings
 * survive only as hidden aliases, {@code --model} is the one {@link ModelOption}, {@code --threads} the one
 * {@link ThreadsOption}.
 */
class CliNamingRulesTest {
    /** Old spellings that may exist only as hidden, deprecated aliases. */
    private static final Set<String> RETIRED = Set.of("--context", "--budget-mb");

    /** The commands that run the forward pass or train: each takes -t/--threads. */
    private static final Set<String> COMPUTE = Set.of("run", "chat", "logits", "bench", "eval", "imatrix", "prune", "compress",
            "serve", "train", "finetune", "distill", "qat");

    /** serve --model is a String resolved in call() with --offline/--source, which a converter cannot see. */
    private static final Set<String> MODEL_WITHOUT_CONVERTER = Set.of("serve");

    private static Map<String, CommandSpec> commands() {
        Map<String, CommandSpec> out = new LinkedHashMap<>();
        Set<CommandSpec> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<CommandLine> todo = new ArrayList<>(AutoglmCli.commandLine().getSubcommands().values());
        while (!todo.isEmpty()) {
            CommandLine c = todo.removeFirst();
            CommandSpec spec = c.getCommandSpec();
            if (!seen.add(spec) || spec.userObject() instanceof CommandLine.HelpCommand) continue;
            out.put(spec.qualifiedName(" ").replaceFirst("^autoglm ", ""), spec);
            todo.addAll(c.getSubcommands().values());
        }
        return out;
    }

    @Test
    void walksEveryCommand() {
        assertThat(commands().keySet()).contains("run", "compress", "serve", "lora merge", "keys create", "tokenizer train")
                .hasSizeGreaterThan(30);
    }

    @Test
    void retiredSpellingsAreHiddenAliasesOnly() {
        List<String> visible = new ArrayList<>();
        commands().forEach((name, spec) -> {
            for (OptionSpec o : spec.options()) {
                for (String n : o.names()) {
                    boolean retired = RETIRED.contains(n) || n.contains("budget") && !n.equals("--memory-budget-mb");
                    if (retired && !o.hidden()) visible.add(name + " " + n);
                }
            }
        });
        assertThat(visible).as("visible options with a retired name").isEmpty();
        // compress uses neither bare --ctx nor --context visibly: its two windows have names that cannot be mixed up
        CommandSpec compress = commands().get("compress");
        assertThat(compress.findOption("--ctx").hidden()).isTrue();
        assertThat(compress.findOption("--context").hidden()).isTrue();
        assertThat(compress.findOption("--budget-mb").hidden()).isTrue();
        assertThat(compress.findOption("--memory-ctx").hidden()).isFalse();
        assertThat(compress.findOption("--eval-ctx").hidden()).isFalse();
        assertThat(compress.findOption("--memory-budget-mb").hidden()).isFalse();
    }

    @Test
    void everyModelOptionIsTheSharedOne() {
        List<String> checked = new ArrayList<>();
        commands().forEach((name, spec) -> {
            OptionSpec o = spec.findOption("--model");
            if (o == null) return;
            checked.add(name);
            assertThat(o.names()).as(name).containsExactly("-m", "--model");
            assertThat(o.paramLabel()).as(name).isEqualTo("M");
            assertThat(String.join(" ", o.description())).as(name).startsWith(ModelOption.DESCRIPTION);
            if (MODEL_WITHOUT_CONVERTER.contains(name)) return;
            assertThat(o.converters()).as(name).hasSize(1);
            assertThat(o.converters()[0]).as(name).isInstanceOf(ModelNameConverter.class);
        });
        assertThat(checked).contains("run", "chat", "logits", "bench", "eval", "quantize", "imatrix", "prune", "lowrank",
                "compress", "serve", "finetune", "qat", "lora merge");
    }

    @Test
    void computeCommandsTakeTheSameThreadsOption() {
        String description = String.join(" ", new CommandLine(new ThreadsHolder()).getCommandSpec().findOption("--threads").description());
        commands().forEach((name, spec) -> {
            OptionSpec t = spec.findOption("-t");
            OptionSpec threads = spec.findOption("--threads");
            assertThat(t).as(name + " -t").isSameAs(threads);
            if (COMPUTE.contains(name)) {
                assertThat(threads).as(name + " has --threads").isNotNull();
                assertThat(String.join(" ", threads.description())).as(name).isEqualTo(description);
            }
        });
    }

    /** Every option that takes a value names it ({@code --top-k K}, not picocli's default {@code <topK>} from the field). */
    @Test
    void everyOptionValueHasALabel() {
        List<String> unlabelled = new ArrayList<>();
        commands().forEach((name, spec) -> {
            for (OptionSpec o : spec.options()) {
                if (!o.hidden() && o.arity().max() > 0 && o.paramLabel().startsWith("<")) unlabelled.add(name + " " + o.longestName() + " " + o.paramLabel());
            }
        });
        assertThat(unlabelled).as("options whose value has no paramLabel").isEmpty();
    }

    /** The context length a command allocates or trains at is {@code -c, --ctx} wherever it is called --ctx. */
    @Test
    void everyCtxOptionHasTheShortName() {
        List<String> checked = new ArrayList<>();
        commands().forEach((name, spec) -> {
            OptionSpec ctx = spec.findOption("--ctx");
            if (ctx == null || ctx.hidden()) return;
            checked.add(name);
            assertThat(ctx.names()).as(name).containsExactly("-c", "--ctx");
        });
        assertThat(checked).contains("run", "serve", "eval", "imatrix", "train", "distill", "qat");
    }

    @Test
    void retiredSpellingsStillWork() {
        CompressCommand old = parseCompress("--budget-mb", "123.5", "--context", "64", "--ctx", "32");
        assertThat(old.budgetMb).isEqualTo(123.5);
        assertThat(old.context).isEqualTo(64);
        assertThat(old.evalCtx).isEqualTo(32);
        CompressCommand now = parseCompress("--memory-budget-mb", "99", "--memory-ctx", "128", "--eval-ctx", "16", "-t", "2");
        assertThat(now.budgetMb).isEqualTo(99.0);
        assertThat(now.context).isEqualTo(128);
        assertThat(now.evalCtx).isEqualTo(16);
        assertThat(now.threads.threads).isEqualTo(2);
        assertThat(parseCompress().evalCtx).as("default eval window").isZero();
    }

    private static CompressCommand parseCompress(String... options) {
        List<String> args = new ArrayList<>(List.of("compress", "--calib", "calib.txt"));
        args.addAll(List.of(options));
        args.add("out.gguf");
        CommandLine.ParseResult r = AutoglmCli.commandLine().parseArgs(args.toArray(String[]::new));
        return (CompressCommand) r.subcommand().commandSpec().userObject();
    }

    @CommandLine.Command(name = "holder")
    static final class ThreadsHolder {
        @CommandLine.Mixin
        ThreadsOption threads;
    }
}
