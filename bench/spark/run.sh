#!/usr/bin/env bash
# Rows/s of autoglm-spark in Spark local mode against the engine alone (same rows, same settings, same JVM flags).
# Needs the Debian packages fortunes and fortunes-zh (the rows are their lines). Results: bench/RESULTS.md, "Spark".
# Usage: bench/spark/run.sh [master=local[2]] [embed rows=2000] [generate rows=400] [max tokens=16]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/spark-submit-env.sh"
cd "$ROOT"
# One reactor build: the sibling modules resolve to their target/classes (every module writes the file; the last is ours).
mvn -B -q -o -pl autoglm-spark -am test-compile dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
  -Dmdep.outputFile="$ROOT/autoglm-spark/target/bench.cp" >&2
CP="$ROOT/autoglm-spark/target/test-classes:$ROOT/autoglm-spark/target/classes:$(cat "$ROOT/autoglm-spark/target/bench.cp")"
BGE="$(tr ':' '\n' < "$ROOT/autoglm-spark/target/bench.cp" | grep bge-small-zh)"
echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $AUTOGLM_SPARK_JAVA_OPTIONS -Xmx4g -cp "$CP" ai.autoglm.spark.SparkBench \
  "${1:-local[2]}" "$BGE" "$ROOT/models/default/model.gguf" "${2:-2000}" "${3:-400}" "${4:-16}" 2>/dev/null | grep RESULT
