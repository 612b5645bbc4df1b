#!/usr/bin/env bash
# End-to-end speed table: autoglm vs llama.cpp (the prebuilt one in node-llama-cpp 3.22.1) on the same GGUF
# files, same thread count, measured one after the other in this run, plus the machine's memory read bandwidth
# for the roofline. Writes bench/results/e2e-<date>.jsonl and prints the Markdown table (bench/make-table.py).
#
#   bench/run-e2e.sh                       # all models, threads "1 2", 3 repetitions
#   MODELS="llama-q4_0" THREADS=1 REPS=2 bench/run-e2e.sh
#
# Models are random-weight ~1B GGUF files written by the fixture generator (BenchModels in autoglm-core test
# sources) into $MODEL_DIR (default /tmp/autoglm-bench-models, ~9 GB for all six), once. Other files in $MODEL_DIR
# (e.g. llama-q4_k_m.gguf, made from llama-f16.gguf by llama-quantize) are used as they are.
#
# The reference of record is llama.cpp built from source on the machine (outside this repository, never committed):
#   LLAMA_BENCH=/path/to/llama.cpp/build/bin/llama-bench MODELS="llama-q4_k_m" bench/run-e2e.sh
# runs its own llama-bench (-p PP -n TG -r REPS -t T) instead of the node-llama-cpp prebuilt (then a quick check only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/java-env.sh"
MODEL_DIR="${MODEL_DIR:-/tmp/autoglm-bench-models}"
MODELS="${MODELS:-llama-q4_0 llama-q8_0 llama-f16 glm-q4_0 glm-q8_0 glm-f16}"
THREADS="${THREADS:-1 2}"
REPS="${REPS:-3}"
PP="${PP:-128}"
TG="${TG:-64}"
OUT="$ROOT/bench/results/e2e-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p "$MODEL_DIR" "$ROOT/bench/results"

echo "building..." >&2
(cd "$ROOT" && mvn -B -q -o -DskipTests package -pl autoglm-cli -am && mvn -B -q -o test-compile -pl autoglm-core) >&2
if [ -z "${LLAMA_BENCH:-}" ] && [ ! -d "$ROOT/bench/llamacpp/node_modules/node-llama-cpp" ]; then
  # npm ci when the lockfile can be completed from the registry in use; otherwise npm install of the pinned version
  # (the public registry mirror here lacks some of node-llama-cpp's optional platform packages the lockfile lists).
  (cd "$ROOT/bench/llamacpp" && { npm ci --no-audit --no-fund --ignore-scripts || npm install --no-audit --no-fund --ignore-scripts --no-save; }) >&2
fi
CP="$ROOT/autoglm-core/target/test-classes:$ROOT/autoglm-core/target/classes:$ROOT/autoglm-cli/target/lib/*"

for m in $MODELS; do
  f="$MODEL_DIR/$m.gguf"
  if [ ! -f "$f" ]; then
    case "${m#*-}" in q4_0|q4_1|q8_0|f16|bf16|f32|q4_k|q5_k|q6_k) ;; *) echo "$f is missing (make it with llama-quantize from ${m%%-*}-f16.gguf)" >&2; exit 1 ;; esac
    echo "writing $f ..." >&2
    "$JAVA_HOME/bin/java" -Xmx6g $AUTOGLM_JVM_FLAGS -cp "$CP" ai.autoglm.core.testing.BenchModels "${m%%-*}" "${m#*-}" "$f"
  fi
done

meta() { printf '{"meta":{"date":"%s","cpu":"%s","cores":%s,"java":"%s","node":"%s","llama_bench":"%s","pp":%s,"tg":%s,"reps":%s,"loadavg":"%s"}}\n' \
  "$(date -u +%FT%TZ)" "$(lscpu | sed -n 's/^Model name: *//p')" "$(nproc)" \
  "$("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | tr -d '"')" "$(node --version 2>/dev/null || echo none)" "${LLAMA_BENCH:-}" "$PP" "$TG" "$REPS" "$(cut -d' ' -f1-3 /proc/loadavg)"; }
# llama.cpp's side: node-llama-cpp's prebuilt, or llama-bench's JSON lines turned into the same record.
llamacpp() {
  if [ -n "${LLAMA_BENCH:-}" ]; then
    "$LLAMA_BENCH" -m "$1" -p "$2" -n "$3" -r "$4" -t "$5" -o jsonl 2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
pp = next(r for r in rows if r["n_prompt"] > 0)["samples_ts"]
tg = next(r for r in rows if r["n_gen"] > 0)["samples_ts"]
print(json.dumps({"engine": "llama.cpp", "threads": rows[0]["n_threads"], "build_commit": rows[0]["build_commit"], "loadMs": None,
                  "pp": {"runs": pp}, "tg": {"runs": tg}}))'
  else
    node "$ROOT/bench/llamacpp/bench.mjs" "$@"
  fi
}
meta > "$OUT"
# The CLI straight from the classes built above (not ./autoglm, which would rebuild if a source changed mid-run).
autoglm() { "$JAVA_HOME/bin/java" $AUTOGLM_JVM_FLAGS ${AUTOGLM_JAVA_OPTS:--Xmx2g} \
  -cp "$ROOT/autoglm-cli/target/classes:$ROOT/autoglm-cli/target/lib/*" ai.autoglm.cli.AutoglmCli "$@" 2>/dev/null; }
for t in $THREADS; do
  autoglm bench --bandwidth -t "$t" --json >> "$OUT"
done
for m in $MODELS; do
  f="$MODEL_DIR/$m.gguf"
  for t in $THREADS; do
    # Alternate which engine goes first so a change in the machine's load does not always favour one.
    for order in ours-first theirs-first; do
      if [ "$order" = ours-first ]; then
        autoglm bench -m "$f" -p "$PP" -n "$TG" -r "$REPS" -t "$t" --json | sed "s/^{/{\"name\":\"$m\",/" >> "$OUT"
        llamacpp "$f" "$PP" "$TG" "$REPS" "$t" | sed "s/^{/{\"name\":\"$m\",/" >> "$OUT"
      else
        llamacpp "$f" "$PP" "$TG" "$REPS" "$t" | sed "s/^{/{\"name\":\"$m\",/" >> "$OUT"
        autoglm bench -m "$f" -p "$PP" -n "$TG" -r "$REPS" -t "$t" --json | sed "s/^{/{\"name\":\"$m\",/" >> "$OUT"
      fi
      echo "done $m t=$t $order" >&2
      [ "${ONE_ORDER:-0}" = 1 ] && break
    done
  done
done
meta | sed 's/"meta"/"meta_end"/' >> "$OUT"
echo "results: $OUT" >&2
python3 "$ROOT/bench/make-table.py" "$OUT"
