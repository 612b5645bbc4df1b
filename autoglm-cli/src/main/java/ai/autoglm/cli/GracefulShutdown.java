package ai.autoglm.cli;

import ai.autoglm.server.AutoglmServer;
import sun.misc.Signal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM (Kubernetes, systemd, docker stop) and SIGINT (Ctrl-C) drain the server and exit 0: stop taking requests,
 * let the running ones finish within the grace period, end the rest with finish reason {@code shutdown}, flush the
 * audit trail. A JVM shutdown hook alone cannot do this: the JVM exits 143 after a SIGTERM whatever the hooks do,
 * which Kubernetes and systemd report as a failure. {@code sun.misc.Signal} (module jdk.unsupported, kept by the JDK
 * for exactly this) replaces the default handler; a hook still closes the server on any other way out.
 *
 * <p>The handlers are {@link #install installed} before the server starts and the server is {@link #attach attached}
 * as soon as it listens: its readiness probe can answer 200 while the command line's model still preloads, and a
 * SIGTERM then must drain, not kill the JVM with 143. A signal before the server listens ends the process as the
 * default handler would (nothing to drain).
 */
final class GracefulShutdown {
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile AutoglmServer server;

    private GracefulShutdown() {
    }

    /** Replaces the default SIGTERM and SIGINT handlers. */
    static GracefulShutdown install() {
        GracefulShutdown g = new GracefulShutdown();
        for (String name : new String[]{"TERM", "INT"}) Signal.handle(new Signal(name), g::onSignal);
        return g;
    }

    /** The server the signals drain from now on (a JVM shutdown hook closes it on any other way out). */
    void attach(AutoglmServer s) {
        server = s;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (closing.compareAndSet(false, true)) s.close();
        }));
    }

    /** Whether a signal has begun draining the server. */
    boolean stopping() {
        return closing.get();
    }

    /** Blocks until a SIGTERM or SIGINT has drained and closed the server. */
    void await() throws InterruptedException {
        stopped.await();
    }

    private void onSignal(Signal sig) {
        AutoglmServer s = server;
        if (s == null) { // still starting: end as the default handler would
            System.exit(128 + sig.getNumber());
            return;
        }
        Thread.ofPlatform().name("autoglm-drain").start(() -> {
            if (!closing.compareAndSet(false, true)) return;
            boolean clean = s.drain();
            s.close();
            System.err.println("autoglm: stopped" + (clean ? "" : " (some answers were ended by the grace period)"));
            stopped.countDown();
        });
    }
}
