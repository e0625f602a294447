#!/usr/bin/env python3
"""Peer of the dataset upload bench (issue 16): pandas reading the 32,844-row IMD 2019 LSOA table
and GeoPandas merging it onto the LSOA 2011 boundaries, already loaded (as placemap's server has
them). Times read_csv + merge only (no detection, no join report, nothing stored); prints every
run and the median.
usage: datasets_upload_geopandas.py [DATA_DIR] [RUNS]"""
import os, statistics, sys, time

import geopandas as gpd
import pandas as pd

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
lsoa = gpd.read_file(os.path.join(data, "lsoa_2011_england_generalised_wgs84.geojson"))
table = os.path.join(data, "imd2019_lsoa_file1_imd.csv")
times = []
for _ in range(runs):
    t = time.perf_counter()
    df = pd.read_csv(table, thousands=",", encoding="utf-8-sig")
    merged = lsoa.merge(df, left_on="lsoa11cd", right_on="LSOA code (2011)", how="left")
    times.append(time.perf_counter() - t)
    matched = merged["Index of Multiple Deprivation (IMD) Rank"].notna().sum()
    assert len(df) == 32844 and matched == 32844, (len(df), matched)
print("geopandas %s pandas %s read_csv+merge imd2019 lsoa runs_s %s median_s %.3f min_s %.3f"
      % (gpd.__version__, pd.__version__, " ".join("%.3f" % t for t in times), statistics.median(times), min(times)))
