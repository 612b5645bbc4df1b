package ai.autoglm.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code -m/--model}, one spelling, one converter and one description for every command that reads a model
 * ({@link CliNamingRulesTest} keeps it so). Commands mix it in; {@link ModelOptions} adds the context and adapter of
 * the commands that generate.
 */
final class ModelOption {
    /** Also the first sentence of {@code serve --model}'s description, which resolves names itself. */
    static final String DESCRIPTION = "A GGUF file, a Hugging Face model directory (config.json + safetensors + tokenizer files), "
            + "or a model name: a catalog name (autoglm list --catalog) or org/name[@revision][:QUANT], pulled when missing; "
            + "default: the bundled model in models/default.";

    @Option(names = {"-m", "--model"}, paramLabel = "M", converter = ModelNameConverter.class, description = DESCRIPTION)
    Path model;

    /** The path given (a name already resolved by {@link ModelNameConverter}), or null when none was. */
    Path path() {
        return model;
    }

    /** The path given, or the bundled model's. */
    Path orDefault() {
        return DefaultModel.orDefault(model);
    }
}
