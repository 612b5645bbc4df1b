package ai.autoglm.core.model.encoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.List;
import java.util.Map;

/**
 * The reference engine: ONNX Runtime running the same .onnx file on a padded batch with an attention mask and token
 * type ids 0 (what transformers / sentence-transformers feed a BERT), then pooling and L2 normalization written out
 * plainly here (sentence-transformers Pooling + Normalize). Public for the server's embeddings tests.
 */
public final class OrtReference implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public OrtReference(byte[] onnx) throws OrtException {
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(2);
        session = env.createSession(onnx, opts);
    }

    /** Last hidden states {@code [batch][token][hidden]} of the padded batch (rows past each length are padding). */
    float[][][] lastHiddenState(List<int[]> batch) throws OrtException {
        int maxLen = batch.stream().mapToInt(a -> a.length).max().orElse(0);
        long[][] ids = new long[batch.size()][maxLen];
        long[][] mask = new long[batch.size()][maxLen];
        long[][] types = new long[batch.size()][maxLen];
        for (int b = 0; b < batch.size(); b++) {
            for (int t = 0; t < batch.get(b).length; t++) {
                ids[b][t] = batch.get(b)[t];
                mask[b][t] = 1;
            }
        }
        try (OnnxTensor i = OnnxTensor.createTensor(env, ids);
             OnnxTensor m = OnnxTensor.createTensor(env, mask);
             OnnxTensor tt = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", i, "attention_mask", m, "token_type_ids", tt))) {
            return (float[][][]) r.get(0).getValue();
        }
    }

    /** Pooled, normalized sentence embeddings for {@code batch}. */
    public double[][] embed(List<int[]> batch, Pooling pooling) throws OrtException {
        float[][][] hidden = lastHiddenState(batch);
        double[][] out = new double[batch.size()][];
        for (int b = 0; b < out.length; b++) {
            int len = batch.get(b).length;
            int h = hidden[b][0].length;
            double[] v = new double[h];
            if (pooling == Pooling.CLS) {
                for (int i = 0; i < h; i++) v[i] = hidden[b][0][i];
            } else {
                for (int t = 0; t < len; t++) for (int i = 0; i < h; i++) v[i] += hidden[b][t][i];
                for (int i = 0; i < h; i++) v[i] /= len;
            }
            double norm = 0;
            for (double x : v) norm += x * x;
            norm = Math.sqrt(norm);
            for (int i = 0; i < h; i++) v[i] /= norm;
            out[b] = v;
        }
        return out;
    }

    public static double cosine(float[] a, double[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
