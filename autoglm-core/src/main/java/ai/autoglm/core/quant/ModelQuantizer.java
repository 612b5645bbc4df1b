package ai.autoglm.core.quant;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.format.hf.HfCheckpoint;
import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.model.GgufWeightSource;
import ai.autoglm.core.model.WeightSource;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.SegmentTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;

/**
 * Carries out a {@link QuantizationPlan} as llama-quantize does (src/llama-quant.cpp {@code llama_model_quantize_impl}):
 * metadata copied from the source (split keys dropped), {@code general.quantization_version = 2} and
 * {@code general.file_type} set; tensors in the plan's order, each either copied as stored or converted to F32 and
 * quantized row by row with {@link ImportanceQuantizer}, using the importance matrix entry of the same name when
 * there is one. A model of any size: tensors are processed in chunks of rows (in parallel) and the quantized bytes
 * go to a temp spool file, not the heap.
 *
 * <p>For a compression search: {@link QuantizationPlanner#plan} (or a hand-made plan) -> {@link #quantize}(metadata,
 * any {@link WeightSource}, plan, imatrix) -> {@link QuantizedModel#write}. {@link #quantizeFile} is the command's
 * path from a GGUF file or a Hugging Face directory.
 */
public final class ModelQuantizer {
    /** Values converted per chunk (16 MB of floats). */
    private static final int CHUNK_VALUES = 1 << 22;
    /** llama-quant.cpp drops these (the output is one file). */
    private static final String[] SPLIT_KEYS = {"split.no", "split.count", "split.tensors.count"};

    /** Told after each tensor. */
    @FunctionalInterface
    public interface Progress {
        void tensorDone(int index, int total, PlannedTensor tensor, boolean usedImatrix, long nanos);
    }

    private ModelQuantizer() {
    }

    /**
     * Quantizes {@code weights} by {@code plan}. {@code metadata} is the source model's (GGUF keys); {@code imatrix}
     * may be null; the spool file goes to {@code spoolDir}. The caller closes the result.
     */
    public static QuantizedModel quantize(Map<String, GgufValue> metadata, WeightSource weights, QuantizationPlan plan,
                                          ImportanceMatrix imatrix, Path spoolDir, Progress progress) {
        GgufWriter w = new GgufWriter();
        for (var e : outputMetadata(metadata, plan.options().preset()).entrySet()) w.put(e.getKey(), e.getValue());
        TensorSpool spool = new TensorSpool(spoolDir);
        try {
            int n = plan.tensors().size();
            MemorySegment[] direct = new MemorySegment[n];
            long[] offsets = new long[n];
            for (int i = 0; i < n; i++) {
                PlannedTensor t = plan.tensors().get(i);
                long t0 = System.nanoTime();
                FloatTensor src = weights.tensor(t.name());
                if (src == null) throw new IllegalArgumentException("the plan names tensor " + t.name() + ", which the model does not have");
                if (!Arrays.equals(weights.shape(t.name()), t.shape()) || src.type() != t.sourceType()) {
                    throw new IllegalArgumentException("tensor " + t.name() + " is " + src.type() + " " + Arrays.toString(weights.shape(t.name()))
                            + ", the plan expects " + t.sourceType() + " " + Arrays.toString(t.shape()));
                }
                float[] qw = t.quantized() ? importance(imatrix, t) : null;
                if (!t.quantized() && src instanceof SegmentTensor s) {
                    direct[i] = s.segment(); // copied as stored, zero copy from the mapping
                } else {
                    offsets[i] = spool.size();
                    encode(src, t, qw, spool);
                }
                if (progress != null) progress.tensorDone(i + 1, n, t, qw != null && ImportanceQuantizer.usesImportance(t.targetType()), System.nanoTime() - t0);
            }
            for (int i = 0; i < n; i++) {
                PlannedTensor t = plan.tensors().get(i);
                MemorySegment data = direct[i] != null ? direct[i] : spool.slice(offsets[i], t.outputBytes());
                w.addTensor(t.name(), t.shape(), t.targetType(), data);
            }
            return new QuantizedModel(w, plan, spool);
        } catch (RuntimeException e) {
            spool.close();
            throw e;
        }
    }

    /** The source metadata as llama-quantize writes it: split keys removed, quantization version and file type set. */
    static Map<String, GgufValue> outputMetadata(Map<String, GgufValue> source, QuantPreset preset) {
        Map<String, GgufValue> md = new LinkedHashMap<>(source);
        for (String k : SPLIT_KEYS) md.remove(k);
        md.put(GgufKeys.QUANTIZATION_VERSION, GgufValue.uint32(2)); // GGML_QNT_VERSION
        md.put(GgufKeys.FILE_TYPE, GgufValue.uint32(preset.fileType));
        return md;
    }

    /**
     * The importance vector for {@code t}: null without an entry (llama.cpp: "did not find weights"), an error when its
     * size does not match the rows (except for token_embd, which llama.cpp lets pass without one).
     */
    private static float[] importance(ImportanceMatrix imatrix, PlannedTensor t) {
        if (imatrix == null) return null;
        float[] qw = imatrix.quantWeights(t.name());
        if (qw == null || qw.length == t.rowLength()) return qw;
        if (TensorCategory.of(t.name()) == TensorCategory.TOKEN_EMBD) return null;
        throw new IllegalArgumentException("imatrix entry " + t.name() + " has " + qw.length + " values, the tensor's rows have "
                + t.rowLength() + " (an imatrix of another model?)");
    }

