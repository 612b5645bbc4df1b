package ai.autoglm.client;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Server first, local model as the fallback, with the policy of {@link HybridBuilder}. The breaker's state is the
 * routing decision: CLOSED asks the server; OPEN answers locally without trying it (no request waits on a dead
 * server's connect timeout); the prober moves OPEN to HALF_OPEN when {@code GET /v1/models} answers, and the next
 * request is the trial that closes (or reopens) it. Its wait in OPEN is set far beyond any probe interval so that
 * only the prober, never a user's request, decides when the server is tried again.
 */
final class HybridClient implements AutoGLMClient {
    /** close() is idempotent (a framework may close a bean the application closes too). */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final RemoteClient remote; // null: forced offline
    private final URI endpoint;
    private final InProcessClient local;
    private final CircuitBreaker breaker;
    private final ScheduledExecutorService prober;
    private volatile String lastFailure = "";
    private final boolean restartStreamsLocally;

    HybridClient(RemoteClient remote, URI endpoint, InProcessClient local, Duration probeInterval, CircuitBreakerConfig custom,
                 boolean restartStreamsLocally) {
        this.remote = remote;
        this.restartStreamsLocally = restartStreamsLocally;
        this.endpoint = endpoint;
        this.local = local;
        CircuitBreakerConfig.Builder config = custom != null ? CircuitBreakerConfig.from(custom)
                : CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(1).minimumNumberOfCalls(1).failureRateThreshold(100)
                .permittedNumberOfCallsInHalfOpenState(1);
        this.breaker = CircuitBreaker.of("autoglm-" + endpoint, config
                .waitDurationInOpenState(Duration.ofDays(365))
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .recordException(e -> e instanceof ServerUnavailableException || e instanceof StreamInterruptedException)
                .build());
        if (remote == null) {
            this.prober = null;
        } else {
            this.prober = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true).name("autoglm-probe").unstarted(r));
            long ms = probeInterval.toMillis();
            prober.scheduleWithFixedDelay(this::probe, ms, ms, TimeUnit.MILLISECONDS);
        }
    }

    /** The breaker's state, for tests and monitoring. */
    CircuitBreaker.State state() {
        return breaker.getState();
    }

    private void probe() {
        if (breaker.getState() != CircuitBreaker.State.OPEN) return;
        try {
            remote.probe();
            breaker.transitionToHalfOpenState();
        } catch (ServerUnavailableException e) {
            lastFailure = e.getMessage(); // still down
        } catch (RuntimeException e) {
            // answered, with an error (e.g. 401 on /v1/models): reachable; the trial request will tell
            breaker.transitionToHalfOpenState();
        }
    }

    /** Why the next request goes local without asking the server, or null when it may ask. */
    private String localReason() {
        if (remote == null) return "forced offline (no network use)";
        if (!breaker.tryAcquirePermission()) return "server " + endpoint + " marked down after: " + lastFailure + "; answered by the local model";
        return null;
    }

    private <T> T viaServer(Supplier<T> call, java.util.function.Function<String, T> fallback) {
        String reason = localReason();
        if (reason != null) return fallback.apply(reason);
        long start = System.nanoTime();
        try {
            T r = call.get();
            breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            return r;
        } catch (ServerUnavailableException e) {
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            lastFailure = e.getMessage();
            return fallback.apply("server unavailable (" + e.getMessage() + "); answered by the local model");
        } catch (RuntimeException e) {
            breaker.releasePermission(); // not the server being down: neither success nor failure
            throw e;
        }
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
        return viaServer(() -> remote.chat(request), reason -> local.chat(request).withRoute(Route.local(reason)));
    }

    @Override
    public ChatStream stream(ChatRequest request) {
        return viaServer(() -> new FailoverStream(request, remote.stream(request)),
                reason -> relabelled(local.stream(request), Route.local(reason)));
    }

    /**
     * The remote stream, reporting a break half way to the breaker; then either the exception (the default) or, with
     * {@code restartBrokenStreamsLocally}, the local model continuing the answer from the text received so far.
     */
    private final class FailoverStream extends PieceStream {
        private final ChatRequest request;
        private final ChatStream remoteStream;
        private final java.util.Iterator<String> remoteIt;
        private ChatStream localStream;
        private java.util.Iterator<String> localIt;
        private String partial;
        private int remotePieces;
        private String breakReason;

        FailoverStream(ChatRequest request, ChatStream remoteStream) {
            this.request = request;
            this.remoteStream = remoteStream;
            this.remoteIt = remoteStream.iterator();
        }

        @Override
        protected String pull() {
            if (localIt == null) {
                try {
                    if (remoteIt.hasNext()) {
                        remotePieces++;
                        return remoteIt.next();
                    }
                    return null;
                } catch (StreamInterruptedException e) {
                    broke(e);
                    // with tools the text before a call is withheld, so there is nothing sound to continue from
                    if (!restartStreamsLocally || !request.tools().isEmpty()) throw e;
                    partial = e.partialContent();
                    breakReason = e.getMessage();
                    GenerationOptions o = request.options();
                    // the server's chunks are about one token each: the local part gets what is left of maxTokens
                    ChatRequest rest = o.maxTokens() == null ? request
                            : request.withOptions(o.withMaxTokens(Math.max(1, o.maxTokens() - remotePieces)));
                    localStream = local.stream(rest, partial);
                    localIt = localStream.iterator();
                }
            }
            return localIt.hasNext() ? localIt.next() : null;
        }

        @Override
        protected ChatResponse result() {
            if (localStream == null) return remoteStream.response();
            ChatResponse l = localStream.response();
            Usage u = new Usage(l.usage().promptTokens(), remotePieces + l.usage().completionTokens(), l.usage().cachedPromptTokens());
            return new ChatResponse(partial + (l.content() == null ? "" : l.content()), l.toolCalls(), l.finishReason(), u, l.timing(),
                    Route.local("the server's stream broke after " + remotePieces + " pieces (" + breakReason
                            + "); the local model continued the answer"), l.reasoning());
        }

        @Override
        public void close() {
            remoteStream.close();
            if (localStream != null) localStream.close();
        }
    }

    private void broke(StreamInterruptedException e) {
        lastFailure = e.getMessage();
        if (breaker.getState() == CircuitBreaker.State.CLOSED) breaker.transitionToOpenState();
    }

    private static ChatStream relabelled(ChatStream s, Route route) {
        return new ChatStream() {
            @Override
            public java.util.Iterator<String> iterator() {
                return s.iterator();
            }

            @Override
            public ChatResponse response() {
                return s.response().withRoute(route);
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    @Override
    public Embeddings embed(List<String> texts) {
        return viaServer(() -> remote.embed(texts), reason -> {
            Embeddings e = local.embed(texts);
            return new Embeddings(e.vectors(), e.promptTokens(), Route.local(reason));
        });
    }

    @Override
    public int countTokens(String text) {
        return viaServer(() -> remote.countTokens(text), reason -> local.countTokens(text));
    }

    @Override
    public void close() {
        if (closed.getAndSet(true)) return;
        if (prober != null) {
            prober.shutdownNow();
            try {
                prober.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (remote != null) remote.close();
        local.close();
    }
}
