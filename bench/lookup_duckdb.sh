#!/usr/bin/env bash
# Batch lookups against the strongest peer (issue 13): 1 M random points over England joined to
# LSOA 2011 and LAD 2019, end to end (start, load, join, write a CSV), `placemap lookup --points`
# against DuckDB 1.4 + spatial (bench/duckdb_lookup.py), alternated run by run by hyperfine.
#
#   bench/lookup_duckdb.sh            # needs target/release/placemap and pip duckdb==1.4.4 duckdb-ext-spatial
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${PLACEMAP_DATA:-$here/../shared/data}
bin=${PLACEMAP_BIN:-$here/target/release/placemap}
work=${TMPDIR:-/tmp}/placemap-lookup-bench
mkdir -p "$work"
pts=$work/points.csv
if [ ! -s "$pts" ]; then
  python3 - "$pts" <<'PY'
import random, sys
random.seed(20261130)
with open(sys.argv[1], "w") as f:
    f.write("id,lon,lat\n")
    for i in range(1_000_000):
        f.write(f"{i},{random.uniform(-5.7, 1.77):.6f},{random.uniform(49.96, 55.8):.6f}\n")
PY
fi
# Alternated run by run (A B A B ...) with the ratio taken pair by pair: farm-bench --vs where it
# is installed (the farm's timing tool), else hyperfine (sequential runs).
for spec in "lsoa11 lsoa_2011_england_generalised_wgs84.geojson lsoa11cd" "lad19 lad_2019_uk_generalised_wgs84.geojson lad19cd"; do
  set -- $spec
  mine="$bin --quiet --data $data --state $work/state lookup --layer $1 --points $pts"
  peer="python3 $here/bench/duckdb_lookup.py $data/$2 $3 $pts $work/duckdb-$1.csv"
  echo "== $1: placemap vs DuckDB, 1 M points"
  if command -v farm-bench >/dev/null 2>&1; then
    farm-bench -n "${RUNS:-5}" --timeout 900 --vs "sh -c 'exec $peer'" -- sh -c "exec $mine > $work/placemap-$1.csv"
  else
    hyperfine --warmup 1 --runs "${RUNS:-5}" -n "placemap $1" "$mine > $work/placemap-$1.csv" -n "duckdb $1" "$peer"
  fi
done
# The answers agree: placemap's district for every point is among DuckDB's (which returns two
# rows for points where source polygons overlap), and points outside every district are
# outside in both.
for layer in lsoa11 lad19; do
  python3 - "$work/placemap-$layer.csv" "$work/duckdb-$layer.csv" "$layer" <<'PY'
import csv, sys
mine, peer, layer = sys.argv[1:4]
theirs = {}
with open(peer, newline="") as f:
    for r in csv.DictReader(f):
        theirs.setdefault(r["id"], set()).add(r["area_code"] or "")
n = differ = 0
with open(mine, newline="") as f:
    for r in csv.DictReader(f):
        n += 1
        if (r[f"{layer}_code"] or "") not in theirs.get(r["id"], set()):
            differ += 1
double = sum(1 for v in theirs.values() if len(v) > 1)
print(f"{layer}: {n} points, placemap's answer not among DuckDB's for {differ}; DuckDB gives two districts for {double}")
sys.exit(1 if differ else 0)
PY
done
