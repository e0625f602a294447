#!/usr/bin/env bash
# Static maps (issue 4): `placemap render` (release, whole process: catalogue, layer, joins, zoom
# bands, derived indicators, figure, PNG) of England at 1600 x 1600 px for LAD 2019 and LSOA 2011,
# against ../shared/bench/geopandas_static.py (GeoPandas plot + matplotlib savefig, 8 in at
# 200 dpi = 1600 px, imports included) in the same hyperfine run.
# Usage: bench/static_maps.sh   (env: RUNS [5], BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need hyperfine
RUNS=${RUNS:-5}
PEER=${PEER:-$ROOT/../shared/bench/geopandas_static.py}
cd "$ROOT"
echo "== static maps: $(loadavg)"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/static_lad19.json" \
  -n placemap_lad19 "$BIN --quiet --data $DATA render --layer lad19 --indicator imd_score --width 1600 --height 1600 --out $OUT/placemap_lad19.png" \
  -n geopandas_lad19 "python3 $PEER $DATA/lad_2019_uk_generalised_wgs84.geojson lad19cd $DATA/imd2019_lad_summaries_file10.csv 'Local Authority District code (2019)' 'IMD - Average score' $OUT/gp_lad19.png"
echo "== $(loadavg)"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/static_lsoa11.json" \
  -n placemap_lsoa11 "$BIN --quiet --data $DATA render --layer lsoa11 --indicator imd_decile --width 1600 --height 1600 --out $OUT/placemap_lsoa11.png" \
  -n geopandas_lsoa11 "python3 $PEER $DATA/lsoa_2011_england_generalised_wgs84.geojson lsoa11cd $DATA/imd2019_lsoa_file1_imd.csv 'LSOA code (2011)' 'Index of Multiple Deprivation (IMD) Decile' $OUT/gp_lsoa11.png"
echo "== $(loadavg)"
python3 - "$OUT/static_lad19.json" "$OUT/static_lsoa11.json" <<'PY'
import json, statistics, sys
for f in sys.argv[1:]:
    r = {b["command"]: statistics.median(b["times"]) for b in json.load(open(f))["results"]}
    (a, pa), (b, pb) = r.items()
    print("STATIC %s median %.3f s, %s median %.3f s, ratio %.1fx" % (a, pa, b, pb, pb / pa))
PY
