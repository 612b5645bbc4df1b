#!/usr/bin/env bash
# Long-context runs of a small random-weight model (LongContextProbe.spec: dim 128, 4 heads of 32, 2 layers, context
# 32768): prefill tokens/s at each position count and KV cache type, and peak RSS (VmHWM) of each run's own JVM
# against the memory model's figure for an engine process (ProcessKind.ENGINE). Every run is a fresh JVM with the
# launcher's flags.
# Usage: bench/long-context.sh [positions...]   (default: 1024 4096 16384 32768); TYPES="f32/f32 q8_0/q8_0" to choose.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/java-env.sh
mvn -B -o -q -pl autoglm-core -am test-compile >/dev/null
CP_FILE=$(mktemp)
mvn -B -o -q -pl autoglm-core dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >/dev/null
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
# a copy of the classes, so that a build during the (long) runs cannot change them under the probe
cp -r autoglm-core/target/test-classes "$DIR/test-classes"
cp -r autoglm-core/target/classes "$DIR/classes"
CP="$DIR/test-classes:$DIR/classes:$(cat "$CP_FILE")"
rm -f "$CP_FILE"
# The launcher's flags (scripts/java-env.sh: ParallelGC, young generation capped at 64 MiB, the default maximum heap),
# as LongContextRssTest, and EXTRA_JVM_FLAGS (e.g. -Xmx2g) after them.
JAVA=("$JAVA_HOME/bin/java" $AUTOGLM_JVM_FLAGS ${EXTRA_JVM_FLAGS:-} -cp "$CP")
"${JAVA[@]}" ai.autoglm.core.memory.LongContextProbe write "$DIR/long.gguf" 32768 2>/dev/null
POSITIONS=("$@")
[ ${#POSITIONS[@]} -eq 0 ] && POSITIONS=(1024 4096 16384 32768)
TYPES=${TYPES:-"f32/f32 f16/f16 q8_0/q8_0 q4_0/q4_0"}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores; threads: ${AUTOGLM_THREADS:-all}"
echo "| positions | K/V | prefill tok/s | peak RSS MiB | memory model MiB | peak RSS / model | RSS growth of the sequence MiB | model's KV + buffers MiB | growth / model | KV allocated MiB |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${POSITIONS[@]}"; do
  for t in $TYPES; do
    out=$("${JAVA[@]}" ai.autoglm.core.memory.LongContextProbe run "$DIR/long.gguf" "$n" "${t%/*}" "${t#*/}" 2>&1)
    get() { echo "$out" | awk -v k="$1" '$1==k {print $2}'; }
    python3 - "$n" "$t" "$(get prefill_tps)" "$(get hwm)" "$(get estimate)" "$(get rss_before)" "$(get rss_after)" "$(get sequence_estimate)" "$(get kv_allocated)" <<'PY'
import sys
n, t, tps, hwm, est, before, after, seq, kva = sys.argv[1:]
mib = lambda b: int(b) / 1048576
growth = int(after) - int(before)
print(f"| {n} | {t} | {float(tps):.1f} | {mib(hwm):.1f} | {mib(est):.1f} | {int(hwm)/int(est):.2f} | {mib(growth):.1f} | {mib(seq):.1f} | {growth/int(seq):.2f} | {mib(kva):.1f} |")
PY
  done
done
