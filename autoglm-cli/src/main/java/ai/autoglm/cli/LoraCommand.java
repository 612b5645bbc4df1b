package ai.autoglm.cli;

import ai.autoglm.compress.lora.LoraMerge;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code autoglm lora ...}: LoRA adapter tools. */
@Command(name = "lora", mixinStandardHelpOptions = true, description = "LoRA adapter tools (PEFT format).",
        subcommands = {LoraCommand.Merge.class})
final class LoraCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** {@code autoglm lora merge}: bake an adapter into a GGUF model. */
    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Merge a PEFT LoRA adapter into a GGUF model (W + alpha/r * B A). Adapted tensors keep the base's type when it is "
                    + "F32, F16 or BF16; quantized ones are written as F16 (quantize the result again if needed). Other tensors are copied.")
    static final class Merge implements Callable<Integer> {
        @Mixin
        ModelOption modelOption;
        @Option(names = "--lora", required = true, paramLabel = "DIR", description = "PEFT adapter directory.")
        Path lora;
        @Parameters(paramLabel = "OUT", description = "Merged GGUF file to write.")
        Path out;
        @Option(names = "--debug", description = "Print stack traces of errors.")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            Path model = modelOption.path();
            Path base = DefaultModel.orDefault(model);
            if (!Files.exists(base)) throw new NoSuchFileException(base.toString());
            LoraMerge.Result r = LoraMerge.merge(base, lora, out);
            System.err.printf("autoglm: merged %d tensors into %s%n", r.merged().size(), out);
            if (!r.widened().isEmpty()) {
                System.err.println("autoglm: note: quantized base tensors were written as F16 (quantize the merged model again to shrink it): "
                        + String.join(", ", r.widened()));
            }
            return 0;
        }
    }
}
