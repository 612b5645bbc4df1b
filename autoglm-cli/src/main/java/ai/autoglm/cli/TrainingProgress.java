package ai.autoglm.cli;

import ai.autoglm.train.AtomicWrites;
import ai.autoglm.train.LossCurvePlot;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The progress bar of {@code distill} and {@code qat} (as {@code train} shows it: loss, learning rate, tokens/s) and
 * the loss curve they write at the end ({@code loss.tsv} and a PNG).
 */
final class TrainingProgress implements AutoCloseable {
    private final ProgressBar bar;
    private final List<LossCurvePlot.Point> curve = new ArrayList<>();
    private final long t0 = System.nanoTime();
    private long tokens;

    TrainingProgress(String task, long steps) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500).continuousUpdate().build();
    }

    /** Records one finished step; {@code detail} is appended to the bar's message. Fails on a non-finite loss. */
    void step(long step, double loss, double lr, int stepTokens, String detail) {
        tokens += stepTokens;
        curve.add(new LossCurvePlot.Point(step, loss));
        bar.stepTo(step);
        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f%s  lr %.1e  %.0f tok/s", loss, detail, lr, tokens / ((System.nanoTime() - t0) / 1e9)));
        if (!Double.isFinite(loss)) throw new IllegalStateException("loss became " + loss + " at step " + step + "; try a lower --lr");
    }

    /** Writes {@code tsv} (step, loss) and the curve as {@code png}. */
    void writeCurve(Path tsv, Path png, String title) {
        StringBuilder sb = new StringBuilder("step\tloss\n");
        for (LossCurvePlot.Point p : curve) sb.append(p.step()).append('\t').append(p.loss()).append('\n');
        AtomicWrites.writeBytes(tsv, sb.toString().getBytes(StandardCharsets.UTF_8));
        if (!curve.isEmpty()) LossCurvePlot.write(curve, title, png);
    }

    @Override
    public void close() {
        bar.close();
    }
}
