package ai.autoglm.cli;

import ai.autoglm.core.hub.HubSettings;
import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.PullListener;
import ai.autoglm.core.hub.PulledModel;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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

    /**
     * A progress bar for the whole pull (me.tongfei progressbar, in MB) and one line per file as it starts and as
     * it is checked and linked; several files download at once, so per-file bars would overwrite each other on one line.
     */
    static PullListener progress() {
        return new PullListener() {
            private volatile ProgressBar total;
            private final Map<String, Long> perFile = new ConcurrentHashMap<>();
            private volatile long base;

            @Override
            public void planned(int files, long totalBytes, long alreadyBytes) {
                System.err.printf(Locale.ROOT, "pulling %d file(s), %.1f MB (%.1f MB already here)%n", files, totalBytes / 1e6, alreadyBytes / 1e6);
                base = 0;
                total = new ProgressBarBuilder().setTaskName("total").setInitialMax(Math.max(1, totalBytes / 1_000_000))
                        .setUnit(" MB", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate().build();
            }

            @Override
            public void fileStarted(String name, long size) {
                System.err.printf(Locale.ROOT, "  %s: %.1f MB%n", name, size / 1e6);
            }

            @Override
            public void fileProgress(String name, long bytes) {
                perFile.put(name, bytes);
                ProgressBar b = total;
                if (b != null) b.stepTo((base + perFile.values().stream().mapToLong(Long::longValue).sum()) / 1_000_000);
            }

            @Override
            public void fileDone(String name) {
                ProgressBar b = total;
                if (b != null && perFile.containsKey(name)) System.err.printf("  %s: checked%n", name);
            }
        };
    }


    static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
