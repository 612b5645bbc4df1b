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
 */
final class GracefulShutdown {
    private GracefulShutdown() {
    }

    /** Blocks until a SIGTERM or SIGINT has drained and closed the server. */
    static void awaitSignal(AutoglmServer server) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean closing = new AtomicBoolean();
        Runnable stop = () -> {
            if (!closing.compareAndSet(false, true)) return;
            boolean clean = server.drain();
            server.close();
            System.err.println("autoglm: stopped" + (clean ? "" : " (some answers were ended by the grace period)"));
            stopped.countDown();
        };
        for (String name : new String[]{"TERM", "INT"}) {
            Signal.handle(new Signal(name), sig -> Thread.ofPlatform().name("autoglm-drain").start(stop));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (closing.compareAndSet(false, true)) server.close();
        }));
        stopped.await();
    }
}
