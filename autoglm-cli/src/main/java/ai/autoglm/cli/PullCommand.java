package ai.autoglm.cli;

import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.PulledModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code autoglm pull NAME}: fetch a model into the Hugging Face cache, checking every file's hash. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = "Download a model by name into the Hugging Face cache ($HF_HOME/hub), resuming partial files and checking each "
                + "file's SHA-256 before it is used. NAME: a catalog name (autoglm list --catalog) or org/name[@revision][:QUANT].")
final class PullCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "The model to pull.")
    String name;

    @Option(names = "--source", paramLabel = "S", description = "huggingface (default; HF_ENDPOINT) or modelscope (MODELSCOPE_ENDPOINT); default $" + HubCli.ENV_SOURCE + ".")
    String source;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        String src = HubCli.source(source);
        ModelPuller p = new ModelPuller(HubCli.settings(false));
        PulledModel m = p.pull(ModelNames.parse(name, src), src, HubCli.progress());
        System.out.printf("%s: %s at commit %s, %d file(s) in %s%n", name, m.ref().repo(), m.commit(), m.files().size(), m.snapshot());
        return 0;
    }
}
