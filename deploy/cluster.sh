#!/usr/bin/env bash
# `make cluster`: a Herald cluster on one machine, for a person to try: Redis, three Herald
# servers (ports 3001-3003) sharing one SQLite file and one SESSION_SECRET, and HAProxy on :3000
# with sticky sessions. Open http://localhost:3000 in two browsers (or a private window), and
# kill a server with `kill -9 $(cat .cluster/node2.pid)`: its people leave the others' count
# within 5 s, and their pages reconnect to a live server. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cluster
mkdir -p "$dir"
bin=${HERALD_BIN:-bin/herald}
redis_port=${CLUSTER_REDIS_PORT:-6380}

for tool in redis-server haproxy; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
    echo "cluster: $tool is missing (Debian: apt-get install redis-server haproxy)" >&2; exit 1; }
done
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)

# One secret for every server: a form opened on one is posted to another.
[ -s "$dir/secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/secret"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "cluster: stopping"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
  --logfile redis.log &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

for n in 1 2 3; do
  SESSION_SECRET=$(cat "$dir/secret") REDIS_URL="redis://127.0.0.1:$redis_port/0" \
    DATABASE_URL="$dir/herald.db" PORT=300$n \
    "$bin" >"$dir/node$n.log" 2>&1 &
  pids+=($!)
  echo $! > "$dir/node$n.pid"
done

"$haproxy" -db -f deploy/haproxy.cfg &
pids+=($!)

cat <<MSG
cluster: http://localhost:3000 (HAProxy) → herald on :3001 :3002 :3003, Redis on :$redis_port
cluster: logs in $dir/node*.log; kill a server with: kill -9 \$(cat $dir/node2.pid)
cluster: Ctrl-C stops everything
MSG
wait
