package ai.autoglm.cli;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.server.security.AutoglmHome;
import ai.autoglm.server.hub.ServedModelFiles;
import ai.autoglm.server.config.ServerConfigFile;
import ai.autoglm.server.config.TrustConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code autoglm serve}: the OpenAI-compatible HTTP server. One model from {@code --model}, or several from a YAML
 * {@code --config}; flags given on the command line override the file.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve models over an OpenAI-compatible HTTP API (chat/completions, completions, models, tokenize, metrics).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ThreadsOption threads;

    @picocli.CommandLine.Mixin
    KernelsOption kernels;

    // Resolved in call(), not by ModelNameConverter: a name is pulled according to --offline and --source, which
    // picocli has not necessarily parsed when it converts --model.
    @Option(names = {"-m", "--model"}, paramLabel = "M", description = ModelOption.DESCRIPTION
            + " Served beside the config's models; a name is resolved with --offline and --source.")
    String model;

    @Option(names = "--offline", description = "Models by name only from the cache, never the network (as HF_HUB_OFFLINE=1).")
    boolean offline;

    @Option(names = "--source", paramLabel = "S", description = "Where models by name are pulled from: huggingface (default) or modelscope.")
    String source;

    @Option(names = "--lora", paramLabel = "DIR", description = "A PEFT LoRA adapter directory applied to --model at load time (unmerged).")
    Path lora;

    @Option(names = "--alias", paramLabel = "NAME", description = "The name clients use for --model (default: its file name).")
    String alias;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file with server settings and several models (see docs/serving.md, \"Clients and the config file\").")
    Path config;

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to bind (default 127.0.0.1: this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "N", description = "TCP port (default 8000).")
    Integer port;

    @Option(names = "--slots", paramLabel = "N", description = "Sequences generated at once for --model, or for every model of the config without --model (default: one per "
            + "core, 2 to 8, as many as the memory budget holds with their KV caches; printed at start).")
    Integer slots;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N", description = "KV positions per slot, prompt plus answer (default min(4096, the model's)).")
    Integer ctx;

    @Option(names = "--queue", paramLabel = "N", description = "Requests that may wait for a slot, per model, before 429 (default 64).")
    Integer queue;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Time limit of one request (default 600).")
    Integer timeout;

    @Option(names = "--trust", paramLabel = "PUB", description = "A trusted model-signing public key (repeatable; adds to the config's trust.keys): "
            + "models must then be signed by one of them (autoglm sign) and unchanged, or they are refused.")
    List<Path> trust = List.of();

    @Option(names = "--quantize", paramLabel = "TYPE", description = "Quantize F32/F16/BF16 weights in memory at load time: f16, q8_0, q4_0, q4_k, "
            + "or auto (the best that fits the memory budget) for --model, or for every model of the config without --model. "
            + "Already-quantized files are served as stored.")
    String quantize;

    @Mixin
    KvCacheOption kvCache;

    @Option(names = "--memory-budget-mb", paramLabel = "MB", description = "Memory one model may use, for --quantize auto (default: MemAvailable minus 10%%, at least 256 MiB).")
    Long memoryBudgetMb;

    @Option(names = "--no-console", description = "Do not serve the web console at / (as the config's server.console: false).")
    boolean noConsole;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @picocli.CommandLine.Mixin
    HomeOption home = new HomeOption();

    @picocli.CommandLine.Mixin
    ClusterOptions cluster = new ClusterOptions();

    @Override
    public Integer call() throws Exception {
        threads.apply();
        kernels.apply();
        ServerConfig cfg = resolve();
        GracefulShutdown shutdown = GracefulShutdown.install(); // SIGTERM/SIGINT: drain, flush the audit trail, exit 0
        AutoglmServer server = AutoglmServer.start(cfg, cluster.resolve(config)); // a port in use: IllegalArgumentException naming it, exit 2
        shutdown.attach(server);
        if (model != null && config == null) {
            // The one model of the command line loads now: a broken file, a directory that is not a model or a lone
            // .safetensors file stops the start with the loader's message, instead of a server that answers 503.
            try {
                server.registry().preload(cfg.models().getFirst().alias());
            } catch (RuntimeException e) {
                if (shutdown.stopping()) { // stopped by a signal while loading: the drain closed the registry
                    shutdown.await();
                    return 0;
                }
                if (!(e instanceof ai.autoglm.server.gateway.GatewayException)) throw e;
                server.close();
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        System.err.printf("autoglm: serving %s on %s://%s:%d/v1 (Ctrl-C stops)%n",
                cfg.models().stream().map(m -> describe(server, m.alias())).toList(), server.tls() ? "https" : "http",
                cfg.host(), server.port());
        shutdown.await();
        return 0;
    }

    /** "alias (4 slots x 4096 positions)", as the registry decided at start (embedding models: the alias alone). */
    static String describe(AutoglmServer server, String alias) {
        int slots = server.registry().slots(alias);
        if (slots == 0) return alias;
        Integer ctx = server.registry().context(alias);
        return alias + " (" + slots + " slots" + (ctx != null ? " x " + ctx + " positions" : "") + ")";
    }

    /** The config file (or defaults), with the command line's model and flags on top. */
    ServerConfig resolve() throws java.io.IOException {
        if (lora != null && model == null && config != null) {
            throw new IllegalArgumentException("--lora applies to --model; give each model of " + config + " its adapter with a 'lora:' key");
        }
        if (lora != null) ai.autoglm.core.format.peft.PeftAdapter.read(lora); // a bad adapter fails here, not at the first request
        if (model == null && config == null) {
            model = DefaultModel.path().toString();
            if (alias == null) alias = DefaultModel.ALIAS;
        }
        var kvTypes = kvCache.types(); // a bad --cache-type-k/-v fails before anything is loaded
        List<ModelSpec> models = new ArrayList<>();
        ServerConfig base = null;
        if (config != null) {
            base = ServerConfigFile.read(config);
            boolean kvGiven = kvCache.keys != null || kvCache.values != null;
            for (ModelSpec m : base.models()) {
                models.add(model == null && (slots != null || ctx != null || quantize != null || kvGiven)
                        ? new ModelSpec(m.alias(), m.path(), ctx != null ? ctx : m.context(), slots != null ? slots : m.slots(), m.keepAlive(),
                        m.toolParser(), m.lora(), quantize != null ? quantize : m.quantize(), kvGiven ? kvTypes : m.kvCache())
                        : m);
            }
        }
        if (model != null) {
            // a name is pulled (or found in the cache) and, with --quantize, converted once into the derived store
            ServedModelFiles.Prepared p = ServedModelFiles.prepare(model, quantize, ctx, slots != null ? slots : 1, kvTypes,
                    () -> memoryBudgetMb != null ? MemoryBudget.ofMegabytes(memoryBudgetMb) : MemoryBudget.fromMachine(),
                    new ModelPuller(HubCli.settings(offline)), HubCli.source(source), HubCli.progress());
            String name = alias != null ? alias : p.displayName();
            models.removeIf(m -> m.alias().equals(name));
            models.addFirst(new ModelSpec(name, p.path(), ctx, slots != null ? slots : ModelSpec.AUTO_SLOTS, null, null, lora, p.quantize(), kvTypes));
        }
        ServerConfig cfg = base != null ? base.withModels(models) : ServerConfig.single(models.getFirst());
        cfg = cfg.withAddress(host != null ? host : cfg.host(), port != null ? port : cfg.port());
        if (queue != null) cfg = cfg.withQueueSize(queue);
        if (timeout != null) cfg = cfg.withRequestTimeout(Duration.ofSeconds(timeout));
        if (memoryBudgetMb != null) cfg = cfg.withMemoryBudget(MemoryBudget.ofMegabytes(memoryBudgetMb));
        if (noConsole) cfg = cfg.withConsole(false);
        // API keys, the audit trail and the trust store (trusted-keys/*.pub) live in the data directory
        AutoglmHome dataDir = home.locate().create();
        List<Path> keys = new ArrayList<>(cfg.filters().trust().keys());
        keys.addAll(trust);
        keys.addAll(dataDir.trustedKeys());
        if (!keys.isEmpty()) cfg = cfg.withFilters(cfg.filters().withTrust(new TrustConfig(keys)));
        return cfg.withSecurity(cfg.security().withHome(dataDir.dir()));
    }
}
