#!/usr/bin/env bash
# JMH benchmarks of the tensor kernels (autoglm-bench module): every GGML type, decode (matvec) and prefill
# (matmul4) shapes, one thread. Extra arguments go to JMH, e.g. bench/run-jmh.sh -p type=Q4_0,Q8_0 -f 1 -wi 2 -i 3
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/java-env.sh"
(cd "$ROOT" && mvn -B -q -DskipTests package -pl autoglm-bench -am) >&2
exec "$JAVA_HOME/bin/java" $AUTOGLM_JVM_FLAGS -cp "$ROOT/autoglm-bench/target/classes:$ROOT/autoglm-bench/target/lib/*" \
  org.openjdk.jmh.Main KernelBenchmarks "$@"
