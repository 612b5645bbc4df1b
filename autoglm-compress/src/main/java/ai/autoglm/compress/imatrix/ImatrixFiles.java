package ai.autoglm.compress.imatrix;

import ai.autoglm.core.quant.ImportanceMatrix;
import ai.autoglm.core.format.AtomicFiles;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufTensorInfo;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.format.gguf.GgufValueType;
import ai.autoglm.core.format.gguf.GgufWriter;
import ai.autoglm.core.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes llama.cpp's two importance-matrix formats (tools/imatrix/imatrix.cpp {@code save_imatrix},
 * {@code save_imatrix_legacy}; tools/quantize/quantize.cpp {@code load_imatrix} reads both, GGUF first):
 * <ul>
 *   <li><b>GGUF</b> (the default of current llama-imatrix and what we write unless the name ends in {@code .dat}):
 *       {@code general.type = "imatrix"}, {@code imatrix.datasets} (string array), {@code imatrix.chunk_count} and
 *       {@code imatrix.chunk_size} (uint32; llama-quantize refuses a file without these three); per weight tensor
 *       {@code <name>.in_sum2} F32 {@code [columns, matrices]} (sums of squared activations) and {@code <name>.counts}
 *       F32 {@code [1, matrices]} (tokens), in name order;</li>
 *   <li><b>legacy {@code .dat}</b>, little-endian: int32 entry count; per entry int32 name length, the name, int32
 *       {@code ncall}, int32 value count, float32 values {@code (sum / count) * ncall} with {@code ncall = ceil(count /
 *       chunk_size)}; then int32 chunk count, int32 length and the dataset name.</li>
 * </ul>
 */
public final class ImatrixFiles {
    private static final byte[] GGUF_MAGIC = {'G', 'G', 'U', 'F'};
    static final String DATASETS = "imatrix.datasets";
    static final String CHUNK_COUNT = "imatrix.chunk_count";
    static final String CHUNK_SIZE = "imatrix.chunk_size";
    private static final String SUMS = ".in_sum2";
    private static final String COUNTS = ".counts";
    /** Longest tensor name we accept in a legacy file (ggml's GGML_MAX_NAME is 64). */
    private static final int MAX_NAME = 1024;

    private ImatrixFiles() {
    }

