#!/usr/bin/env bash
# least_conn (deploy/nginx/autoglm.conf) against session affinity (deploy/nginx/autoglm-session-affinity.conf):
# the same multi-turn conversation load (bench/nginx/conversations.py) through Debian's nginx running each shipped
# config (only the replica addresses and the listen port swapped, as ReplicasBehindNginxTest does) in front of
# REPLICAS fresh `autoglm serve` processes (restarted per config, so neither run inherits the other's KV caches).
# Prints one JSON line per config and appends them to bench/results/nginx-<date>.jsonl. Results: bench/RESULTS.md.
#
#   bench/nginx/run.sh                                   # bundled model, 3 replicas, 8 conversations x 4 turns
#   REPLICAS=2 CONVERSATIONS=16 TURNS=6 MAX_TOKENS=16 SLOTS=4 bench/nginx/run.sh [model.gguf]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/java-env.sh"
MODEL="${1:-$ROOT/models/default/model.gguf}"
REPLICAS="${REPLICAS:-3}"
CONVERSATIONS="${CONVERSATIONS:-8}"
TURNS="${TURNS:-4}"
MAX_TOKENS="${MAX_TOKENS:-16}"
SLOTS="${SLOTS:-4}"
CTX="${CTX:-256}"             # the bundled model's whole context: 4 turns of 16 tokens fit
CONFIGS="${CONFIGS:-autoglm.conf autoglm-session-affinity.conf}"
BASE_PORT="${PORT:-18400}"
NGINX="${NGINX:-/usr/sbin/nginx}"
OUT="$ROOT/bench/results/nginx-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
WORK="$(mktemp -d)"
mkdir -p "$ROOT/bench/results" "$WORK/logs"
[ -x "$NGINX" ] || { echo "nginx is needed (apt-get install nginx)" >&2; exit 1; }

echo "building..." >&2
(cd "$ROOT" && mvn -B -q -o -DskipTests package -pl autoglm-cli -am) >&2
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run=0
for conf in $CONFIGS; do
  port=$((BASE_PORT + run * 10)); run=$((run + 1))
  PIDS=(); servers=""
  for i in $(seq 1 "$REPLICAS"); do
    rport=$((port + i))
    "$JAVA_HOME/bin/java" $AUTOGLM_JVM_FLAGS -Xmx1g -cp "$ROOT/autoglm-cli/target/classes:$ROOT/autoglm-cli/target/lib/*" \
      ai.autoglm.cli.AutoglmCli serve -m "$MODEL" --alias bench --slots "$SLOTS" --ctx "$CTX" --port "$rport" \
      --home "$WORK/home-$run-$i" >"$WORK/replica-$run-$i.log" 2>&1 &
    PIDS+=($!)
    servers+="    server 127.0.0.1:$rport max_fails=1 fail_timeout=10s;\n"
  done
  for i in $(seq 1 "$REPLICAS"); do
    for _ in $(seq 1 240); do
      curl -sf "http://127.0.0.1:$((port + i))/health/ready" >/dev/null && break
      kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null || break
      sleep 0.5
    done
    curl -sf "http://127.0.0.1:$((port + i))/health/ready" >/dev/null || { echo "replica $i not ready" >&2; cat "$WORK/replica-$run-$i.log" >&2; exit 1; }
  done
  # The shipped file with only the addresses and the port swapped.
  sed -e '/^    server [0-9.]*:[0-9]* /d' -e "s/^upstream autoglm {/upstream autoglm {\n$servers/" \
      -e "s/^    listen [0-9]*;/    listen 127.0.0.1:$port;/" "$ROOT/deploy/nginx/$conf" >"$WORK/site-$run.conf"
  cat >"$WORK/nginx-$run.conf" <<NGINX
daemon off;
worker_processes 1;
pid $WORK/nginx-$run.pid;
error_log $WORK/nginx-$run-error.log warn;
$( [ "$(id -un)" = root ] && echo "user root;" )
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $WORK/client_body; proxy_temp_path $WORK/proxy; fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
    include $WORK/site-$run.conf;
}
NGINX
  "$NGINX" -p "$WORK" -c "$WORK/nginx-$run.conf" &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  # Warm-up on every replica (JIT of the kernels), in sessions of their own: not recorded.
  python3 "$ROOT/bench/nginx/conversations.py" "http://127.0.0.1:$port" warmup "$((REPLICAS * 2))" 1 8 >/dev/null
  meta="\"date\":\"$(date -u +%FT%TZ)\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p')\",\"cores\":$(nproc),\"replicas\":$REPLICAS,\"slots\":$SLOTS,\"ctx\":$CTX,\"model\":\"$(basename "$MODEL")\",\"loadavg_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  python3 "$ROOT/bench/nginx/conversations.py" "http://127.0.0.1:$port" "$conf" "$CONVERSATIONS" "$TURNS" "$MAX_TOKENS" \
    | sed "s/^{/{$meta,/" | tee -a "$OUT"
  cleanup; wait 2>/dev/null || true
done
rm -rf "$WORK"
