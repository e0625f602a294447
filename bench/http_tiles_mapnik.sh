#!/usr/bin/env bash
# Uncached PNG tiles over HTTP against Mapnik (issue 11): a fresh server (every layer, its
# per-zoom geometry ready), the seeded England z5-z10 list (crates/choropleth/benches/
# tiles_z5_z10.txt, the 329 tiles of ../shared/bench/mapnik_tiles.py ... 5 10 120), one
# keep-alive connection (one curl reading the URL list), each tile asked once; then two
# connections (two curls, half the list each, on a fresh server). The style is Mapnik's: OrRd,
# the same 5 classes (LAD: quantiles of the IMD 2019 score; LSOA: IMD deciles paired), districts
# without a class not drawn (nodata=none). Mapnik renders the same tiles in process, single
# thread, in the same run, alternated with placemap.
# Usage: [RUNS=3] bash bench/http_tiles_mapnik.sh   (Debian python3-mapnik; ../shared/bench/prep_peers.sh
#        is run first when its shapefiles are missing)
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
source "$(dirname "$0")/lib.sh"
need curl; need bc
RUNS=${RUNS:-3}
PEERS=$ROOT/../shared/bench
TILES=$ROOT/crates/choropleth/benches/tiles_z5_z10.txt
[ -f "$OUT/lsoa11_3857.shp" ] || OUT=$OUT bash "$PEERS/prep_peers.sh"
N=$(wc -l <"$TILES")

# urls LAYER PART: curl config, one `url`/`output` pair per tile (PART: all, odd or even lines).
urls() {
  local style=${MAPNIK_STYLE[$1]}
  awk -v base="http://$ADDR/tiles/$1/" -v s="$style" -v part="$2" '
    part == "all" || (part == "odd" && NR % 2 == 1) || (part == "even" && NR % 2 == 0) {
      t = $1 "/" $2 "/" $3; u = s; sub(/\{\}/, t, u)
      printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, u
    }' "$TILES"
}

# placemap LAYER CONNS: tiles/s over CONNS keep-alive connections on a fresh server.
placemap() {
  local state codes t0 t1
  state=$(mktemp -d)
  start_server --state "$state" >/dev/null
  geometry_ready
  codes=$(mktemp)
  t0=$(date +%s.%N)
  if [ "$2" = 1 ]; then
    curl -s -K <(urls "$1" all) -w '%{http_code}\n' >"$codes"
  else
    curl -s -K <(urls "$1" odd) -w '%{http_code}\n' >"$codes.1" &
    local other=$!
    curl -s -K <(urls "$1" even) -w '%{http_code}\n' >"$codes.2"
    wait "$other" # (not a bare `wait`: the server is a background job of this shell too)
    cat "$codes.1" "$codes.2" >"$codes"
  fi
  t1=$(date +%s.%N)
  stop_server
  local ok
  ok=$(grep -c '^200$' "$codes" || true)
  [ "$ok" = "$N" ] || { echo "bench: $ok of $N tiles answered 200" >&2; exit 1; }
  rm -rf "$state" "$codes" "$codes".*
  echo "scale=1; $N / ($t1 - $t0)" | bc
}

mapnik() {
  /usr/bin/python3 "$PEERS/mapnik_tiles.py" "$OUT/$1_3857.shp" 5 10 120 | awk '{print $6}'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "$N tiles, $RUNS rounds; $(loadavg)"
for layer in lad19 lsoa11; do
  m=""; p1=""; p2=""
  for _ in $(seq 1 "$RUNS"); do
    m="$m $(mapnik "$layer")"
    p1="$p1 $(placemap "$layer" 1)"
    p2="$p2 $(placemap "$layer" 2)"
  done
  mm=$(median <<<"$m"); pm1=$(median <<<"$p1"); pm2=$(median <<<"$p2")
  echo "$layer: Mapnik$m (median $mm tiles/s) | placemap 1 connection$p1 (median $pm1, $(echo "scale=2; $pm1 / $mm" | bc)x Mapnik) | 2 connections$p2 (median $pm2, $(echo "scale=2; $pm2 / $pm1" | bc)x one)"
done
echo "$(loadavg)"
