#!/usr/bin/env bash
# Server CPU per uncached PNG tile (issue 11): a release server with the tile cache off
# (`--cache-mb 0`, or $CACHE_MB), its per-zoom geometry ready, one keep-alive curl reading the
# seeded England z5-z10 list (crates/choropleth/benches/tiles_z5_z10.txt, 329 tiles) $PASSES
# times after one warm-up pass, in Mapnik's style (as bench/http_tiles_mapnik.sh). Prints wall
# time and tiles/s of the client and the server's own CPU time per tile (utime + stime from
# /proc, steadier than wall time on a shared machine). With CACHE_MB=256 every timed request is
# a cache hit: the floor of the request path (client, loopback, HTTP) without rendering.
# Usage: [LAYER=lad19|lsoa11] [PASSES=10] [CACHE_MB=0] [BIN=...] bash bench/tile_cpu.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc
LAYER=${LAYER:-lad19}
PASSES=${PASSES:-10}
TILES=$ROOT/crates/choropleth/benches/tiles_z5_z10.txt
[ -n "${MAPNIK_STYLE[$LAYER]:-}" ] || { echo "bench: LAYER is lad19 or lsoa11" >&2; exit 1; }

start_server --cache-mb "${CACHE_MB:-0}" >/dev/null
geometry_ready
urls=$OUT/tile_cpu_urls.txt
awk -v base="http://$ADDR/tiles/$LAYER/" -v s="${MAPNIK_STYLE[$LAYER]}" '{
  t = $1 "/" $2 "/" $3; u = s; sub(/\{\}/, t, u)
  printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, u }' "$TILES" >"$urls"
codes=$(curl -s -K "$urls" -w '%{http_code}\n' | sort | uniq -c | tr -s ' \n' ' ')
c0=$(cpu_ticks); t0=$(date +%s.%N)
for _ in $(seq 1 "$PASSES"); do curl -s -K "$urls" -o /dev/null; done
t1=$(date +%s.%N); c1=$(cpu_ticks)
n=$(($(wc -l <"$TILES") * PASSES))
echo "$LAYER: warm-up answers ($codes); $n tiles: wall $(echo "scale=3; ($t1 - $t0) * 1000 / $n" | bc) ms per tile," \
  "$(echo "scale=1; $n / ($t1 - $t0)" | bc) tiles/s; server CPU $(echo "scale=3; ($c1 - $c0) * 1000 / $CLK_TCK / $n" | bc) ms per tile; $(loadavg)"
