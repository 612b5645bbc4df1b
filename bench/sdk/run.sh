#!/usr/bin/env bash
# SDK benchmark on the bundled model: in-process tokens/s with 1 thread and with 8 threads sharing one client
# (continuous batching), time to first token, and the per-token cost of the remote route (a loopback autoglm serve).
# Usage: bench/sdk/run.sh [rounds]   (results: bench/sdk/RESULTS.md)
#        bench/sdk/run.sh vs [P] [N] [T] [rounds]: the SDK in-process against `./autoglm bench -m MODEL -p P -n N -t T --json`
#        on the bundled model and a random-weight 124M Llama (Q8_0), same prompt/generation length and threads, runs
#        alternating A B B A, the SDK/bench ratio printed (issue 18: within 5%)
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
if [ "${1:-}" = vs ]; then
  P="${2:-64}" N="${3:-32}" T="${4:-2}" R="${5:-2}"
  ./autoglm bench --help >/dev/null # builds the CLI now if its sources changed, not inside a measured run
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)  $(date -u +%F)"
  for M in ${MODELS:-models/default/model.gguf llama124m}; do
    java $AUTOGLM_JVM_FLAGS -cp "autoglm-client/target/test-classes:autoglm-client/target/classes:$CP" ai.autoglm.client.SdkVsEngineBench "$M" "$P" "$N" "$T" "$R"
  done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
java $AUTOGLM_JVM_FLAGS -cp "autoglm-client/target/test-classes:autoglm-client/target/classes:$CP" ai.autoglm.client.ThroughputBench "${1:-3}"
