#!/usr/bin/env bash
# Server start-up of two binaries, alternating (issue 14): seconds from exec to the first /health
# answer and VmHWM then, every layer, empty state directory, each binary with its own
# prepared-layer cache (one warm-up start each first, so both read prepared layers).
# Usage: BIN_A=old/placemap BIN_B=target/release/placemap [RUNS=9] bash bench/startup_pair.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc
: "${BIN_A:?set BIN_A}" "${BIN_B:?set BIN_B}"
RUNS=${RUNS:-9}
CACHES=$(mktemp -d)
trap 'rm -rf "$CACHES"' EXIT

# one BIN CACHE: prints "seconds VmHWM_MB"; never leaves a server behind.
one() {
  local state started pid up hwm
  state=$(mktemp -d)
  started=$(date +%s.%N)
  (cd "$ROOT" && exec "$1" --quiet --cache "$2" --data "$DATA" --state "$state" serve --addr "$ADDR") >/dev/null 2>&1 </dev/null &
  pid=$!
  until curl -sf "http://$ADDR/health" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "bench: $1 exited before /health" >&2; exit 1; }
    sleep 0.005
  done
  up=$(echo "$(date +%s.%N) - $started" | bc)
  hwm=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$state"
  echo "$up $hwm"
}

median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }
echo "== start-up pair, $RUNS runs each: $(loadavg)"
one "$BIN_A" "$CACHES/a" >/dev/null
one "$BIN_B" "$CACHES/b" >/dev/null
a=(); b=()
for i in $(seq 1 "$RUNS"); do
  ra=$(one "$BIN_A" "$CACHES/a"); rb=$(one "$BIN_B" "$CACHES/b")
  echo "run $i: A ${ra% *} s (${ra#* } MB)  B ${rb% *} s (${rb#* } MB)"
  a+=("${ra% *}"); b+=("${rb% *}")
done
ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
echo "STARTUP_PAIR A median $ma s, B median $mb s, B/A $(echo "scale=3; $mb / $ma" | bc); $(loadavg)"
