package ai.autoglm.core.memory;

/**
 * What kind of process runs the model, for the JVM's part of the {@link MemoryModel memory model}: resident memory on
 * top of the model's own weights, KV caches and buffers. Each kind adds to the one before it:
 * <table>
 *   <caption>the JVM's resident memory by process kind</caption>
 *   <tr><th>kind</th><th>what it loads</th><th>measured peak RSS minus the model's part</th><th>constant</th></tr>
 *   <tr><td>{@link #ENGINE}</td><td>the JVM, the GC's structures and its 64 MiB young generation, the engine's
 *       classes and JIT code (a model loaded and run through {@code forward}: the SDK in-process, Spark, the
 *       long-context probe)</td><td>128-135 MiB</td><td>136 MiB</td></tr>
 *   <tr><td>{@link #CLI}</td><td>+ picocli, the tokenizer, the chat template and the streaming decoder
 *       ({@code autoglm run}, {@code bench}, {@code eval})</td><td>146-152 MiB</td><td>152 MiB (+16)</td></tr>
 *   <tr><td>{@link #SERVER}</td><td>+ the HTTP server (Helidon), Jackson, the gateway, metrics, the scheduler's
 *       threads ({@code autoglm serve})</td><td>191-204 MiB</td><td>208 MiB (+56)</td></tr>
 * </table>
 * Measured on 2026-12-06 (bench/RESULTS.md, "Long context") with the launcher's flags ({@code scripts/java-env.sh}:
 * ParallelGC, {@code -Xmn64m}, the default maximum heap of 1/4 of RAM, on a 24 GiB, 2-core machine), as VmHWM minus
 * the model's part of the estimate: ENGINE with {@code LongContextProbe} (F32 fixture of 1.5 MiB; f32 caches of 4,096 and
 * 32,768 positions, q8_0 of 4,096 and 8,192); CLI with {@code autoglm run -c 256 -n 128} and {@code autoglm bench -p 128 -n 64}
 * on the bundled model (10 MiB); SERVER with {@code autoglm serve --ctx 256 --slots 2} on the bundled model after 10, 40
 * and 120 chat completions of up to 200 tokens, 2 at a time, one streamed and one not (191, 204 and 199 MiB: the
 * first requests promote the server's long-lived objects, then it levels off). The largest of each kind, rounded up
 * to a multiple of 8 MiB.
 *
 * <p>The young generation is capped in the shipped flags because its size is otherwise set by warm-up garbage, not by
 * the model: before C2 compiles the prefill GEMM, its Vector API temporaries are heap garbage (~900 MB in the first
 * 1.5 s), ParallelGC grows the young generation to 250-700 MiB in response, and those pages stay resident (peak RSS
 * of {@code serve} on the bundled model 904 MiB without the cap, 206 MiB with it). A larger {@code -Xmn} given in
 * {@code AUTOGLM_JAVA_OPTS} adds its difference to every kind; large vocabularies add their tokenizer tables (not
 * modelled).
 */
public enum ProcessKind {
    /** The engine alone: a model loaded and run (SDK in-process, Spark, probes). */
    ENGINE(136L << 20),
    /** The command line: the engine plus tokenizer, chat template and picocli ({@code run}, {@code bench}, {@code eval}). */
    CLI(152L << 20),
    /** {@code autoglm serve}: the command line plus the HTTP server, gateway and scheduler. */
    SERVER(208L << 20);

    private final long overheadBytes;

    ProcessKind(long overheadBytes) {
        this.overheadBytes = overheadBytes;
    }

    /** The JVM's resident memory for this kind of process, on top of the model's own allocations. */
    public long overheadBytes() {
        return overheadBytes;
    }
}
