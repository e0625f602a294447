#!/usr/bin/env bash
# Vector tiles: placemap's encoder against GDAL's MVT writer (ogr2ogr -f MVT) on the same tiles.
# 1. GDAL writes the z5..z10 pyramid of LAD 2019 and of LSOA 2011 (code and name only,
#    uncompressed, directory output); hyperfine times the whole ogr2ogr run (3 runs).
# 2. The tiles GDAL wrote are listed (z x y) and placemap encodes exactly those, single thread,
#    through the server's own routes::vector::encode (criterion, crates/tile-server/benches/vector_tiles.rs).
# Compare tiles per second: GDAL's is tiles written / wall time of the whole run (it reads the
# GeoJSON too, and uses more than one thread); its CPU time is printed as well.
# Usage: bench/mvt_gdal.sh   (env: OUT, DATA)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need ogr2ogr; need hyperfine
echo "== mvt: $(loadavg); $(ogr2ogr --version)"
for spec in "lad19 lad_2019_uk_generalised_wgs84.geojson lad19cd,lad19nm" \
            "lsoa11 lsoa_2011_england_generalised_wgs84.geojson lsoa11cd,lsoa11nm"; do
  read -r layer file fields <<<"$spec"
  dir=$OUT/mvt_gdal_$layer
  cmd="rm -rf $dir && ogr2ogr -f MVT $dir $DATA/$file -dsco MINZOOM=5 -dsco MAXZOOM=10 -dsco FORMAT=DIRECTORY -dsco COMPRESS=NO -select $fields"
  hyperfine --runs 3 --export-json "$OUT/mvt_gdal_$layer.json" "$cmd" | sed 's/^/  /'
  (cd "$dir" && find . -name '*.pbf' | sed -E 's#^\./([0-9]+)/([0-9]+)/([0-9]+)\.pbf$#\1 \2 \3#' | sort) >"$OUT/mvt_tiles_$layer.txt"
  n=$(wc -l <"$OUT/mvt_tiles_$layer.txt")
  python3 - "$OUT/mvt_gdal_$layer.json" "$n" "$layer" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
n = int(sys.argv[2])
print(f"GDAL {sys.argv[3]}: {n} tiles, median wall {r['median']:.3f} s = {n / r['median']:.0f} tiles/s; "
      f"mean CPU user+sys {r['user'] + r['system']:.3f} s = {n / (r['user'] + r['system']):.0f} tiles/CPU-s")
PY
done
echo "-- placemap: $(loadavg)"
(cd "$ROOT" && PLACEMAP_MVT_TILES_LAD19=$OUT/mvt_tiles_lad19.txt PLACEMAP_MVT_TILES_LSOA11=$OUT/mvt_tiles_lsoa11.txt \
  cargo bench -p tile-server --bench vector_tiles 2>&1 | grep -E "tiles,|mvt_encode|thrpt|time:")
echo "== end: $(loadavg)"
