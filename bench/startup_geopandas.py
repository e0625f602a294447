#!/usr/bin/env python3
"""Peer of the start-up bench (issue 2): GeoPandas reading LSOA 2011 England and LAD 2019, the
two files `districts::Atlas::load(&catalog, &["lsoa11", "lad19"])` loads, reprojects, joins and
indexes. One process, imports excluded; prints every run and the median of 5.
usage: startup_geopandas.py [DATA_DIR] [RUNS]"""
import os, statistics, sys, time

import geopandas as gpd

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
files = ["lsoa_2011_england_generalised_wgs84.geojson", "lad_2019_uk_generalised_wgs84.geojson"]
times = []
for _ in range(runs):
    t = time.perf_counter()
    frames = [gpd.read_file(os.path.join(data, f)) for f in files]
    times.append(time.perf_counter() - t)
    assert [len(f) for f in frames] == [32844, 382], [len(f) for f in frames]
print("geopandas %s read_file lsoa11+lad19 runs_s %s median_s %.3f min_s %.3f"
      % (gpd.__version__, " ".join("%.3f" % t for t in times), statistics.median(times), min(times)))
