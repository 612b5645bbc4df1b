package ai.autoglm.cli;

import ai.autoglm.core.hub.HubSettings;
import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.PullListener;
import ai.autoglm.core.hub.PulledModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** The CLI's side of models by name: settings from the environment (HF_*), and progress on stderr. */
final class HubCli {
    /** Default source for models by name: AUTOGLM_MODEL_SOURCE (huggingface or modelscope), else huggingface. */
    static final String ENV_SOURCE = "AUTOGLM_MODEL_SOURCE";

    private HubCli() {
    }

    static HubSettings settings(boolean offline) {
        HubSettings s = HubSettings.fromEnvironment();
        return offline ? s.withOffline(true) : s;
    }

    static String source(String flag) {
        return flag != null ? flag : System.getenv().getOrDefault(ENV_SOURCE, "huggingface");
    }

    /** A model name resolved to the path a loader opens (pulled with progress when missing). */
    static Path resolve(String name, boolean offline, String source) throws IOException {
        ModelPuller p = new ModelPuller(settings(offline));
        String src = source(source);
        PulledModel m = p.resolve(ModelNames.parse(name, src), src, progress());
        return m.modelPath();
    }

    /** One line per file plus a total on stderr ({@link PullProgress}). */
    static PullListener progress() {
        return PullProgress.onStderr();
    }

    static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
