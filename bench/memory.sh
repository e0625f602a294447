#!/usr/bin/env bash
# Memory (issues 2 and 3). Starts `placemap serve` (release, every catalogue layer, 256 MB tile
# cache), reads the peak after start-up (VmHWM: all layers loaded, issue 2's < 500 MB goal), then
# fills the tile cache for $SECS seconds with tiles never requested before (lua/uncached.lua:
# lsoa11 z11..z14 @2x, 8 styles, so the cache keeps evicting once full) while sampling VmRSS and
# the cache's byte count every $EVERY seconds into $OUT/memory_series.csv. Prints the peak
# (VmHWM, issue 3's < 1 GB goal) and min/max RSS over the last half of the run, when the cache
# is full: a flat series is max - min small against the total.
# Usage: bench/memory.sh   (env: SECS [240], EVERY [5], CONNS [4], ADDR, BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need wrk; need curl; need bc
SECS=${SECS:-240}
EVERY=${EVERY:-5}
CONNS=${CONNS:-4}

echo "== memory: $(loadavg)"
start_server --cache-mb 256
echo "STARTUP all layers loaded: VmHWM $(vm VmHWM) MB, VmRSS $(vm VmRSS) MB"

series=$OUT/memory_series.csv
echo "seconds,vm_rss_mb,vm_hwm_mb,cache_bytes,cache_entries" >"$series"
PLACEMAP_PREFIX=/tiles/lsoa11/imd_decile PLACEMAP_SUFFIX=@2x.png PLACEMAP_ZMIN=11 PLACEMAP_ZMAX=14 \
  PLACEMAP_STYLES='k=5;k=6;k=7;k=4;k=8;k=3;k=9;scheme=equal' PLACEMAP_THREADS=1 \
  wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$ROOT/bench/lua/uncached.lua" "http://$ADDR" >"$OUT/wrk_fill.txt" &
WRK_PID=$!
t0=$(date +%s)
while kill -0 "$WRK_PID" 2>/dev/null; do
  now=$(( $(date +%s) - t0 ))
  echo "$now,$(vm VmRSS),$(vm VmHWM),$(metric placemap_tile_cache_bytes),$(metric placemap_tile_cache_entries)" >>"$series"
  sleep "$EVERY"
done
wait "$WRK_PID" || true
echo "FILL $(wrk_summary "$OUT/wrk_fill.txt")"
echo "series: $series ($(($(wc -l <"$series") - 1)) samples); $(loadavg)"
python3 - "$series" "$SECS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
secs = float(sys.argv[2])
full = [r for r in rows if float(r["seconds"]) >= secs / 2]
rss = [float(r["vm_rss_mb"]) for r in full]
first_full = next((r["seconds"] for r in rows if int(r["cache_bytes"] or 0) >= 0.95 * 256 * 2**20), None)
print("cache >= 95%% of 256 MB first at %s s" % first_full)
print("LONGRUN last half (%d samples, t >= %.0f s): VmRSS min %.1f MB max %.1f MB (spread %.1f MB); peak VmHWM %.1f MB; cache bytes at end %s"
      % (len(rss), secs / 2, min(rss), max(rss), max(rss) - min(rss), max(float(r["vm_hwm_mb"]) for r in rows), rows[-1]["cache_bytes"]))
PY
stop_server
