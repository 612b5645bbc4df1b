#!/usr/bin/env bash
# JMH benchmarks of the tensor kernels (autoglm-bench module): every GGML type, decode (matvec) and prefill
# (matmul4) shapes, one thread; and NativeKernelBenchmarks (the same pattern matches it): the native kernel library
# against the Java kernels for every type it has, 1, 4 and 64 tokens. Extra arguments go to JMH, e.g.
# bench/run-jmh.sh -p type=Q4_0,Q8_0 -f 1 -wi 2 -i 3, or bench/run-jmh.sh NativeKernelBenchmarks -p rows=8192
# (a JMH pattern argument replaces the default one)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/java-env.sh"
(cd "$ROOT" && mvn -B -q -DskipTests package -pl autoglm-bench -am) >&2
PATTERN=KernelBenchmarks
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then PATTERN="$1"; shift; fi
exec "$JAVA_HOME/bin/java" $AUTOGLM_JVM_FLAGS -cp "$ROOT/autoglm-bench/target/classes:$ROOT/autoglm-bench/target/lib/*" \
  org.openjdk.jmh.Main "$PATTERN" "$@"
