package ai.autoglm.cli;

import ai.autoglm.server.security.SigningKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code autoglm keygen --out DIR}: a new Ed25519 key pair for signing models. */
@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = "Make an Ed25519 key pair for signing models: DIR/autoglm-signing.key (PEM PKCS#8, mode 0600) and DIR/autoglm-signing.pub (PEM).")
final class KeygenCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the two key files (created if needed).")
    Path out;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Override
    public Integer call() {
        SigningKeys.Written w = SigningKeys.generate(out);
        System.out.println("private key: " + w.privateKey() + " (keep it secret)");
        System.out.println("public key:  " + w.publicKey() + " (give it to servers: trust.keys or serve --trust)");
        System.out.println("key id:      " + w.keyId());
        return 0;
    }
}
