#!/usr/bin/env bash
# The abusive mix of issue 12, bounded: for $DUR seconds (60) the release server gets
#  - big static maps (10000 x 10000 px PNG of the 32,844 LSOAs), $BIG_CLIENTS in a loop;
#  - Moran's I with permutations=99999 on the LSOAs, $MORAN_CLIENTS in a loop;
#  - bursts of 200 concurrent uncached static maps (each a size never asked before), every 15 s;
#  - $SLOW_CLIENTS slow-header clients (one header byte a second, reconnecting when cut);
# alongside normal tile traffic: wrk on cached tiles (-c8) and on never-seen tiles (-c2).
# Then it reports: 5xx answers other than 503 (server counters and client-side failures), p99 of
# the normal tile requests, peak RSS (VmRSS sampled every 0.5 s, and VmHWM), RSS 60 s after the
# load stops against the RSS after start-up (also less the tile cache's weighted size from
# /metrics: the cache keeps up to --cache-mb of tiles drawn under load, by design), and the CPU
# time the server burns in the 10 s after the load stops.
# glibc's tunables reach the server through the environment, e.g.
#   GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072 bench/abuse.sh
# (BENCHMARKS.md section 13 compares both).
# Usage: bench/abuse.sh   (env: DUR [60], BIG_CLIENTS [2], MORAN_CLIENTS [2], SLOW_CLIENTS [50],
#        BIN [target/release/placemap], DATA, OUT; extra arguments go to placemap serve)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need wrk; need curl; need python3; need bc
DUR=${DUR:-60}
BIG_CLIENTS=${BIG_CLIENTS:-2}
MORAN_CLIENTS=${MORAN_CLIENTS:-2}
SLOW_CLIENTS=${SLOW_CLIENTS:-50}
LUA=$ROOT/bench/lua
# A free loopback port unless ADDR is given.
if [ -z "${ADDR_GIVEN:-}" ]; then
  ADDR=127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

rss() { awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
# Bytes the tile cache holds (placemap_tile_cache_bytes), in MB.
cache_mb() { metric placemap_tile_cache_bytes | awk '{ printf "%.0f", $1 / 1048576 }'; }
# Server answers with status 5xx other than 503, summed over routes, from /metrics.
bad5xx() {
  curl -s "http://$ADDR/metrics" | awk '/^placemap_http_requests_total\{/ {
    if (match($0, /status="[0-9]+"/)) { s = substr($0, RSTART + 8, 3) + 0; if (s >= 500 && s != 503) n += $NF } }
    END { print n + 0 }'
}
status_counts() {
  curl -s "http://$ADDR/metrics" | awk '/^placemap_http_requests_total\{/ {
    if (match($0, /status="[0-9]+"/)) { s = substr($0, RSTART + 8, 3); c[s] += $NF } }
    END { for (s in c) printf "%s:%d ", s, c[s]; print "" }'
}

echo "== abuse mix: $(nproc) cores shared by server and clients; $(loadavg)"
start_server "$@"
sleep 5
base_rss=$(rss)
base_cache=$(cache_mb)
echo "after start-up: VmRSS $base_rss MB, VmHWM $(vm VmHWM) MB, tile cache $base_cache MB"

# Warm the cached tile set (lad19 and lsoa11 at z5-z10).
urls=$OUT/abuse_cached_urls.txt
: >"$urls"
for li in lad19/imd_score lsoa11/imd_decile; do
  awk -v p="/tiles/$li" '{ print p "/" $1 "/" $2 "/" $3 ".png" }' "$ROOT/crates/choropleth/benches/tiles_z5_z10.txt" >>"$urls"
done
while read -r u; do curl -s -o /dev/null "http://$ADDR$u"; done <"$urls"
warm_rss=$(rss)
echo "after warming $(wc -l <"$urls") tiles: VmRSS $warm_rss MB, tile cache $(cache_mb) MB"

# RSS sampler.
: >"$OUT/abuse_rss.txt"
(while kill -0 "$SERVER_PID" 2>/dev/null; do echo "$(date +%s.%N) $(rss)" >>"$OUT/abuse_rss.txt"; sleep 0.5; done) &
sampler=$!

echo "-- load for ${DUR}s; $(loadavg)"
load_start=$(date +%s)
PLACEMAP_URLS=$urls wrk -t1 -c8 -d"${DUR}s" --timeout 30s --latency -s "$LUA/cached.lua" "http://$ADDR" >"$OUT/abuse_wrk_cached.txt" &
wrk_cached=$!
PLACEMAP_PREFIX=/tiles/lsoa11/imd_decile PLACEMAP_ZMIN=5 PLACEMAP_ZMAX=12 PLACEMAP_STYLES='k=5;k=6;k=7;k=4' PLACEMAP_THREADS=1 \
  wrk -t1 -c2 -d"${DUR}s" --timeout 30s --latency -s "$LUA/uncached.lua" "http://$ADDR" >"$OUT/abuse_wrk_uncached.txt" &
