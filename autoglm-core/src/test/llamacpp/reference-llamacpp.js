// llama.cpp as a reference engine for the Java tests, through node-llama-cpp's prebuilt CPU binary
// (@node-llama-cpp/linux-x64; never built here: build "never").
// Usage: node reference-llamacpp.js  < request.json  > response.json
// request:  {"jobs": [job, ...]}, each job one of
//   {"model": "/x.gguf", "sequences": [[ids], ...], "temperature": T}
//       -> {"probabilities": [[[p(id) for id in 0..n_vocab) for each position] for each sequence]}
//       the next-token distribution after every prefix of each sequence, softmax(logits / T) (llama.cpp's temp
//       sampler; top-k/top-p/min-p off), one causal pass per sequence, F32 KV cache, no flash attention.
//       node-llama-cpp 3.21 hands out probabilities, not logits; T * log p gives the logits back up to a constant,
//       and a T > 1 keeps float expf from underflowing to 0 for tokens far below the top one.
//   {"model": "/x.gguf", "vocabOnly": true, "tokenize": ["text", ...], "parseSpecial": true|false}
//       -> {"ids": [[...], ...], "detokenized": ["...", ...]}
//       llama_tokenize without BOS/EOS (add_special false); detokenized: llama_detokenize of those ids with
//       special tokens rendered
// response: {"results": [result per job, in order]}
if (Number(process.versions.node.split(".")[0]) < 20) {
    process.stderr.write(`node-llama-cpp needs Node.js >= 20, this is ${process.version}\n`);
    process.exit(1);
}
const {getLlama} = await import("node-llama-cpp");

// Streamed, not fs.readFileSync(0): that fails with EAGAIN when a large request is still arriving on the pipe.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const results = [];
for (const job of request.jobs) {
    const model = await llama.loadModel({modelPath: job.model, vocabOnly: !!job.vocabOnly, gpuLayers: 0});
    try {
        if (job.tokenize !== undefined) {
            const ids = job.tokenize.map((text) => Array.from(model.tokenize(text, !!job.parseSpecial)));
            results.push({ids, detokenized: ids.map((t) => model.detokenize(t, true))});
        } else {
            results.push({probabilities: await nextTokenProbabilities(model, job.sequences, job.temperature ?? 1)});
        }
    } finally {
        await model.dispose();
    }
}
process.stdout.write(JSON.stringify({results}));
await llama.dispose();

async function nextTokenProbabilities(model, sequences, temperature) {
    const longest = Math.max(1, ...sequences.map((s) => s.length));
    const context = await model.createContext({
        contextSize: Math.max(32, longest), batchSize: Math.max(32, longest), sequences: 1, flashAttention: false,
        // One thread: the models are tiny, and idle ggml worker threads spin (hundreds of ms per context on a busy machine).
        threads: 1,
        // ggml's default F16 cache would round K and V; F32 keeps the F32 comparison at float precision.
        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"
    });
    try {
        const sequence = context.getSequence();
        const sampling = {temperature, topK: 0, topP: 1, minP: 0, seed: 1};
        const out = [];
        for (const tokens of sequences) {
            await sequence.clearHistory();
            const evaluated = await sequence.controlledEvaluate(
                tokens.map((t) => [t, {generateNext: {probabilities: true, options: sampling}}]));
            out.push(tokens.map((_, i) => {
                const probabilities = evaluated[i]?.next?.probabilities;
                if (probabilities === undefined) throw new Error(`no distribution after position ${i}`);
                // The sampler hands back every vocabulary entry (cur_p covers n_vocab), sorted by probability.
                const row = new Array(probabilities.size).fill(-1);
                for (const [id, p] of probabilities) {
                    if (id >= row.length) throw new Error(`token id ${id} outside a distribution of ${row.length}`);
                    row[id] = p;
                }
                return row;
            }));
        }
        return out;
    } finally {
        await context.dispose();
    }
}
