package ai.autoglm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code autoglm} command: one subcommand per job. */
@Command(name = "autoglm", mixinStandardHelpOptions = true, version = "autoglm 0.1.0",
        description = "Run, convert and inspect GLM, Llama and Qwen models on the CPU, in pure Java.",
        subcommands = {RunCommand.class, ChatCommand.class, InfoCommand.class, LogitsCommand.class, BenchCommand.class, EvalCommand.class,
                ConvertCommand.class, QuantizeCommand.class, ImatrixCommand.class, PruneCommand.class, LowrankCommand.class, CompressCommand.class,
                ServeCommand.class, TrainCommand.class, FinetuneCommand.class, DistillCommand.class, QatCommand.class, LoraCommand.class, TokenizerCommand.class,
                KeygenCommand.class, SignCommand.class, VerifyCommand.class, PullCommand.class, ModelsCommand.ListCommand.class,
                ModelsCommand.ShowCommand.class, ModelsCommand.RmCommand.class, KeysCommand.class, AuditCommand.class,
                CommandLine.HelpCommand.class})
public final class AutoglmCli implements Runnable {

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** The configured command line: user errors exit 2 with one line, no stack trace unless --debug. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new AutoglmCli());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
