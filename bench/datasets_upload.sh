#!/usr/bin/env bash
# Uploaded datasets (issue 16): (a) upload, detection and join of the 32,844-row LSOA table
# (IMD 2019 File 1) to a running server (every catalogue layer loaded), then the first PNG tile
# of the new dataset; (b) server start-up to /health with an empty state directory vs one holding
# 100 stored datasets (added with `placemap datasets add`). Prints every run and the medians.
# Usage: bench/datasets_upload.sh   (env: RUNS [5], ADDR, BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc; need jq
RUNS=${RUNS:-5}
TOKEN=bench-token
export PLACEMAP_TOKEN=$TOKEN
TABLE="$DATA/imd2019_lsoa_file1_imd.csv"
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }
minmax() { sort -n | awk '{ v[NR] = $1 } END { printf "min %.3f max %.3f", v[1], v[NR] }'; }

# start_with STATE: the release server on $ADDR with STATE as its state directory; prints the
# seconds from exec to the first /health answer.
start_with() {
  local started
  started=$(date +%s.%N)
  (cd "$ROOT" && exec "$BIN" --quiet --data "$DATA" --state "$1" serve --addr "$ADDR") \
    >"$OUT/server.out" 2>"$OUT/server.err" &
  SERVER_PID=$!
  trap stop_server EXIT
  until curl -sf "http://$ADDR/health" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: server exited:" >&2; cat "$OUT/server.err" >&2; exit 1; }
    sleep 0.01
  done
  echo "$(date +%s.%N) - $started" | bc
}

echo "== (a) upload + first tile of a 32,844-row LSOA table: $(loadavg)"
STATE=$(mktemp -d)
start_with "$STATE" >/dev/null
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

echo "== (b) start-up with 0 and 100 stored datasets: $(loadavg)"
EMPTY=$(mktemp -d)
FULL=$(mktemp -d)
PAY="$DATA/els_median_weekly_pay_2008_2022_lad21.csv"
added=$(date +%s.%N)
for i in $(seq 1 100); do
  (cd "$ROOT" && "$BIN" --quiet --data "$DATA" --state "$FULL" datasets add "$PAY" --id "pay$i" --layers lad21 >/dev/null)
done
echo "100 datasets added with placemap datasets add in $(echo "$(date +%s.%N) - $added" | bc) s ($(du -sh "$FULL" | cut -f1) state)"
empty=(); full=()
for i in $(seq 1 "$RUNS"); do
  e=$(start_with "$EMPTY"); stop_server
  f=$(start_with "$FULL")
  n=$(curl -s "http://$ADDR/datasets" | jq '.datasets | length')
  stop_server
  [ "$n" = 100 ] || { echo "bench: the server lists $n datasets, not 100" >&2; exit 1; }
  echo "run $i: /health after ${e} s empty, ${f} s with 100 datasets"
  empty+=("$e"); full+=("$f")
done
rm -rf "$EMPTY" "$FULL"
me=$(printf '%s\n' "${empty[@]}" | median); mf=$(printf '%s\n' "${full[@]}" | median)
echo "DATASETS_STARTUP empty median $me s ($(printf '%s\n' "${empty[@]}" | minmax)), 100 datasets median $mf s ($(printf '%s\n' "${full[@]}" | minmax)), added $(echo "$mf - $me" | bc) s, $RUNS runs"
echo "== $(loadavg)"