    /** Converts {@code src} chunk by chunk (several chunks in parallel) and appends the encoded bytes in order. */
    private static void encode(FloatTensor src, PlannedTensor t, float[] qw, TensorSpool spool) {
        int rowLen = t.rowLength();
        long rows = t.elements() / rowLen;
        int rowsPerChunk = Math.max(1, CHUNK_VALUES / rowLen);
        long chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        int window = Math.max(1, Runtime.getRuntime().availableProcessors());
        for (long c0 = 0; c0 < chunks; c0 += window) {
            long first = c0;
            MemorySegment[] parts = new MemorySegment[(int) Math.min(window, chunks - c0)];
            IntStream.range(0, parts.length).parallel().forEach(k -> {
                long r0 = (first + k) * rowsPerChunk;
                int nr = (int) Math.min(rowsPerChunk, rows - r0);
                float[] v = new float[Math.multiplyExact(nr, rowLen)];
                src.copyTo(r0 * rowLen, v, 0, v.length);
                try {
                    parts[k] = ImportanceQuantizer.quantize(t.targetType(), v, rowLen, qw);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("tensor " + t.name() + " (rows from " + r0 + "): " + e.getMessage(), e);
                }
            });
            for (MemorySegment p : parts) spool.append(p);
        }
    }

    // ------------------------------------------------------------------ the command's path

    /**
     * Quantizes {@code model} (a GGUF file in F32/F16/BF16, or a Hugging Face directory) to {@code out}, atomically.
     * A directory is first converted by core's {@link HfToGgufConverter} to a temp GGUF in its own float type
     * (F32, F16 or BF16 as its safetensors, so lossless), beside {@code out}, and deleted afterwards: the result equals
     * {@code autoglm convert --type <that>} followed by this command. {@code imatrixFile} (may be null) is recorded in
     * the metadata as llama-quantize does.
     */
    public static QuantizationPlan quantizeFile(Path model, Path out, QuantizationOptions options, ImportanceMatrix imatrix,
                                                Path imatrixFile, Progress progress) {
        return quantizeFile(model, out, options, imatrix, imatrixFile, null, progress);
    }

    /**
     * As {@link #quantizeFile(Path, Path, QuantizationOptions, ImportanceMatrix, Path, Progress)}, with the spool (the
     * quantized tensors before they are written out: about the output's size) in {@code spoolDir}; null chooses
     * {@link #spoolDir}. Stale spools of killed runs are removed there and beside {@code out} first.
     */
    public static QuantizationPlan quantizeFile(Path model, Path out, QuantizationOptions options, ImportanceMatrix imatrix,
                                                Path imatrixFile, Path spoolDir, Progress progress) {
        Path outDir = out.toAbsolutePath().getParent();
        TensorSpool.removeStale(outDir); // where spools went before they moved to the temp directory
        if (!Files.exists(model)) throw new ModelFormatException(model, "no such file or directory");
        if (!Files.isDirectory(model)) return quantizeGguf(model, out, options, imatrix, imatrixFile, spoolDir, progress);
        Path abs = out.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".converted.gguf");
        try {
            HfToGgufConverter.convert(model, tmp, floatTypeOf(model));
            return quantizeGguf(tmp, out, options, imatrix, imatrixFile, spoolDir, progress);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + tmp + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Where the spool goes when not told: the temp directory ({@code java.io.tmpdir}) when it has room for the output
     * plus a margin, so that the output's file system needs only the output's size (plus the temp file it is written
     * to and renamed from, which is the output itself); else beside the output (which then needs twice its size).
     */
    public static Path spoolDir(Path out, long outputBytes) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try {
            if (Files.isDirectory(tmp) && Files.getFileStore(tmp).getUsableSpace() >= outputBytes + outputBytes / 10 + (64L << 20)) return tmp;
        } catch (IOException e) {
            // an unusable temp directory: fall back to the output's
        }
        return out.toAbsolutePath().getParent();
    }

    /** The float type of a checkpoint's first tensor (F16, BF16, else F32). */
    static GgmlType floatTypeOf(Path hfDir) {
        try (HfCheckpoint ck = HfCheckpoint.open(hfDir)) {
            String dtype = ck.tensorNames().isEmpty() ? "F32" : ck.dtype(ck.tensorNames().iterator().next());
            return switch (dtype) {
                case "F16" -> GgmlType.F16;
                case "BF16" -> GgmlType.BF16;
                default -> GgmlType.F32;
            };
        }
    }

    private static QuantizationPlan quantizeGguf(Path file, Path out, QuantizationOptions options, ImportanceMatrix imatrix,
                                                 Path imatrixFile, Path spoolDirOrNull, Progress progress) {
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufWeightSource weights = new GgufWeightSource(gguf);
            Map<String, GgufValue> md = new LinkedHashMap<>(gguf.metadata());
            if (imatrix != null) {
                // tools/quantize/quantize.cpp: the imatrix provenance as kv overrides
                if (imatrixFile != null) md.put("quantize.imatrix.file", GgufValue.string(imatrixFile.toString()));
                if (!imatrix.datasets().isEmpty()) md.put("quantize.imatrix.dataset", GgufValue.string(imatrix.datasets().get(0)));
                md.put("quantize.imatrix.entries_count", GgufValue.uint32(imatrix.entries().size()));
                if (imatrix.chunkCount() > 0) md.put("quantize.imatrix.chunks_count", GgufValue.uint32(imatrix.chunkCount()));
            }
            QuantizationPlan plan = QuantizationPlanner.plan(ModelShape.of(gguf.metadata(), weights), options);
            Path spoolDir = spoolDirOrNull != null ? spoolDirOrNull : spoolDir(out, plan.outputBytes());
            try (QuantizedModel q = quantize(md, weights, plan, imatrix, spoolDir, progress)) {
                q.write(out);
            }
            return plan;
        }
    }
}
