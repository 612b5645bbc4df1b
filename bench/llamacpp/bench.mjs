// llama.cpp side of bench/run-e2e.sh: the prebuilt llama.cpp in node-llama-cpp, measured the way
// `autoglm bench` measures (and llama-bench does): pp = one batch of P prompt tokens from an empty context
// (logits for the last one), tg = N single-token decodes from an empty context, each with logits and a
// greedy sample. Prints one JSON line.
// usage: node bench.mjs MODEL.gguf P N REPS THREADS
import {getLlama} from "node-llama-cpp";
import {performance} from "node:perf_hooks";

const [modelPath, P, N, R, T] = [process.argv[2], ...process.argv.slice(3, 7).map(Number)];
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const t0 = performance.now();
const model = await llama.loadModel({modelPath, useMmap: true});
const loadMs = performance.now() - t0;
const ctx = await model.createContext({contextSize: Math.max(256, P + N + 8), batchSize: Math.max(P, 1), threads: T, sequences: 1});
const seq = ctx.getSequence();
const vocab = model.tokenizer ? 256 : 256;
const tok = (i) => (i * 7919 + 13) % vocab; // byte tokens: valid in every fixture vocabulary
const greedy = {generateNext: {token: true}};

async function pp() {
  await seq.clearHistory();
  const items = Array.from({length: P}, (_, i) => (i === P - 1 ? [tok(i), greedy] : tok(i)));
  const s = performance.now();
  await seq.controlledEvaluate(items);
  return performance.now() - s;
}
async function tg() {
  await seq.clearHistory();
  let t = tok(0);
  const s = performance.now();
  let first = 0;
  for (let i = 0; i < N; i++) {
    const out = await seq.controlledEvaluate([[t, greedy]]);
    if (i === 0) first = performance.now() - s;
    t = tok(i + 1);
  }
  return [performance.now() - s, first];
}
await pp(); await tg(); // warm-up, as llama-bench does
const pps = [], tgs = [];
for (let r = 0; r < R; r++) { pps.push(P / ((await pp()) / 1000)); tgs.push(N / ((await tg())[0] / 1000)); }
const stats = (a) => { const m = a.reduce((x, y) => x + y, 0) / a.length; return {mean: m, sd: Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / Math.max(1, a.length - 1)), runs: a}; };
console.log(JSON.stringify({engine: "llama.cpp", threads: T, cpuMathCores: llama.cpuMathCores, systemInfo: llama.systemInfo,
  buildType: llama.buildType, loadMs, pp: stats(pps), tg: stats(tgs)}));
await ctx.dispose(); await model.dispose(); await llama.dispose();
