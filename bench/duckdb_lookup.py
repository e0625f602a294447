#!/usr/bin/env python3
"""The batch-lookup peer of `placemap lookup --points` (issue 13): DuckDB 1.4 with its spatial
extension reads the boundary layer and a CSV of points, joins them with ST_Contains and writes a
CSV, end to end, as an analyst would.

    python3 bench/duckdb_lookup.py LAYER.geojson CODE_FIELD POINTS.csv OUT.csv

The extension is loaded from the file the pip package `duckdb-ext-spatial` installs (no network).
"""
import glob
import os
import site
import sys

import duckdb


def extension_path():
    for root in [site.getusersitepackages(), *site.getsitepackages()]:
        found = glob.glob(os.path.join(root, "duckdb_ext", "extensions", "*", "*", "spatial.duckdb_extension"))
        if found:
            return found[0]
    sys.exit("spatial.duckdb_extension not found: pip install duckdb==1.4.4 duckdb-ext-spatial")


def main():
    layer, code, points, out = sys.argv[1:5]
    con = duckdb.connect()
    con.execute(f"LOAD '{extension_path()}'")
    con.execute(f"CREATE TABLE areas AS SELECT {code} AS code, geom FROM ST_Read('{layer}')")
    con.execute(f"CREATE TABLE pts AS SELECT *, ST_Point(lon, lat) AS pt FROM read_csv('{points}')")
    con.execute(
        f"COPY (SELECT pts.* EXCLUDE (pt), areas.code AS area_code FROM pts "
        f"LEFT JOIN areas ON ST_Contains(areas.geom, pts.pt)) TO '{out}' (HEADER)"
    )


if __name__ == "__main__":
    main()
