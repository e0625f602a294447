#!/usr/bin/env python3
"""Peer timings for benches/analysis.rs: GeoPandas sjoin of LSOA representative points into
LAD 2019 polygons + groupby mean, libpysal Queen on the LSOAs, esda Moran(permutations=999)."""
import os, sys, time
import esda, geopandas as gpd, libpysal, numpy as np, pandas as pd

DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PLACEMAP_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data"))
lad = gpd.read_file(os.path.join(DATA, "lad_2019_uk_generalised_wgs84.geojson"))[["lad19cd", "geometry"]]
lsoa = gpd.read_file(os.path.join(DATA, "lsoa_2011_england_generalised_wgs84.geojson"))[["lsoa11cd", "geometry"]]
f1 = pd.read_csv(os.path.join(DATA, "imd2019_lsoa_file1_imd.csv"), encoding="utf-8-sig", thousands=",")
lsoa = lsoa.merge(f1[["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"]], left_on="lsoa11cd", right_on="LSOA code (2011)")
y = lsoa["Index of Multiple Deprivation (IMD) Rank"].to_numpy(dtype=float)

def best(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts), sorted(ts)[len(ts) // 2]

def spatial():
    pts = gpd.GeoDataFrame({"lsoa11cd": lsoa["lsoa11cd"], "v": y}, geometry=lsoa.representative_point(), crs=lsoa.crs)
    j = gpd.sjoin(pts, lad, predicate="within", how="left")
    return j.groupby("lad19cd")["v"].mean()
print("sjoin+groupby (min, median s):", best(spatial, 5))
print("Queen.from_dataframe (min, median s):", best(lambda: libpysal.weights.Queen.from_dataframe(lsoa, use_index=False, silence_warnings=True), 3))
w = libpysal.weights.Queen.from_dataframe(lsoa, use_index=False, silence_warnings=True); w.transform = "r"
def moran():
    np.random.seed(1); return esda.Moran(y, w, permutations=999)
print("esda Moran 999 (min, median s):", best(moran, 3), "I =", moran().I)
