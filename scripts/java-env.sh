# Sourced by every script of the project: picks JDK 25 (the machine's default java may be older) and
# the JVM flags the engine needs. Honours a JAVA_HOME that already points at JDK 25 or newer.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}'; }
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ] || [ "$(java_major "$JAVA_HOME")" -lt 25 ] 2>/dev/null; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* /usr/lib/jvm/jdk-25* /opt/java/*25*; do
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate")" -ge 25 ] 2>/dev/null; then JAVA_HOME="$candidate"; break; fi
  done
  if [ -z "$JAVA_HOME" ]; then
    echo "autoglm needs JDK 25 or newer: install it (e.g. Temurin 25) or set JAVA_HOME to it." >&2
    exit 1
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Kept in step with autoglm.jvm.flags in the root pom.xml (the test JVMs: the module and stack flags) and with
# deploy/Dockerfile's ENTRYPOINT (DeployManifestsTest). -Xmn64m caps the young generation: without it ParallelGC grows
# it to 250-700 MiB from the prefill's warm-up garbage (Vector API temporaries before C2 compiles the GEMM), which then
# stays resident, so peak RSS depended on warm-up rather than on the model (serve on the bundled model: 904 MiB
# uncapped, 206 MiB capped; decode/prefill speed unchanged, bench/RESULTS.md "Long context"). The memory model's JVM
# part (ProcessKind) is measured with it. AUTOGLM_JAVA_OPTS comes after these flags and may override it.
AUTOGLM_JVM_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss16m -XX:+UseParallelGC -Xmn64m --sun-misc-unsafe-memory-access=allow"
export AUTOGLM_JVM_FLAGS
