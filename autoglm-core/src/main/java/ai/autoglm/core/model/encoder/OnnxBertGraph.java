package ai.autoglm.core.model.encoder;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.onnx.OnnxModel;
import ai.autoglm.core.format.onnx.OnnxNode;
import ai.autoglm.core.format.onnx.OnnxTensor;
import ai.autoglm.core.model.MapWeightSource;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.tensor.Tensors;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a BERT encoder's weights, head count and LayerNorm epsilon in an ONNX graph exported from PyTorch (the
 * Xenova/optimum exports of all-MiniLM-L6-v2, bge-small-en/zh-v1.5 and e5-small-v2 that langchain4j ships).
 *
 * <p>What those graphs look like: embeddings, LayerNorm parameters and all biases are initializers under their HF
 * names ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.0.attention.self.query.bias}, ...), but the
 * exporter folded the transpose of every {@code nn.Linear} weight into a new constant, so the matrices are anonymous
 * initializers ({@code onnx::MatMul_885}) of shape {@code [in, out]}, the second input of a {@code MatMul} node.
 * Each such MatMul feeds an {@code Add} whose other input is the layer's named bias; the weight's role is read off
 * that bias ({@code ...query.bias} → {@code ...query.weight}), falling back to the MatMul node's own name
 * ({@code /encoder/layer.0/attention/self/query/MatMul}). The matrix is transposed to the HF/GGUF {@code [out, in]}
 * layout (a copy on the heap; the other weights stay views into the file).
 *
 * <p>The head count is not a weight: it is the constant in the {@code Reshape} that splits the query into heads
 * ({@code [batch, seq, heads, head_dim]} built by a {@code Concat} of constants), or failing that {@code sqrt(head_dim)}
 * from the score scaling {@code Div}. Epsilon is the constant added to the variance before the first {@code Sqrt} of
 * the decomposed LayerNorm (or the {@code epsilon} attribute of a {@code LayerNormalization} node); 1e-12 if absent.
 */
public final class OnnxBertGraph {
    private final OnnxModel model;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Map<String, List<OnnxNode>> consumers = new HashMap<>();

    private OnnxBertGraph(OnnxModel model) {
        this.model = model;
        for (OnnxNode n : model.nodes()) {
            for (String o : n.outputs()) producers.put(o, n);
            for (String i : n.inputs()) consumers.computeIfAbsent(i, k -> new java.util.ArrayList<>()).add(n);
        }
    }

    /** The weights (GGUF names and order) and config of the BERT encoder in {@code model}. */
    public record Result(MapWeightSource weights, BertConfig config) {
    }

    public static Result read(OnnxModel model) {
        return new OnnxBertGraph(model).read();
    }

    private ModelFormatException bad(String problem) {
        return new ModelFormatException(model.file(), problem);
    }

    private Result read() {
        MapWeightSource w = new MapWeightSource();
        Map<String, OnnxTensor> inits = model.initializers();
        for (OnnxTensor t : inits.values()) {
            String gguf = BertTensorNames.toGguf(t.name());
            if (gguf != null && t.dataType() == OnnxTensor.FLOAT) {
                put(w, gguf, t);
            }
        }
        String firstQueryAdd = null;
        for (OnnxNode n : model.nodes()) {
            if (!"MatMul".equals(n.opType()) || n.input(1) == null) continue;
            OnnxTensor weight = inits.get(n.input(1));
            if (weight == null || weight.dims().length != 2 || BertTensorNames.toGguf(weight.name()) != null) continue;
            String hfName = roleOf(n);
            String gguf = hfName == null ? null : BertTensorNames.toGguf(hfName);
            if (gguf == null) continue;
            if (w.names().contains(gguf)) throw bad("two MatMul weights resolve to " + hfName);
            w.put(gguf, Tensors.view(GgmlType.F32, transpose(weight), weight.elementCount()),
                    weight.dims()[0], weight.dims()[1]);
            if (gguf.equals(BertTensorNames.block(BertTensorNames.ATTN_Q, 0, ".weight"))) {
                firstQueryAdd = biasAddOf(n) == null ? n.outputs().getFirst() : biasAddOf(n).outputs().getFirst();
            }
        }
        if (firstQueryAdd == null) {
            throw bad("no MatMul for encoder.layer.0.attention.self.query in the graph: not a BERT encoder export this "
                    + "reader understands");
        }
        int heads = headCount(firstQueryAdd, w);
        return new Result(w, BertConfig.infer(model.file(), w, heads, epsilon()));
    }

    private static void put(MapWeightSource w, String gguf, OnnxTensor t) {
        long[] d = t.dims();
        long[] reversed = new long[d.length];
        for (int i = 0; i < d.length; i++) reversed[i] = d[d.length - 1 - i];
        w.put(gguf, t.floatTensor(), reversed);
    }

