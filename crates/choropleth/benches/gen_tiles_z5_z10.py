#!/usr/bin/env python3
"""Writes tiles_z5_z10.txt: the exact tile sample of shared/bench/mapnik_tiles.py
(England bbox, z5..z10, 120 tiles per zoom, random.Random(42).sample), one "z x y" per line,
in the order Mapnik renders them. Same code as mapnik_tiles.py (tile_range and the sampling loop)."""
import math, random, sys

BBOX = (-6.45, 49.85, 1.8, 55.85)  # England, lon/lat


def tile_range(z):
    def xy(lon, lat):
        n = 2 ** z
        x = int((lon + 180.0) / 360.0 * n)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
        return x, y
    x0, y1 = xy(BBOX[0], BBOX[1])
    x1, y0 = xy(BBOX[2], BBOX[3])
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def main():
    zmin, zmax, sample = 5, 10, 120
    tiles = []
    rnd = random.Random(42)
    for z in range(zmin, zmax + 1):
        t = tile_range(z)
        if sample and len(t) > sample:
            t = rnd.sample(t, sample)
        tiles += t
    out = sys.argv[1] if len(sys.argv) > 1 else "tiles_z5_z10.txt"
    with open(out, "w") as f:
        for z, x, y in tiles:
            f.write("%d %d %d\n" % (z, x, y))


if __name__ == "__main__":
    main()
