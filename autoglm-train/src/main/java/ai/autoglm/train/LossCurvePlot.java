package ai.autoglm.train;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** The training loss per step as a PNG line chart (java.awt headless, no display needed). */
public final class LossCurvePlot {
    private static final int W = 800, H = 480, LEFT = 70, RIGHT = 20, TOP = 40, BOTTOM = 50;

    private LossCurvePlot() {
    }

    /** One point of the curve. */
    public record Point(long step, double loss) {
    }

    /** Writes the curve of {@code points} (at least one) to {@code png}, atomically; {@code title} above it. */
    public static void write(List<Point> points, String title, Path png) {
        if (points.isEmpty()) throw new IllegalArgumentException("no points to plot");
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            long minStep = points.getFirst().step(), maxStep = points.getLast().step();
            double minLoss = Double.POSITIVE_INFINITY, maxLoss = Double.NEGATIVE_INFINITY;
            for (Point p : points) {
                if (Double.isFinite(p.loss())) {
                    minLoss = Math.min(minLoss, p.loss());
                    maxLoss = Math.max(maxLoss, p.loss());
                }
            }
            if (!(maxLoss > minLoss)) { maxLoss = minLoss + 1; }
            if (maxStep == minStep) maxStep = minStep + 1;
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
            g.setColor(new Color(230, 230, 230));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i <= 5; i++) {
                int y = TOP + ph * i / 5;
                g.drawLine(LEFT, y, LEFT + pw, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format("%.2f", maxLoss - (maxLoss - minLoss) * i / 5), 8, y + 4);
                g.setColor(new Color(230, 230, 230));
            }
            g.setColor(Color.DARK_GRAY);
            g.drawRect(LEFT, TOP, pw, ph);
            g.drawString(Long.toString(minStep), LEFT, TOP + ph + 18);
            String last = Long.toString(maxStep);
            g.drawString(last, LEFT + pw - g.getFontMetrics().stringWidth(last), TOP + ph + 18);
            g.drawString("step", LEFT + pw / 2 - 12, TOP + ph + 38);
            g.drawString("loss (nats)", W - RIGHT - 70, TOP - 10);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT, 22);
            g.setColor(new Color(31, 119, 180));
            g.setStroke(new BasicStroke(1.5f));
            int px = -1, py = -1;
            for (Point p : points) {
                if (!Double.isFinite(p.loss())) continue;
                int x = LEFT + (int) Math.round((double) (p.step() - minStep) / (maxStep - minStep) * pw);
                int y = TOP + (int) Math.round((maxLoss - p.loss()) / (maxLoss - minLoss) * ph);
                if (px >= 0) g.drawLine(px, py, x, y);
                px = x;
                py = y;
            }
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer in this JDK");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicWrites.writeBytes(png, out.toByteArray());
    }
}