    /** The HF parameter name of a MatMul's weight: from the bias its result is added to, else from the node name. */
    private String roleOf(OnnxNode matmul) {
        OnnxNode add = biasAddOf(matmul);
        if (add != null) {
            for (String in : add.inputs()) {
                if (in.endsWith(".bias") && model.initializers().containsKey(in)) {
                    return in.substring(0, in.length() - ".bias".length()) + ".weight";
                }
            }
        }
        String name = matmul.name();
        if (name.startsWith("/") && name.endsWith("/MatMul")) {
            return name.substring(1, name.length() - "/MatMul".length()).replace('/', '.') + ".weight";
        }
        return null;
    }

    /** The Add node that takes the MatMul's output (the Linear's bias), or null. */
    private OnnxNode biasAddOf(OnnxNode matmul) {
        for (OnnxNode c : consumers.getOrDefault(matmul.outputs().getFirst(), List.of())) {
            if ("Add".equals(c.opType())) return c;
        }
        return null;
    }

    private int headCount(String queryOutput, MapWeightSource w) {
        int hidden = (int) w.shape(BertTensorNames.TOKEN_EMBD)[0];
        for (OnnxNode c : consumers.getOrDefault(queryOutput, List.of())) {
            if (!"Reshape".equals(c.opType()) || !queryOutput.equals(c.input(0)) || c.input(1) == null) continue;
            double[] shape = constantShape(c.input(1));
            if (shape != null && shape.length >= 2) {
                double heads = shape[shape.length - 2];
                double headDim = shape[shape.length - 1];
                if (heads >= 1 && headDim >= 1 && heads * headDim == hidden) return (int) heads;
            }
        }
        // Fallback: scores are divided by sqrt(head_dim).
        for (OnnxNode n : model.nodes()) {
            if (!"Div".equals(n.opType()) || !n.name().contains("attention")) continue;
            double[] c = constant(n.input(1));
            if (c != null && c.length == 1 && c[0] > 1) {
                long headDim = Math.round(c[0] * c[0]);
                if (headDim > 0 && hidden % headDim == 0 && Math.abs(Math.sqrt(headDim) - c[0]) < 1e-4) {
                    return (int) (hidden / headDim);
                }
            }
        }
        throw bad("cannot find the number of attention heads in the graph (no Reshape of the query into heads)");
    }

    /** The values of a shape tensor: a constant, or a Concat of constants and runtime values (NaN for those). */
    private double[] constantShape(String name) {
        double[] c = constant(name);
        if (c != null) return c;
        OnnxNode p = producers.get(name);
        if (p == null || !"Concat".equals(p.opType())) return null;
        double[] out = new double[0];
        for (String in : p.inputs()) {
            double[] part = constant(in);
            if (part == null) part = new double[] {Double.NaN};
            double[] joined = java.util.Arrays.copyOf(out, out.length + part.length);
            System.arraycopy(part, 0, joined, out.length, part.length);
            out = joined;
        }
        return out;
    }

    /** The values of an initializer or Constant node output, or null when {@code name} is computed. */
    private double[] constant(String name) {
        if (name == null) return null;
        OnnxTensor t = model.initializers().get(name);
        if (t == null) {
            OnnxNode p = producers.get(name);
            if (p != null && "Constant".equals(p.opType())) t = p.tensorAttributes().get("value");
        }
        if (t == null || t.elementCount() > 16) return null;
        return t.numbers();
    }

    private float epsilon() {
        for (OnnxNode n : model.nodes()) {
            if ("LayerNormalization".equals(n.opType()) && n.floatAttributes().containsKey("epsilon")) {
                return n.floatAttributes().get("epsilon");
            }
            if ("Sqrt".equals(n.opType())) {
                OnnxNode add = producers.get(n.input(0));
                if (add != null && "Add".equals(add.opType())) {
                    for (String in : add.inputs()) {
                        double[] c = constant(in);
                        if (c != null && c.length == 1 && c[0] > 0 && c[0] < 1e-2) return (float) c[0];
                    }
                }
                break;
            }
        }
        return BertConfig.DEFAULT_EPS;
    }

    /** {@code [in, out]} row-major to {@code [out, in]} row-major, as a heap segment of little-endian floats. */
    private static MemorySegment transpose(OnnxTensor t) {
        int in = Math.toIntExact(t.dims()[0]);
        int out = Math.toIntExact(t.dims()[1]);
        float[] src = t.floats();
        float[] dst = new float[src.length];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) dst[o * in + i] = src[i * out + o];
        }
        MemorySegment seg = MemorySegment.ofArray(dst);
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("big-endian platforms are not supported");
        }
        return seg;
    }
}
