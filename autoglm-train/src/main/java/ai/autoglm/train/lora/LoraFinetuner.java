package ai.autoglm.train.lora;

import ai.autoglm.core.format.peft.LoraConfig;
import ai.autoglm.core.model.LoraTargets;
import ai.autoglm.core.format.peft.PeftAdapter;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.TensorRole;
import ai.autoglm.train.AdamW;
import ai.autoglm.train.LearningRateSchedule;
import ai.autoglm.train.ParameterSet;
import ai.autoglm.train.SplitMix64;
import ai.autoglm.train.TrainableTransformer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA fine-tuning of a frozen {@link TrainableTransformer} on chat examples: LoRA matrices on the chosen projections
 * of every block (hooks, {@link LoraLayer}), AdamW over them alone (no weight decay), warm-up then cosine decay to
 * lr/10, gradient clipping at 1, loss on the assistant tokens only; a held-out share of the conversations measures
 * the loss before and after.
 */
public final class LoraFinetuner {

    /**
     * @param rank       LoRA r
     * @param alpha      LoRA alpha (the update is scaled by alpha / r)
     * @param targets    short projection names: q, k, v, qkv (fused models), o, gate, up, down
     * @param maxLength  longest training sequence in tokens (longer conversations are cut)
     * @param heldOut    share of the conversations kept out of training
     */
    public record Options(int rank, double alpha, List<String> targets, int steps, int batch, double lr, long seed,
                         double heldOut, int maxLength) {
        public Options {
            if (rank < 1) throw new IllegalArgumentException("--lora-r must be at least 1, got " + rank);
            if (!(alpha > 0)) throw new IllegalArgumentException("--lora-alpha must be positive, got " + alpha);
            if (targets == null || targets.isEmpty()) throw new IllegalArgumentException("--target needs at least one of q,k,v,o,gate,up,down");
            if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
            if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
            if (!(heldOut > 0 && heldOut < 1)) throw new IllegalArgumentException("--held-out must be between 0 and 1, got " + heldOut);
            if (maxLength < 2) throw new IllegalArgumentException("--max-length must be at least 2, got " + maxLength);
            targets = List.copyOf(targets);
        }
    }

    public record StepResult(long step, double loss, double learningRate) {
    }

    private final TrainableTransformer model;
    private final List<LoraLayer> layers;
    private final ParameterSet params = new ParameterSet();
    private final List<ChatDataset.Example> train;
    private final List<ChatDataset.Example> heldOut;
    private final int seqLen;
    private final Options options;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final SplitMix64 rng;
    private final int padToken;

    private LoraFinetuner(TrainableTransformer model, List<LoraLayer> layers, List<ChatDataset.Example> train,
                          List<ChatDataset.Example> heldOut, int seqLen, Options options, SplitMix64 rng) {
        this.model = model;
        this.layers = layers;
        for (LoraLayer l : layers) {
            params.add(l.a());
            params.add(l.b());
        }
        this.train = train;
        this.heldOut = heldOut;
        this.seqLen = seqLen;
        this.options = options;
        this.optimizer = new AdamW(params, 0.9, 0.999, 1e-8, 0.0);
        this.schedule = new LearningRateSchedule(options.lr(), options.lr() / 10, Math.min(10, options.steps() / 10), options.steps());
        this.rng = rng;
        this.padToken = 0;
    }

    /** Hooks LoRA layers into {@code model} (which it freezes) and splits {@code examples} into training and held-out. */
    public static LoraFinetuner start(TrainableTransformer model, List<ChatDataset.Example> examples, Options o) {
        ModelConfig c = model.config();
        int maxLength = Math.min(o.maxLength(), c.contextLength());
        List<ChatDataset.Example> usable = new ArrayList<>();
        for (ChatDataset.Example e : examples) {
            ChatDataset.Example cut = cut(e, maxLength);
            if (cut.trainedCount() > 0) usable.add(cut);
        }
        if (usable.size() < 2) {
            throw new IllegalArgumentException("need at least 2 conversations with an assistant token within " + maxLength
                    + " tokens (one to train on, one held out), got " + usable.size());
        }
        SplitMix64 rng = new SplitMix64(o.seed());
        for (int i = usable.size() - 1; i > 0; i--) { // Fisher-Yates, so the held-out share is a random sample
            int j = rng.nextInt(i + 1);
            ChatDataset.Example t = usable.get(i);
            usable.set(i, usable.get(j));
            usable.set(j, t);
        }
        int nHeld = Math.max(1, Math.min(usable.size() - 1, (int) Math.round(usable.size() * o.heldOut())));
        List<ChatDataset.Example> held = List.copyOf(usable.subList(0, nHeld));
        List<ChatDataset.Example> tr = List.copyOf(usable.subList(nHeld, usable.size()));
        int seqLen = 1;
        for (ChatDataset.Example e : usable) seqLen = Math.max(seqLen, e.tokens().length - 1);

        List<LoraLayer> layers = new ArrayList<>();
        float scale = (float) (o.alpha() / o.rank());
        for (int l = 0; l < c.layers(); l++) {
            for (TensorRole role : roles(model, o.targets())) {
                String name = role.tensorName(l);
                long[] shape = model.parameters().get(name).shape();
                LoraLayer layer = new LoraLayer(name, (int) shape[0], (int) shape[1], o.rank(), scale, rng);
                model.addHook(name, layer);
                layers.add(layer);
            }
        }
        model.freezeBase(true);
        return new LoraFinetuner(model, layers, tr, held, seqLen, o, rng);
    }

