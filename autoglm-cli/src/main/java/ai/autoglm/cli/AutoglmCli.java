package ai.autoglm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code autoglm} command: one subcommand per job. */
@Command(name = "autoglm", mixinStandardHelpOptions = true, version = "autoglm 0.1.0",
        description = "Run, convert and inspect GLM, Llama and Qwen models on the CPU, in pure Java.")
public final class AutoglmCli implements Runnable {

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AutoglmCli()).execute(args));
    }
}
