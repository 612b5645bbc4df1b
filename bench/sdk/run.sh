#!/usr/bin/env bash
# SDK benchmark on the bundled model: in-process tokens/s with 1 thread and with 8 threads sharing one client
# (continuous batching), time to first token, and the per-token cost of the remote route (a loopback autoglm serve).
# Usage: bench/sdk/run.sh [rounds]   (results: bench/sdk/RESULTS.md)
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
java $AUTOGLM_JVM_FLAGS -cp "autoglm-client/target/test-classes:autoglm-client/target/classes:$CP" ai.autoglm.client.ThroughputBench "${1:-3}"
