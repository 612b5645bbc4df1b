package ai.autoglm.cli;

import ai.autoglm.server.security.ModelSignatures;
import ai.autoglm.server.security.SigningKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.concurrent.Callable;

/** {@code autoglm sign --key K MODEL}: the signed manifest of a model's files. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = "Hash every file of a model and write a manifest signed with an Ed25519 key: MODEL.manifest.json "
                + "beside a GGUF file, DIR/autoglm-manifest.json in a Hugging Face directory or a LoRA adapter directory "
                + "(serve --trust refuses a model whose adapter is not signed by a trusted key).")
final class SignCommand implements Callable<Integer> {
    @Option(names = "--key", required = true, paramLabel = "K", description = "The private key (autoglm-signing.key from autoglm keygen, or an OpenSSL Ed25519 PEM).")
    Path key;

    @Option(names = "--pub", paramLabel = "PUB", description = "Its public key (default: the .pub file beside the key, with the same base name).")
    Path pub;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A GGUF file, Hugging Face directory, or PEFT LoRA adapter directory.")
    Path model;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() {
        Path pubFile = pub != null ? pub : key.resolveSibling(key.getFileName().toString().replaceFirst("\\.key$", "") + ".pub");
        if (!Files.exists(pubFile)) throw new IllegalArgumentException(pubFile + ": no public key beside " + key + "; give it with --pub");
        PublicKey publicKey = SigningKeys.readPublic(pubFile);
        Path manifest = ModelSignatures.sign(model, SigningKeys.readPrivate(key), publicKey);
        System.out.println("signed " + model + " with key " + SigningKeys.keyId(publicKey) + ": " + manifest);
        return 0;
    }
}