    /** The GGUF tensors the short names mean in this model (fused q|k|v or gate|up where the model fuses them). */
    static List<TensorRole> roles(TrainableTransformer model, List<String> targets) {
        boolean fusedGateUp = model.config().architecture().fusedGateUp();
        Set<TensorRole> out = new LinkedHashSet<>();
        for (String t : targets) {
            switch (t.trim()) {
                case "q", "k", "v" -> {
                    if (model.fusedQkv()) throw new IllegalArgumentException("--target " + t + ": this model has one fused q|k|v projection; use --target qkv");
                    out.add(t.trim().equals("q") ? TensorRole.ATTN_Q : t.trim().equals("k") ? TensorRole.ATTN_K : TensorRole.ATTN_V);
                }
                case "qkv" -> {
                    if (!model.fusedQkv()) throw new IllegalArgumentException("--target qkv: this model has separate q, k, v projections; use q,k,v");
                    out.add(TensorRole.ATTN_QKV);
                }
                case "o" -> out.add(TensorRole.ATTN_OUT);
                // A fused gate|up (GLM's gate_up_proj / dense_h_to_4h) is one module: gate and up both mean it.
                case "gate" -> out.add(fusedGateUp ? TensorRole.FFN_UP : TensorRole.FFN_GATE);
                case "up" -> out.add(TensorRole.FFN_UP);
                case "down" -> out.add(TensorRole.FFN_DOWN);
                default -> throw new IllegalArgumentException("--target: unknown projection '" + t + "' (expected q, k, v, qkv, o, gate, up, down)");
            }
        }
        return List.copyOf(out);
    }

    private static ChatDataset.Example cut(ChatDataset.Example e, int maxLength) {
        int len = Math.min(e.tokens().length, maxLength + 1); // maxLength inputs predict maxLength next tokens
        if (len == e.tokens().length) return e;
        return new ChatDataset.Example(java.util.Arrays.copyOf(e.tokens(), len), java.util.Arrays.copyOf(e.trained(), len));
    }

    public int trainingExamples() {
        return train.size();
    }

    public int heldOutExamples() {
        return heldOut.size();
    }

    public int sequenceLength() {
        return seqLen;
    }

    /** LoRA parameters trained. */
    public long parameterCount() {
        return params.count();
    }

    public long step() {
        return optimizer.step();
    }

    public boolean done() {
        return step() >= options.steps();
    }

    /** One optimizer step over a random batch of training conversations. */
    public StepResult trainStep() {
        List<ChatDataset.Example> batch = new ArrayList<>();
        for (int s = 0; s < options.batch(); s++) batch.add(train.get(rng.nextInt(train.size())));
        int[][] io = pack(batch);
        long stepIndex = optimizer.step();
        double lr = schedule.at(stepIndex);
        params.zeroGradients();
        double loss = model.forwardBackward(io[0], io[1], seqLen);
        AdamW.clipGradientNorm(params, 1.0);
        optimizer.update(params, lr);
        return new StepResult(stepIndex + 1, loss, lr);
    }

    /** Mean cross-entropy (nats per assistant token) over all held-out conversations. */
    public double heldOutLoss() {
        double total = 0;
        long counted = 0;
        for (int from = 0; from < heldOut.size(); from += options.batch()) {
            List<ChatDataset.Example> batch = heldOut.subList(from, Math.min(heldOut.size(), from + options.batch()));
            int[][] io = pack(batch);
            int m = 0;
            for (int t : io[1]) if (t >= 0) m++;
            total += model.loss(io[0], io[1], seqLen) * m;
            counted += m;
        }
        return total / counted;
    }

    /** Inputs and next-token targets ({@code -1} where not an assistant token, and in the padding after each sequence). */
    private int[][] pack(List<ChatDataset.Example> batch) {
        int[] in = new int[batch.size() * seqLen], tg = new int[batch.size() * seqLen];
        java.util.Arrays.fill(in, padToken);
        java.util.Arrays.fill(tg, -1);
        for (int s = 0; s < batch.size(); s++) {
            ChatDataset.Example e = batch.get(s);
            int n = e.tokens().length - 1;
            for (int t = 0; t < n; t++) {
                in[s * seqLen + t] = e.tokens()[t];
                if (e.trained()[t + 1]) tg[s * seqLen + t] = e.tokens()[t + 1];
            }
        }
        return new int[][]{in, tg};
    }

    /** The trained adapter in PEFT format (HF module names, B rows in HF order). */
    public PeftAdapter adapter(String baseModel) {
        Map<String, PeftAdapter.Module> byTensor = new LinkedHashMap<>();
        for (LoraLayer l : layers) {
            byTensor.put(l.target(), new PeftAdapter.Module(l.a().value().clone(), l.b().value().clone(), l.rank(), l.in(), l.out()));
        }
        return LoraTargets.toPeft(byTensor, model.config(), LoraConfig.of(options.rank(), options.alpha(), List.of(), baseModel));
    }
}
