#!/usr/bin/env bash
# Two connections against one, in a steady state (issue 11): a release server with the tile
# cache off (`--cache-mb 0`: every request is drawn), its per-zoom geometry ready. Two clients:
#  1. curl: the seeded England z5-z10 list (crates/choropleth/benches/tiles_z5_z10.txt, 329
#     tiles) $REPEAT times in Mapnik's style (as bench/http_tiles_mapnik.sh), after one warm-up
#     pass; one curl reading the whole list, then two curls reading half each (odd and even
#     lines);
#  2. wrk, one thread, one connection then two, $DUR seconds each, on England's z5-z10 tiles in
#     16 styles (bench/lua/uncached.lua): a client that costs less per request than curl.
# Each pass prints tiles/s and where the two cores went: the server's CPU (utime + stime from
# /proc) and the curls' (GNU time), over wall time.
# http_tiles_mapnik.sh asks each tile once on a fresh server, so its two-connection pass of
# lad19 lasts about 0.12 s and the clients' start and the halves' uneven ends weigh in it; this
# one measures the rate a server keeps.
# Usage: [LAYER=lad19|lsoa11] [REPEAT=6] [PASSES=3] [DUR=5] [BIN=...] bash bench/two_connections.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc; need wrk
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is not installed (apt install time)" >&2; exit 1; }
LAYER=${LAYER:-lad19}
REPEAT=${REPEAT:-6}
PASSES=${PASSES:-3}
DUR=${DUR:-5}
TILES=$ROOT/crates/choropleth/benches/tiles_z5_z10.txt
declare -A INDICATOR=([lad19]=imd_score [lsoa11]=imd_decile)
[ -n "${MAPNIK_STYLE[$LAYER]:-}" ] || { echo "bench: LAYER is lad19 or lsoa11" >&2; exit 1; }

start_server --cache-mb 0 >/dev/null
geometry_ready
# urls PART: curl config, one `url`/`output` pair per tile (PART: all, odd or even lines).
urls() {
  awk -v base="http://$ADDR/tiles/$LAYER/" -v s="${MAPNIK_STYLE[$LAYER]}" -v part="$1" '
    part == "all" || (part == "odd" && NR % 2 == 1) || (part == "even" && NR % 2 == 0) {
      t = $1 "/" $2 "/" $3; u = s; sub(/\{\}/, t, u)
      printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, u }' "$TILES"
}
for part in all odd even; do
  : >"$OUT/two_$part.txt"
  for _ in $(seq 1 "$REPEAT"); do urls "$part" >>"$OUT/two_$part.txt"; done
done
curl -s -K "$OUT/two_all.txt" >/dev/null # warm-up
N=$(($(wc -l <"$TILES") * REPEAT))
echo "$LAYER: $N tiles a pass, cache off; $(loadavg)"
for _ in $(seq 1 "$PASSES"); do
  line=""
  for conns in 1 2; do
    s0=$(cpu_ticks); t0=$(date +%s.%N)
    if [ "$conns" = 1 ]; then
      /usr/bin/time -f '%U %S' -o "$OUT/two_t1" curl -s -K "$OUT/two_all.txt" >/dev/null
      : >"$OUT/two_t2"
    else
      /usr/bin/time -f '%U %S' -o "$OUT/two_t1" curl -s -K "$OUT/two_odd.txt" >/dev/null &
      other=$!
      /usr/bin/time -f '%U %S' -o "$OUT/two_t2" curl -s -K "$OUT/two_even.txt" >/dev/null
      wait "$other" # (not a bare `wait`: the server is a background job of this shell too)
    fi
    t1=$(date +%s.%N); s1=$(cpu_ticks)
    read -r rate server clients < <(cat "$OUT/two_t1" "$OUT/two_t2" | awk -v n="$N" -v w="$(echo "$t1 - $t0" | bc -l)" \
      -v s="$(echo "($s1 - $s0) / $CLK_TCK" | bc -l)" '{ c += $1 + $2 } END { printf "%.0f %.2f %.2f\n", n / w, s / w, c / w }')
    eval "rate$conns=$rate"
    line="$line | $conns connection(s): $rate tiles/s, server $server cores, curl $clients cores"
  done
  echo "${line# | } | 2 vs 1: $(echo "scale=2; $rate2 / $rate1" | bc)x"
done
echo "$LAYER: wrk -t1, $DUR s a run, cache off; $(loadavg)"
for _ in $(seq 1 "$PASSES"); do
  line=""
  for conns in 1 2; do
    s0=$(cpu_ticks)
    PLACEMAP_PREFIX="/tiles/$LAYER/${INDICATOR[$LAYER]}" PLACEMAP_ZMIN=5 PLACEMAP_ZMAX=10 \
      PLACEMAP_STYLES=$UNCACHED_STYLES PLACEMAP_THREADS=1 \
      wrk -t1 -c"$conns" -d"${DUR}s" -s "$ROOT/bench/lua/uncached.lua" "http://$ADDR" >"$OUT/two_wrk.txt"
    s1=$(cpu_ticks)
    rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$OUT/two_wrk.txt")
    eval "rate$conns=$rate"
    line="$line | $conns connection(s): $rate tiles/s, server $(echo "scale=2; ($s1 - $s0) / $CLK_TCK / $DUR" | bc) cores"
  done
  echo "${line# | } | 2 vs 1: $(echo "scale=2; $rate2 / $rate1" | bc)x"
done