    /** Whether {@code file} would be written in the legacy format (its name ends in {@code .dat}). */
    public static boolean isLegacyName(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".dat");
    }

    /** Writes {@code m} atomically, legacy format for {@code *.dat}, GGUF otherwise. */
    public static void write(ImportanceMatrix m, Path file) {
        if (isLegacyName(file)) writeLegacy(m, file);
        else writeGguf(m, file);
    }

    /** Reads either format (GGUF when the file starts with the GGUF magic). */
    public static ImportanceMatrix read(Path file) {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) == 4 && java.util.Arrays.equals(head, GGUF_MAGIC)) return readGguf(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        return readLegacy(file);
    }

    // ------------------------------------------------------------------ GGUF

    public static void writeGguf(ImportanceMatrix m, Path file) {
        GgufWriter w = new GgufWriter();
        w.putString(GgufKeys.TYPE, "imatrix");
        w.put(DATASETS, GgufValue.array(GgufValueType.STRING, m.datasets()));
        w.putUint32(CHUNK_COUNT, m.chunkCount());
        w.putUint32(CHUNK_SIZE, m.chunkSize());
        for (var e : m.entries().entrySet()) {
            ImportanceMatrix.Entry en = e.getValue();
            int nmat = en.counts().length;
            w.addTensor(e.getKey() + SUMS, new long[]{en.columns(), nmat}, en.sums(), GgmlType.F32);
            w.addTensor(e.getKey() + COUNTS, new long[]{1, nmat}, en.counts(), GgmlType.F32);
        }
        w.write(file);
    }

    public static ImportanceMatrix readGguf(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            Map<String, GgufValue> md = g.metadata();
            for (String key : List.of(DATASETS, CHUNK_COUNT, CHUNK_SIZE)) {
                if (!md.containsKey(key)) throw new ModelFormatException(file, "not an imatrix GGUF: missing metadata key " + key);
            }
            GgufValue ds = md.get(DATASETS);
            if (ds.type() != GgufValueType.ARRAY || ds.elementType() != GgufValueType.STRING) {
                throw new ModelFormatException(file, DATASETS + " must be an array of strings");
            }
            int chunkCount = uint32(file, md, CHUNK_COUNT), chunkSize = uint32(file, md, CHUNK_SIZE);
            Map<String, GgufTensorInfo[]> pairs = new TreeMap<>();
            for (GgufTensorInfo t : g.tensorInfos()) {
                String n = t.name();
                if (n.endsWith(SUMS)) pairs.computeIfAbsent(n.substring(0, n.length() - SUMS.length()), k -> new GgufTensorInfo[2])[0] = t;
                else if (n.endsWith(COUNTS)) pairs.computeIfAbsent(n.substring(0, n.length() - COUNTS.length()), k -> new GgufTensorInfo[2])[1] = t;
            }
            Map<String, ImportanceMatrix.Entry> entries = new LinkedHashMap<>();
            for (var p : pairs.entrySet()) {
                GgufTensorInfo sums = p.getValue()[0], counts = p.getValue()[1];
                if (sums == null || counts == null) {
                    throw new ModelFormatException(file, "imatrix entry " + p.getKey() + " needs both " + SUMS + " and " + COUNTS);
                }
                long[] s = sums.shape(), c = counts.shape();
                long nmat = s.length > 1 ? s[1] : 1;
                if (sums.type() != GgmlType.F32 || counts.type() != GgmlType.F32 || c[0] != 1 || counts.elements() != nmat
                        || s.length > 2 || sums.elements() > Integer.MAX_VALUE - 8) {
                    throw new ModelFormatException(file, "imatrix entry " + p.getKey() + ": expected F32 " + SUMS + " [columns, n] and "
                            + COUNTS + " [1, n], got " + sums.type() + " " + java.util.Arrays.toString(s) + " and " + counts.type() + " "
                            + java.util.Arrays.toString(c));
                }
                entries.put(p.getKey(), new ImportanceMatrix.Entry(floats(g.tensorData(sums.name())), floats(g.tensorData(counts.name()))));
            }
            if (entries.isEmpty()) throw new ModelFormatException(file, "imatrix GGUF has no " + SUMS + " / " + COUNTS + " tensors");
            return new ImportanceMatrix(ds.asStringList(), chunkCount, chunkSize, entries, false);
        }
    }

    private static int uint32(Path file, Map<String, GgufValue> md, String key) {
        GgufValue v = md.get(key);
        if (v.type() != GgufValueType.UINT32) throw new ModelFormatException(file, key + " must be UINT32, is " + v.type());
        long l = v.asLong();
        if (l > Integer.MAX_VALUE) throw new ModelFormatException(file, key + " out of range: " + l);
        return (int) l;
    }

    private static float[] floats(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    // ------------------------------------------------------------------ legacy .dat

    /**
     * save_imatrix_legacy: entries whose every count is 0 are skipped; a matrix with count 0 stores 1s; the trailer
     * holds the chunk count and the last dataset name.
     */
    public static void writeLegacy(ImportanceMatrix m, Path file) {
        int chunkSize = m.chunkSize() > 0 ? m.chunkSize() : 1;
        List<String> names = new ArrayList<>();
        long size = 4 + 4 + 4;
        for (var e : m.entries().entrySet()) {
            boolean any = false;
            for (float c : e.getValue().counts()) any |= c != 0;
            if (!any) continue;
            names.add(e.getKey());
            size += 12 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4L * e.getValue().sums().length;
        }
        String dataset = m.datasets().isEmpty() ? "" : m.datasets().get(m.datasets().size() - 1);
        byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size + ds.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(names.size());
        for (String name : names) {
            ImportanceMatrix.Entry e = m.entries().get(name);
            byte[] nb = name.getBytes(StandardCharsets.UTF_8);
            b.putInt(nb.length).put(nb);
            float maxCount = 0;
            for (float c : e.counts()) maxCount = Math.max(maxCount, c);
            int ncall = m.legacy() ? (int) maxCount : (int) (((long) maxCount + chunkSize - 1) / chunkSize); // ceiling, "to avoid accidental zeros"
            b.putInt(ncall).putInt(e.sums().length);
            int perMatrix = e.columns();
            for (int i = 0; i < e.sums().length; i++) {
                if (m.legacy()) {
                    b.putFloat(e.sums()[i]); // already (sum / count) * ncall
                    continue;
                }
                float count = e.counts()[i / perMatrix], value = e.sums()[i];
                if (count == 0.0f) {
                    value = 1.0f;
                    count = 1.0f;
                }
                b.putFloat((value / count) * ncall);
            }
        }
        b.putInt(m.chunkCount());
        b.putInt(ds.length).put(ds);
        byte[] bytes = b.array();
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    public static ImportanceMatrix readLegacy(Path file) {
        byte[] all;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) throw new ModelFormatException(file, "too large for a legacy imatrix file");
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = readInt(file, b, "entry count");
        if (n < 1) throw new ModelFormatException(file, "not an imatrix file (neither GGUF nor a legacy .dat with entries: count " + n + ")");
        Map<String, ImportanceMatrix.Entry> entries = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int len = readInt(file, b, "name length of entry " + i);
            if (len <= 0 || len > MAX_NAME || len > b.remaining()) {
                throw new ModelFormatException(file, "entry " + i + ": bad name length " + len);
            }
            byte[] nb = new byte[len];
            b.get(nb);
            String name = new String(nb, StandardCharsets.UTF_8);
            int ncall = readInt(file, b, "call count of " + name);
            int nval = readInt(file, b, "value count of " + name);
            if (nval < 1 || (long) nval * 4 > b.remaining()) {
                throw new ModelFormatException(file, "entry " + name + ": bad value count " + nval + " (" + b.remaining() + " bytes left)");
            }
            float[] v = new float[nval];
            for (int k = 0; k < nval; k++) v[k] = b.getFloat();
            entries.put(name, new ImportanceMatrix.Entry(v, new float[]{ncall}));
        }
        int chunks = 0;
        List<String> datasets = new ArrayList<>();
        if (b.remaining() >= 4) {
            chunks = b.getInt();
            if (b.remaining() >= 4) {
                int len = b.getInt();
                if (len < 0 || len > b.remaining()) throw new ModelFormatException(file, "bad dataset name length " + len);
                byte[] d = new byte[len];
                b.get(d);
                datasets.add(new String(d, StandardCharsets.UTF_8));
            }
        }
        return new ImportanceMatrix(datasets, chunks, 0, entries, true);
    }

    private static int readInt(Path file, ByteBuffer b, String what) {
        if (b.remaining() < 4) throw new ModelFormatException(file, "truncated legacy imatrix file: no " + what);
        return b.getInt();
    }
}
