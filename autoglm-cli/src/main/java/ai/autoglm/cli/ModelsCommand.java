package ai.autoglm.cli;

import ai.autoglm.core.hub.CacheVerifier;
import ai.autoglm.core.hub.DerivedStore;
import ai.autoglm.core.hub.HfCache;
import ai.autoglm.core.hub.ModelCatalog;
import ai.autoglm.core.hub.ModelNames;
import ai.autoglm.core.hub.ModelPuller;
import ai.autoglm.core.hub.ModelRef;
import ai.autoglm.core.hub.PulledModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code autoglm list}, {@code show} and {@code rm}: the models in the Hugging Face cache. */
final class ModelsCommand {
    private ModelsCommand() {
    }

    static ModelRef ref(String name) {
        return ModelNames.parse(name, HubCli.source(null));
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the models in the Hugging Face cache ($HF_HOME/hub), or with --catalog the names autoglm knows.")
    static final class ListCommand implements Callable<Integer> {
        @Option(names = "--catalog", description = "List the catalog of short names (repository, parameters, estimated download size) instead.")
        boolean catalog;

        @Override
        public Integer call() throws Exception {
            if (catalog) {
                System.out.printf("%-28s %-40s %8s %12s%n", "NAME", "REPOSITORY", "PARAMS", "DOWNLOAD*");
                for (ModelCatalog.Entry e : ModelCatalog.builtIn().entries()) {
                    System.out.printf(Locale.ROOT, "%-28s %-40s %7.2fB %9.1f GB%s%n", e.name(), e.repo(), e.params() / 1e9, e.downloadBytes() / 1e9, e.gated() ? "  (gated: HF_TOKEN)" : "");
                }
                System.out.println("* estimated from the published parameter count, not measured");
                return 0;
            }
            HfCache cache = new ModelPuller(HubCli.settings(true)).cache();
            System.out.printf("%-44s %-12s %10s  %s%n", "REPOSITORY", "COMMIT", "SIZE", "NAME");
            for (String repo : cache.repositories()) {
                ModelRef r = new ModelRef(repo, null, null);
                List<String> snaps = cache.snapshots(r);
                String alias = ModelCatalog.builtIn().byRepo(repo).map(ModelCatalog.Entry::name).orElse("");
                System.out.printf(Locale.ROOT, "%-44s %-12s %10s  %s%n", repo, snaps.isEmpty() ? "-" : snaps.getFirst().substring(0, 12),
                        HubCli.megabytes(cache.sizeOnDisk(r)), alias);
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a cached model: repository, commit, files with sizes and hashes, derived files.")
    static final class ShowCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--debug", description = "Print stack traces of errors.")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            ModelPuller p = new ModelPuller(HubCli.settings(true));
            ModelRef r = ref(name);
            ModelCatalog.builtIn().find(name).ifPresent(e -> System.out.printf(Locale.ROOT, "catalog: %s, %s, %.2fB parameters, context %d%n",
                    e.name(), e.architecture(), e.params() / 1e9, e.context()));
            Optional<PulledModel> m = p.cached(r);
            if (m.isEmpty()) {
                System.out.println(r + ": not in the cache " + p.settings().hubCache() + " (autoglm pull " + name + ")");
                return 1;
            }
            PulledModel pm = m.get();
            System.out.printf("repository: %s%ncommit:     %s%nsnapshot:   %s%n", r.repo(), pm.commit(), pm.snapshot());
            p.record(r, pm.commit()).ifPresent(rec -> System.out.printf("pulled:     %s from %s%n", rec.time(), rec.source()));
            for (String f : pm.files()) {
                Path file = pm.snapshot().resolve(f);
                System.out.printf("  %-40s %10s  %s%n", f, HubCli.megabytes(Files.size(file)), Optional.ofNullable(HfCache.etagOf(file)).orElse("(not a cache link)"));
            }
            Path derived = new DerivedStore(p.settings().store()).path(r, pm.commit(), "f16").getParent();
            if (Files.isDirectory(derived)) {
                try (var s = Files.list(derived)) {
                    for (Path d : s.filter(x -> x.toString().endsWith(".gguf")).toList()) System.out.printf("derived:    %s (%s)%n", d, HubCli.megabytes(Files.size(d)));
                }
            }
            return 0;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete a model from the Hugging Face cache (all its snapshots and blobs) and its derived files.")
    static final class RmCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--debug", description = "Print stack traces of errors.")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            ModelPuller p = new ModelPuller(HubCli.settings(true));
            ModelRef r = ref(name);
            if (!Files.isDirectory(p.cache().repoDir(r))) throw new IllegalArgumentException(r.repo() + " is not in the cache " + p.settings().hubCache());
            long size = p.cache().sizeOnDisk(r);
            p.cache().remove(r);
            new DerivedStore(p.settings().store()).remove(r);
            System.out.printf("removed %s (%s)%n", r.repo(), HubCli.megabytes(size));
            return 0;
        }
    }

    /**
     * {@code verify [--trust PUB]... NAME}: every file of the cached model re-hashed against its blob name (the hub's
     * hash); then, when the model is signed ({@code autoglm sign}: its manifest came with the pull) or keys are
     * trusted, the signature and every file against the manifest, as for a path. With {@code --trust} and no
     * manifest the model is refused: trust that cannot be checked fails closed.
     */
    static int verifyByName(String name, List<java.security.PublicKey> trusted) throws Exception {
        ModelPuller p = new ModelPuller(HubCli.settings(true));
        ModelRef r = ref(name);
        PulledModel m = p.cached(r).orElseThrow(() -> new IllegalArgumentException(r + " is not in the cache " + p.settings().hubCache()));
        List<CacheVerifier.Check> checks = CacheVerifier.verify(m, p.record(r, m.commit()).orElse(null));
        int bad = 0;
        for (CacheVerifier.Check c : checks) {
            if (!c.ok()) {
                bad++;
                System.err.printf("autoglm: verification failed: %s: expected %s, got %s%n", c.file(), c.expected(), c.actual());
            }
        }
        if (bad > 0) return VerifyCommand.VERIFICATION_FAILED;
        System.out.printf("ok: %d file(s) of %s at %s match the hashes the hub published%n", checks.size(), r.repo(), m.commit());
        Path model = m.modelPath();
        if (trusted.isEmpty() && !Files.exists(ai.autoglm.server.security.ModelFiles.manifestPath(model))) return 0;
        return VerifyCommand.verifySignature(model, trusted);
    }
}
