#!/usr/bin/env bash
# Uploaded datasets (issue 16): (a) upload, detection and join of the 32,844-row LSOA table
# (IMD 2019 File 1) to a running server (every catalogue layer loaded), then the first PNG tile
# of the new dataset; (b) server start-up to /health with an empty state directory vs one holding
# 100 stored datasets (added with `placemap datasets add`). Prints every run and the medians.
# Usage: bench/datasets_upload.sh   (env: RUNS [5], PARTS [ab], STARTUP_TABLES, ADDR, BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc; need jq
RUNS=${RUNS:-5}
PARTS=${PARTS:-ab}   # a: upload + first tile; b: start-up with 100 datasets
TOKEN=bench-token
export PLACEMAP_TOKEN=$TOKEN
TABLE="$DATA/imd2019_lsoa_file1_imd.csv"
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }
minmax() { sort -n | awk '{ v[NR] = $1 } END { printf "min %.3f max %.3f", v[1], v[NR] }'; }

# start_with STATE: the release server on $ADDR with STATE as its state directory; sets UP to
# the seconds from exec to the first /health answer.
start_with() {
  local started
  started=$(date +%s.%N)
  (cd "$ROOT" && RUST_LOG=info exec "$BIN" --data "$DATA" --state "$1" serve --addr "$ADDR") \
    >"$OUT/server.out" 2>"$OUT/server.err" &
  SERVER_PID=$!
  trap stop_server EXIT
  until curl -sf "http://$ADDR/health" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: server exited:" >&2; cat "$OUT/server.err" >&2; exit 1; }
    sleep 0.01
  done
  UP=$(echo "$(date +%s.%N) - $started" | bc)
  # The server's own log of applying the stored datasets (ms), the part that grows with them.
  APPLIED=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/server.err" | grep -o 'datasets applied.*ms=[0-9.]*' | grep -o 'ms=[0-9.]*' | cut -d= -f2 | tail -1 || true)
}

if [[ $PARTS == *a* ]]; then
echo "== (a) upload + first tile of a 32,844-row LSOA table: $(loadavg)"
STATE=$(mktemp -d)
start_with "$STATE"
up=(); tile=()
for i in $(seq 1 "$RUNS"); do
  t=$(curl -s -o "$OUT/upload.json" -w '%{time_total}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
    --data-binary "@$TABLE" "http://$ADDR/datasets?id=imd19_run$i")
  layer=$(jq -r .layer "$OUT/upload.json")
  ind=$(jq -r '.indicators[0].id' "$OUT/upload.json")
  rows=$(jq -r .rows "$OUT/upload.json")
  matched=$(jq -r .join.matched "$OUT/upload.json")
  [ "$layer" = lsoa11 ] && [ "$rows" = 32844 ] || { echo "bench: unexpected answer:" >&2; head -c 600 "$OUT/upload.json" >&2; exit 1; }
  # The first tile of the new indicator (never rendered before, so not cached).
  code=$(curl -s -o "$OUT/tile.png" -w '%{http_code} %{time_total}' "http://$ADDR/tiles/$layer/$ind/6/31/20.png")
  [ "${code%% *}" = 200 ] || { echo "bench: tile answered $code" >&2; exit 1; }
  echo "run $i: upload ${t} s ($rows rows, layer $layer, $matched matched), first tile /tiles/$layer/$ind/6/31/20.png ${code#* } s"
  up+=("$t"); tile+=("${code#* }")
done
stop_server
rm -rf "$STATE"
echo "DATASETS_UPLOAD median $(printf '%s\n' "${up[@]}" | median) s ($(printf '%s\n' "${up[@]}" | minmax)), first tile median $(printf '%s\n' "${tile[@]}" | median) s ($(printf '%s\n' "${tile[@]}" | minmax)), $RUNS runs"
fi

# startup_with_100 TABLE: start-up to /health, empty state vs 100 stored copies of TABLE.
startup_with_100() {
  local table="$DATA/$1" empty full e f n me mf
  echo "== (b) start-up with 0 and 100 stored datasets of $1: $(loadavg)"
  empty=$(mktemp -d); full=$(mktemp -d)
  local added; added=$(date +%s.%N)
  for i in $(seq 1 100); do
    (cd "$ROOT" && "$BIN" --quiet --data "$DATA" --state "$full" datasets add "$table" --id "d$i" --layers lad21 >/dev/null 2>&1)
  done
  echo "100 datasets added with placemap datasets add in $(echo "$(date +%s.%N) - $added" | bc) s ($(du -sh "$full" | cut -f1) state)"
  local es=() fs=() ap=()
  for i in $(seq 1 "$RUNS"); do
    start_with "$empty"; e=$UP; stop_server
    start_with "$full"; f=$UP; ap+=("$APPLIED")
    n=$(curl -s "http://$ADDR/datasets" | jq '.datasets | length')
    stop_server
    [ "$n" = 100 ] || { echo "bench: the server lists $n datasets, not 100" >&2; exit 1; }
    echo "run $i: /health after ${e} s empty, ${f} s with 100 datasets (applying them: ${APPLIED} ms)"
    es+=("$e"); fs+=("$f")
  done
  rm -rf "$empty" "$full"
  me=$(printf '%s\n' "${es[@]}" | median); mf=$(printf '%s\n' "${fs[@]}" | median)
  echo "DATASETS_STARTUP $1: empty median $me s ($(printf '%s\n' "${es[@]}" | minmax)), 100 datasets median $mf s ($(printf '%s\n' "${fs[@]}" | minmax)), added $(echo "$mf - $me" | bc) s; applying the 100 datasets (server log) median $(printf '%s\n' "${ap[@]}" | median) ms ($(printf '%s\n' "${ap[@]}" | minmax)), $RUNS runs"
}

if [[ $PARTS == *b* ]]; then
  # A typical district table (374 rows, 35 value columns) and a large long one (6,527 rows of
  # every geography, 4 value columns x 21 periods).
  for t in ${STARTUP_TABLES:-lad21_pay_employment_timeseries_wide.csv els_median_weekly_pay_2008_2022_lad21.csv}; do
    startup_with_100 "$t"
  done
fi
echo "== $(loadavg)"
