package ai.autoglm.cli;

import ai.autoglm.server.security.AutoglmHome;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --home DIR}: the data directory (keys, audit trail); default AUTOGLM_HOME, else ~/.autoglm. */
final class HomeOption {
    @Option(names = "--home", paramLabel = "DIR", description = "Data directory for keys and the audit trail (default: $AUTOGLM_HOME, else ~/.autoglm).")
    Path home;

    AutoglmHome locate() {
        return AutoglmHome.locate(home);
    }
}
