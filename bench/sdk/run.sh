#!/usr/bin/env bash
# SDK benchmark on the bundled model: in-process tokens/s with 1 thread and with 8 threads sharing one client
# (continuous batching), time to first token, and the per-token cost of the remote route (a loopback autoglm serve).
# Usage: bench/sdk/run.sh [rounds]   (results: bench/sdk/RESULTS.md)
#        bench/sdk/run.sh vs [P] [N] [T] [rounds] [reps]: the SDK in-process against
#        `./autoglm bench -m MODEL -p P -n N` (its pp) and `... -d P` (its tg) on the bundled model and a random-weight 124M Llama
#        (Q8_0): every run a fresh JVM with the same flags, threads and warm-up (+2 dropped reps), A B B A, medians,
#        quartiles and ranges, the SDK/bench ratio per round (issue 18: within 5%); see SdkVsEngineBench
#        bench/sdk/run.sh remote [N] [T] [rounds]: decode ms/token and time to first token, in-process vs a loopback
#        autoglm serve of the same model (124M Llama), alternating L R R L
#        bench/sdk/run.sh step [T] [rounds]: a decode step's time outside the forward pass on the scheduler path, streamed
#        and whole-answer readers, against autoglm bench's forward loop (MODEL, default the bundled one); see StepOverheadBench
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/java-env.sh"
cd "$ROOT"
CPFILE="$(mktemp)"
trap 'rm -f "$CPFILE"' EXIT
# one reactor run: the sibling modules resolve to their target/ folders (nothing is installed); the client is built last,
# so its classpath is what the file holds at the end
mvn -B -q -o -pl autoglm-client -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CPFILE"
CP="$(cat "$CPFILE")"
JCP="autoglm-client/target/test-classes:autoglm-client/target/classes:$CP"
machine() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores  $(date -u '+%F %T') UTC"; }
if [ "${1:-}" = vs ]; then
  P="${2:-64}" N="${3:-64}" T="${4:-2}" R="${5:-4}" REPS="${6:-3}"
  ./autoglm bench --help >/dev/null # builds the CLI now if its sources changed, not inside a measured run
  machine
  for M in ${MODELS:-models/default/model.gguf llama124m}; do
    java $AUTOGLM_JVM_FLAGS -cp "$JCP" ai.autoglm.client.SdkVsEngineBench vs "$M" "$P" "$N" "$T" "$R" "$REPS"
    machine
  done
  exit 0
fi
if [ "${1:-}" = remote ]; then
  N="${2:-64}" T="${3:-2}" R="${4:-4}"
  machine
  java $AUTOGLM_JVM_FLAGS -cp "$JCP" ai.autoglm.client.SdkVsEngineBench remote "${MODEL:-llama124m}" "$N" "$T" "$R"
  machine
  exit 0
fi
if [ "${1:-}" = step ]; then
  machine
  java $AUTOGLM_JVM_FLAGS -cp "$JCP" ai.autoglm.client.StepOverheadBench "${MODEL:-models/default/model.gguf}" "${2:-2}" "${3:-40}"
  machine
  exit 0
fi
java $AUTOGLM_JVM_FLAGS -cp "$JCP" ai.autoglm.client.ThroughputBench "${1:-3}"
