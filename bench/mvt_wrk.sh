#!/usr/bin/env bash
# Vector tiles under wrk: the same 658 tiles as server_wrk.sh's cached run (the 329 peer tiles
# z5..z10 of lad19 and of lsoa11), as MVT with the layer's default indicator, each requested once
# to warm the cache, then wrk cycling through them. (Encoding speed without the cache is
# crates/tile-server/benches/vector_tiles.rs.)
# Usage: bench/mvt_wrk.sh   (env: DUR seconds per run [15], THREADS [2], CONNS [64])
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need wrk; need curl
DUR=${DUR:-15}; THREADS=${THREADS:-2}; CONNS=${CONNS:-64}
echo "== mvt wrk: $(nproc) cores shared by server and wrk; $(loadavg)"
start_server --cache-mb 256
urls=$OUT/mvt_urls.txt
: >"$urls"
for layer in lad19 lsoa11; do
  awk -v p="/tiles/$layer" '{ print p "/" $1 "/" $2 "/" $3 ".mvt" }' "$ROOT/crates/choropleth/benches/tiles_z5_z10.txt" >>"$urls"
done
bad=0
while read -r u; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR$u")
  [ "$code" = 200 ] || bad=$((bad + 1))
done <"$urls"
echo "warmed $(wc -l <"$urls") vector tiles ($bad not 200)"
PLACEMAP_URLS=$urls wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency -s "$ROOT/bench/lua/cached.lua" "http://$ADDR" | tee "$OUT/wrk_mvt_cached.txt"
echo "CACHED MVT $(wrk_summary "$OUT/wrk_mvt_cached.txt")"
stop_server