wrk_uncached=$!
python3 - "$ADDR" "$DUR" "$BIG_CLIENTS" "$MORAN_CLIENTS" "$SLOW_CLIENTS" >"$OUT/abuse_clients.txt" <<'PY' &
import collections, http.client, socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
dur, big, moran, slow = (int(a) for a in sys.argv[2:6])
end = time.time() + dur
lock = threading.Lock()
counts = collections.Counter()

def get(kind, path, timeout):
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        key = (kind, str(r.status))
        c.close()
    except Exception as e:  # a reset or a timeout is a failure the summary must show
        key = (kind, "error:" + type(e).__name__)
    with lock:
        counts[key] += 1

def loop(kind, path, timeout):
    while time.time() < end:
        get(kind, path, timeout)
        time.sleep(0.05)

def bursts():
    n = 0
    while time.time() < end:
        threads = []
        for i in range(200):
            n += 1
            layer = "lsoa11/imd_decile" if i % 2 else "lad19/imd_score"
            # A size never asked before: nothing can come from a cache.
            path = "/static/%s.png?width=%d&height=%d" % (layer, 800 + n % 1200, 900 + n // 1200)
            t = threading.Thread(target=get, args=("burst_static", path, 60))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        time.sleep(max(0.0, min(15.0, end - time.time())))

def slowloris():
    while time.time() < end:
        try:
            s = socket.create_connection((host, port), timeout=5)
            sent_all = True
            for b in b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n":
                if time.time() > end:
                    sent_all = False
                    break
                s.send(bytes([b]))
                time.sleep(1)
            s.close()
            if sent_all:
                with lock:
                    counts[("slow_header", "never cut")] += 1
        except OSError:
            with lock:
                counts[("slow_header", "cut")] += 1

workers = []
for _ in range(big):
    workers.append(threading.Thread(target=loop, args=("big_static", "/static/lsoa11/imd_decile.png?width=10000&height=10000", 120)))
for _ in range(moran):
    workers.append(threading.Thread(target=loop, args=("moran", "/stats/lsoa11/imd_rank/moran?permutations=99999", 120)))
workers.append(threading.Thread(target=bursts))
for _ in range(slow):
    workers.append(threading.Thread(target=slowloris))
for w in workers:
    w.start()
for w in workers:
    w.join()
for (kind, status), n in sorted(counts.items()):
    print("CLIENT %s %s %d" % (kind, status, n))
PY
clients=$!
wait "$wrk_cached" "$wrk_uncached"
wait "$clients"
load_end=$(date +%s)
t0=$(cpu_ticks)
echo "-- load stopped after $((load_end - load_start)) s (clients finish their last request); $(loadavg)"
sleep 10
t1=$(cpu_ticks)
cpu_after=$(echo "scale=2; ($t1 - $t0) / $CLK_TCK" | bc)
sleep 50
rss_after=$(rss)
cache_after=$(cache_mb)
kill "$sampler" 2>/dev/null || true
peak=$(sort -k2 -n "$OUT/abuse_rss.txt" | tail -1 | cut -d' ' -f2)
bad=$(bad5xx)

cat "$OUT/abuse_clients.txt"
echo "CACHED TILES   $(wrk_summary "$OUT/abuse_wrk_cached.txt")"
echo "UNCACHED TILES $(wrk_summary "$OUT/abuse_wrk_uncached.txt")"
echo "server statuses: $(status_counts)"
echo "rejected by admission: tile $(metric 'placemap_admission_rejected_total{class="tile"}') static $(metric 'placemap_admission_rejected_total{class="static"}') analysis $(metric 'placemap_admission_rejected_total{class="analysis"}'); cancelled jobs: static $(metric 'placemap_jobs_cancelled_total{class="static"}') analysis $(metric 'placemap_jobs_cancelled_total{class="analysis"}')"
client_fail=$(grep -c 'error:' "$OUT/abuse_clients.txt" || true)
echo "RESULT 5xx-other-than-503 (server) $bad; client-side failure kinds $client_fail"
echo "RESULT peak VmRSS ${peak} MB (sampled every 0.5 s), VmHWM $(vm VmHWM) MB (includes start-up)"
echo "RESULT RSS after start-up $base_rss MB, after warming tiles $warm_rss MB, 60 s after the load $rss_after MB (+$((rss_after - base_rss)) MB)"
echo "RESULT tile cache $base_cache MB after start-up, $cache_after MB 60 s after the load; RSS less the tile cache $((base_rss - base_cache)) -> $((rss_after - cache_after)) MB (+$((rss_after - cache_after - base_rss + base_cache)) MB)"
echo "RESULT CPU in the 10 s after the load stopped: $cpu_after s"
stop_server
