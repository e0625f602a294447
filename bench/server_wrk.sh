#!/usr/bin/env bash
# Server throughput (issue 3) with wrk on loopback. The server and wrk share the machine's two
# cores. Starts `placemap serve` (release, every catalogue layer, 256 MB tile cache) and measures:
#  1. peak memory after start-up with all layers loaded (VmHWM; issue 2's < 500 MB goal);
#  2. cached tiles: the 329 peer tiles (crates/choropleth/benches/tiles_z5_z10.txt) for lad19 and
#     lsoa11 (658 URLs), each requested once to warm the cache, then wrk cycling through them;
#  3. uncached tiles: wrk with lua/uncached.lua, every request a (style, tile) pair never seen,
#     England z5..z12 (about 14,600 tiles) x 16 style variants, so no pair repeats within a run, lad19/imd_score and lsoa11/imd_decile.
# Usage: bench/server_wrk.sh   (env: DUR seconds per run [20], CONNS_CACHED [64], CONNS_UNCACHED [8],
#        THREADS [2], ONLY=cached to skip the uncached runs, ADDR, BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need wrk; need curl; need bc
DUR=${DUR:-20}
THREADS=${THREADS:-2}
CONNS_CACHED=${CONNS_CACHED:-64}
CONNS_UNCACHED=${CONNS_UNCACHED:-8}
LUA=$ROOT/bench/lua

echo "== server: $(nproc) cores shared by server and wrk; $(loadavg)"
start_server --cache-mb 256
echo "memory after start-up, all layers loaded: VmHWM $(vm VmHWM) MB, VmRSS $(vm VmRSS) MB"
curl -s "http://$ADDR/layers" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("layers:", ", ".join("%s (%d)" % (l["id"], l["district_count"]) for l in d["layers"]))' || true

urls=$OUT/cached_urls.txt
: >"$urls"
for li in lad19/imd_score lsoa11/imd_decile; do
  awk -v p="/tiles/$li" '{ print p "/" $1 "/" $2 "/" $3 ".png" }' "$ROOT/crates/choropleth/benches/tiles_z5_z10.txt" >>"$urls"
done
bad=0
while read -r u; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR$u")
  [ "$code" = 200 ] || { bad=$((bad + 1)); echo "warm-up: $u -> $code" >&2; }
done <"$urls"
echo "warmed $(wc -l <"$urls") tiles ($bad not 200); cache $(metric placemap_tile_cache_entries) entries, $(metric placemap_tile_cache_bytes) bytes"

hits0=$(metric placemap_tile_cache_hits_total); miss0=$(metric placemap_tile_cache_misses_total)
echo "-- cached tiles: wrk -t$THREADS -c$CONNS_CACHED -d${DUR}s --latency; $(loadavg)"
PLACEMAP_URLS=$urls wrk -t"$THREADS" -c"$CONNS_CACHED" -d"${DUR}s" --latency -s "$LUA/cached.lua" "http://$ADDR" | tee "$OUT/wrk_cached.txt"
hits1=$(metric placemap_tile_cache_hits_total); miss1=$(metric placemap_tile_cache_misses_total)
echo "CACHED $(wrk_summary "$OUT/wrk_cached.txt") cache-hits +$(echo "$hits1 - $hits0" | bc) misses +$(echo "$miss1 - $miss0" | bc)"

uncached=(lad19/imd_score lsoa11/imd_decile)
[ "${ONLY:-}" = cached ] && uncached=()
for li in "${uncached[@]}"; do
  hits0=$(metric placemap_tile_cache_hits_total); miss0=$(metric placemap_tile_cache_misses_total)
  echo "-- uncached tiles $li z5-z12: wrk -t$THREADS -c$CONNS_UNCACHED -d${DUR}s --latency; $(loadavg)"
  PLACEMAP_PREFIX=/tiles/$li PLACEMAP_ZMIN=5 PLACEMAP_ZMAX=12 PLACEMAP_STYLES=$UNCACHED_STYLES PLACEMAP_THREADS=$THREADS \
    wrk -t"$THREADS" -c"$CONNS_UNCACHED" -d"${DUR}s" --latency -s "$LUA/uncached.lua" "http://$ADDR" | tee "$OUT/wrk_uncached_${li%%/*}.txt"
  hits1=$(metric placemap_tile_cache_hits_total); miss1=$(metric placemap_tile_cache_misses_total)
  echo "UNCACHED ${li%%/*} $(wrk_summary "$OUT/wrk_uncached_${li%%/*}.txt") cache-hits +$(echo "$hits1 - $hits0" | bc) misses +$(echo "$miss1 - $miss0" | bc)"
done
echo "server memory at the end: VmHWM $(vm VmHWM) MB, VmRSS $(vm VmRSS) MB; cache $(metric placemap_tile_cache_bytes) bytes"
stop_server
