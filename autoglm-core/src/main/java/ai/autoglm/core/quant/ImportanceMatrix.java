package ai.autoglm.core.quant;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * llama.cpp's importance matrix: per weight tensor (GGUF name), the sum over calibration tokens of each input
 * column's squared activation ({@code in_sum2}) and the number of tokens ({@code counts}), as tools/imatrix/imatrix.cpp
 * collects them and its GGUF format stores them (one row of sums and one count per matrix; dense tensors have one
 * matrix). {@link #quantWeights} is what llama-quantize hands the quantizer: the per-column mean square
 * (tools/quantize/quantize.cpp load_imatrix: {@code sums / count}, or 1 where a matrix saw no tokens).
 *
 * @param datasets   the calibration files it was computed on ({@code imatrix.datasets})
 * @param chunkCount chunks processed ({@code imatrix.chunk_count})
 * @param chunkSize  tokens per chunk ({@code imatrix.chunk_size}); 0 when unknown (the legacy format lacks it)
 * @param entries    per tensor name, in name order
 * @param legacy     read from the legacy {@code .dat} format, whose counts are "calls" (chunks) and whose sums were
 *                   already divided by the token count and multiplied by the calls
 */
public record ImportanceMatrix(List<String> datasets, int chunkCount, int chunkSize, Map<String, Entry> entries, boolean legacy) {

    /** One tensor's data: {@code sums.length == columns * counts.length}. */
    public record Entry(float[] sums, float[] counts) {
        public Entry {
            if (counts.length == 0 || sums.length % counts.length != 0) {
                throw new IllegalArgumentException(sums.length + " sums do not split into " + counts.length + " matrices");
            }
        }

        public int columns() {
            return sums.length / counts.length;
        }
    }

    public ImportanceMatrix {
        datasets = List.copyOf(datasets);
        entries = Collections.unmodifiableMap(new TreeMap<>(entries));
    }

    /**
     * The importance llama-quantize uses for {@code tensorName}: per column the mean of the squared activation,
     * {@code sums[j] / count} (legacy files: {@code stored[j] / calls}); null when the tensor has no entry.
     */
    public float[] quantWeights(String tensorName) {
        Entry e = entries.get(tensorName);
        if (e == null) return null;
        int ne0 = e.columns();
        float[] v = new float[e.sums().length];
        for (int m = 0; m < e.counts().length; m++) {
            float count = e.counts()[m];
            for (int i = 0; i < ne0; i++) {
                int k = m * ne0 + i;
                if (count > 0) v[k] = e.sums()[k] / count;
                else v[k] = legacy ? e.sums()[k] : 1; // quantize.cpp: legacy ncall 0 keeps the values, GGUF count 0 -> 1
            }
        }
        return v;
    }
}
