# Shared helpers of the bench/ scripts (sourced, not run). Starts one placemap server, waits until
# it answers, reads its memory from /proc, stops it by its own pid.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${BIN:-$ROOT/target/release/placemap}
DATA=${DATA:-$(cd "$ROOT/../shared/data" && pwd)}
ADDR=${ADDR:-127.0.0.1:18080}
OUT=${OUT:-/tmp/placemap-bench}
mkdir -p "$OUT"
SERVER_PID=

need() { command -v "$1" >/dev/null || { echo "bench: $1 is not installed" >&2; exit 1; }; }

loadavg() { echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)Z"; }

# start_server [placemap serve options...]: starts the release binary on $ADDR, waits for /health.
start_server() {
  [ -x "$BIN" ] || { echo "bench: $BIN missing: run cargo build --release -p placemap" >&2; exit 1; }
  local started=$(date +%s.%N)
  (cd "$ROOT" && exec "$BIN" --quiet --data "$DATA" serve --addr "$ADDR" "$@") >"$OUT/server.out" 2>"$OUT/server.err" &
  SERVER_PID=$!
  trap stop_server EXIT
  for _ in $(seq 1 600); do
    if curl -sf "http://$ADDR/health" >/dev/null 2>&1; then
      echo "server pid $SERVER_PID listening on $ADDR after $(echo "$(date +%s.%N) - $started" | bc) s"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: server exited:" >&2; cat "$OUT/server.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: server did not answer within 60 s" >&2
  exit 1
}

# vm FIELD: VmHWM / VmRSS of the server, in MB.
vm() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

# cpu_ticks: the server's CPU time so far (utime + stime from /proc, in CLK_TCK ticks; the
# fields counted after the command name, which may hold spaces).
cpu_ticks() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$SERVER_PID/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# metric NAME: a value of the server's /metrics (first sample line of that name).
metric() {
  local text
  text=$(curl -s "http://$ADDR/metrics")
  awk -v n="$1" '($1 == n || index($1, n "{") == 1) && v == "" { v = $2 } END { print v }' <<<"$text"
}

# geometry_ready: waits until /health says every layer's per-zoom geometry is built.
geometry_ready() {
  for _ in $(seq 1 600); do
    curl -s "http://$ADDR/health" | python3 -c 'import json,sys; g=json.load(sys.stdin)["per_zoom_geometry"]; sys.exit(0 if g["layers_ready"]==g["layers"] else 1)' && return 0
    sleep 0.1
  done
  echo "bench: per-zoom geometry not ready after 60 s" >&2
  exit 1
}

# Mapnik's style for the seeded z5-z10 tiles ({} is z/x/y): OrRd, the same 5 classes (LAD:
# quantiles of the IMD 2019 score; LSOA: IMD deciles paired), no-data districts not drawn.
declare -A MAPNIK_STYLE=(
  [lad19]="imd_score/{}.png?scheme=quantile&k=5&palette=OrRd&nodata=none"
  [lsoa11]="imd_decile/{}.png?scheme=manual&breaks=2.5,4.5,6.5,8.5&palette=OrRd&nodata=none"
)

# Style variants for lua/uncached.lua, so no (style, tile) pair repeats within a run.
UNCACHED_STYLES='k=5;k=6;k=7;k=4;k=8;k=3;k=9;scheme=equal;k=5&reverse=true;k=6&reverse=true;k=7&reverse=true;k=4&reverse=true;k=8&reverse=true;k=3&reverse=true;k=9&reverse=true;scheme=equal&reverse=true'

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

# wrk_summary FILE: requests/s, p50, p99 and error counts of a `wrk --latency` output.
wrk_summary() {
  awk '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /requests in/ { n = $1 }
    /Non-2xx or 3xx responses/ { non2xx = $NF }
    /Socket errors/ { sock = $0 }
    END { printf "requests %s req/s %s p50 %s p99 %s non-2xx %d socket-errors %s\n", n, rps, p50, p99, non2xx + 0, (sock == "" ? "none" : sock) }
  ' "$1"
}
