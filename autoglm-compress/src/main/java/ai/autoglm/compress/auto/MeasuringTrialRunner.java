package ai.autoglm.compress.auto;

import ai.autoglm.compress.eval.QualityEvaluator;
import ai.autoglm.compress.eval.QualityReport;
import ai.autoglm.core.memory.MemoryEstimate;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.ProcessKind;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.compress.search.Candidate;
import ai.autoglm.compress.search.CompressionSearch;
import ai.autoglm.compress.search.Constraints;
import ai.autoglm.compress.search.Measurement;
import ai.autoglm.compress.search.Objective;
import ai.autoglm.compress.search.Trial;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The search's trial: builds the candidate into a temporary GGUF file ({@link CandidateBuilder}), loads that file as
 * {@code autoglm run} would, and measures it, not estimates it:
 * <ul>
 *   <li>memory: {@link MemoryModel#forServing} of the file's configuration and tensors with one slot of the target
 *       context, the same model {@code serve --quantize auto} decides by (one slot of serving holds the
 *       batch scratch too, so it is the larger of the run and serve figures);</li>
 *   <li>quality and speed: {@link QualityEvaluator} (perplexity, mean / p99 / max KL divergence and top-1 agreement
 *       against the base model on the evaluation text, tg tokens/s), exactly what {@code autoglm eval --base} reports.</li>
 * </ul>
 * The file of the best trial meeting the constraints so far is kept, every other one deleted as soon as it is
 * measured, so at most two candidate files exist at once. The base model stays loaded across trials.
 */
public final class MeasuringTrialRunner implements CompressionSearch.TrialRunner, AutoCloseable {
    private final CompressionSpace space;
    private final CandidateBuilder builder;
    private final LanguageModel base;
    private final String baseName;
    private final QualityEvaluator evaluator;
    private final String evalText;
    private final int context;
    private final Constraints constraints;
    private final Path workDir;
    private int trials;
    private Trial best;
    private Path bestFile;

    /**
     * @param base    the original model, loaded (the reference of the KL divergence)
     * @param context positions the memory is judged at
     * @param workDir where candidate files are built; a directory of its own, on the output's file system
     */
    public MeasuringTrialRunner(CompressionSpace space, CandidateBuilder builder, LanguageModel base, String baseName,
                                QualityEvaluator evaluator, String evalText, int context, Constraints constraints, Path workDir) {
        this.space = space;
        this.builder = builder;
        this.base = base;
        this.baseName = baseName;
        this.evaluator = evaluator;
        this.evalText = evalText;
        this.context = context;
        this.constraints = constraints;
        this.workDir = workDir;
    }

    @Override
    public Measurement measure(Candidate candidate) {
        int number = ++trials;
        Path file = workDir.resolve("trial-" + number + ".gguf");
        boolean keep = false;
        try {
            builder.build(space.recipe(candidate), file, workDir);
            Measurement m;
            try (LanguageModel model = ModelLoader.load(file)) {
                if (!(model instanceof TransformerModel tm)) throw new IllegalStateException("not a transformer model: " + file);
                // what `serve --quantize auto` will count for it: one slot in a server process
                MemoryEstimate memory = MemoryModel.forServing(ProcessKind.SERVER, model.config(), TensorSpec.of(tm.weights()), context, 1,
                        KvCacheTypes.DEFAULT);
                QualityReport q = evaluator.evaluate(model, "trial " + number, base, baseName, evalText);
                QualityReport.Comparison c = q.vsBase();
                m = new Measurement(memory.totalBytes(), Files.size(file), c.meanKld(), c.p99Kld(), c.maxKld(), c.top1Agreement(),
                        q.perplexity(), q.decodeTokensPerSecond());
            }
            Trial t = new Trial(number, candidate, m, null);
            if (constraints.satisfied(m) && (best == null || new Objective(constraints).compare(t, best) < 0)) {
                if (bestFile != null) Files.deleteIfExists(bestFile);
                best = t;
                bestFile = file;
                keep = true;
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (!keep) deleteQuietly(file);
        }
    }

    /** The kept file of the best trial meeting the constraints, if any. */
    public Optional<Trial> best() {
        return Optional.ofNullable(best);
    }

    /**
     * Moves the kept file of {@code chosen} to {@code out}: a rename inside one file system, so {@code out} appears
     * whole or not at all (the work directory is made next to it for this reason).
     */
    public void moveBestTo(Trial chosen, Path out) throws IOException {
        if (best == null || best.number() != chosen.number() || bestFile == null) {
            throw new IllegalStateException("trial " + chosen.number() + " is not the kept best trial");
        }
        try {
            Files.move(bestFile, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.move(bestFile, out, StandardCopyOption.REPLACE_EXISTING);
        }
        bestFile = null;
    }

    /** Deletes any kept file and the work directory. */
    @Override
    public void close() {
        if (bestFile != null) deleteQuietly(bestFile);
        try (var s = Files.list(workDir)) {
            s.forEach(MeasuringTrialRunner::deleteQuietly);
        } catch (IOException ignored) {
            // best effort
        }
        deleteQuietly(workDir);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temp file is harmless
        }
    }
}
