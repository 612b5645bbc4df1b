package ai.autoglm.cli;

import ai.autoglm.server.security.ModelSignatures;
import ai.autoglm.server.security.ModelVerificationException;
import ai.autoglm.server.security.SigningKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code autoglm verify [--trust PUB...] MODEL}: exit 0 when the model is unchanged (and signed by a trusted key). */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check a model against its signed manifest: the signature, the signer (with --trust) and every file's SHA-256. "
                + "Exit 0 if all holds, 3 naming what failed (the changed, missing or added file, the untrusted key).")
final class VerifyCommand implements Callable<Integer> {
    static final int VERIFICATION_FAILED = 3;

    @Option(names = "--trust", paramLabel = "PUB", description = "A trusted public key (repeatable); without it any signer is accepted and only integrity is checked.")
    List<Path> trust = List.of();

    @Parameters(index = "0", paramLabel = "MODEL", description = "A GGUF file or Hugging Face directory; or a model name in the cache "
            + "(then every file is re-hashed against the SHA-256 / git hash the hub published).")
    String model;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        List<PublicKey> keys = trust.stream().map(SigningKeys::readPublic).toList();
        if (ai.autoglm.core.hub.ModelNames.isName(model)) return ModelsCommand.verifyByName(model, keys);
        return verifySignature(Path.of(model), keys);
    }

    /** The signed-manifest check of a model file or directory (a snapshot folder of symlinks into blobs/ included). */
    static int verifySignature(Path model, List<PublicKey> keys) {
        ModelSignatures.Verified v;
        try {
            v = ModelSignatures.verify(model, keys);
        } catch (ModelVerificationException e) {
            System.err.println("autoglm: verification failed: " + e.getMessage());
            return VERIFICATION_FAILED;
        }
        System.out.printf("ok: %d file(s) unchanged, signed by key %s%s%n", v.files().size(), v.keyId(),
                v.trusted() ? " (trusted)" : " (no --trust given: the signer was not checked)");
        return 0;
    }
}
