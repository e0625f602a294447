#!/usr/bin/env python3
"""Independent checks of placemap's geometry output, run by the end-to-end tests.

    check_geometry.py mvt DIR        # DIR/manifest.json lists tiles and their feature counts
    check_geometry.py geojson FILE.. # RFC 7946 FeatureCollections

mvt: each tile is read with the protobuf schema of mapbox_vector_tile (not placemap's encoder)
and its command stream decoded strictly per MVT 2.1 section 4.3 here; every ring must start
with MoveTo(1) and end with ClosePath, repeat no point (closing point included), have a non-zero
area; the first ring of a feature must be an exterior (positive surveyor's area in tile
coordinates, y down), holes negative; each feature, assembled as the spec says, must be valid
for GEOS (shapely.is_valid). Then GDAL's MVT driver (ogrinfo) reads the tiles: tiles marked
"exact" one by one with CLIP=NO, where it must return every feature placemap says it encoded;
and every zoom level of every layer as a tileset directory with GDAL's default options (the
way users read them: features clipped to their tile), where it must return, without any error,
each feature with some area inside its tile (computed here with GEOS), and no other feature but
those touching the tile's edge (GDAL keeps some of these).

geojson: every feature's (Multi)Polygon must be valid for GEOS, its rings closed, exteriors
counter-clockwise and holes clockwise (RFC 7946 section 3.1.6). The summary counts the
features of each file.

Prints a JSON summary; exits 1 if any problem was found, 2 if a tool is missing.
"""

import json
import os
import subprocess
import sys
from multiprocessing import Pool

try:
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, shape
    from mapbox_vector_tile.Mapbox import vector_tile_pb2
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(json.dumps({"missing": str(e)}))
    sys.exit(2)

MAX_PROBLEMS = 40


def zigzag(n):
    return (n >> 1) ^ -(n & 1)


def decode_rings(geom):
    """Rings of a polygon feature (lists of (x, y)), strictly per MVT 2.1 section 4.3."""
    i, x, y = 0, 0, 0
    rings, cur = [], None
    while i < len(geom):
        cmd, count = geom[i] & 7, geom[i] >> 3
        i += 1
        if cmd == 1:
            if count != 1 or cur is not None:
                raise ValueError(f"MoveTo with count {count} or inside an open ring")
            x, y = x + zigzag(geom[i]), y + zigzag(geom[i + 1])
            i += 2
            cur = [(x, y)]
        elif cmd == 2:
            if cur is None or count < 1:
                raise ValueError("LineTo without MoveTo")
            for _ in range(count):
                dx, dy = zigzag(geom[i]), zigzag(geom[i + 1])
                i += 2
                if dx == 0 and dy == 0:
                    raise ValueError(f"LineTo repeats point {(x, y)}")
                x, y = x + dx, y + dy
                cur.append((x, y))
        elif cmd == 7:
            if count != 1 or cur is None:
                raise ValueError("ClosePath outside a ring")
            rings.append(cur)
            cur = None
        else:
            raise ValueError(f"unknown command {cmd}")
    if cur is not None:
        raise ValueError("ring not ended by ClosePath")
    return rings


def surveyor(ring):
    a = 0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        a += x0 * y1 - x1 * y0
    return a


def check_tile(entry_and_dir):
    entry, root = entry_and_dir
    name = entry["path"]
    problems = []
    path = os.path.join(root, name)
    with open(path, "rb") as f:
        data = f.read()
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(data)
    decoded = 0
    in_tile = 0
    touching = 0
    square = shapely.box(0, 0, 4096, 4096)
    for layer in tile.layers:
        for feat in layer.features:
            decoded += 1
            where = f"{name} feature {feat.id}"
            if feat.type != 3:
                problems.append(f"{where}: type {feat.type}, not a polygon")
                continue
            try:
                rings = decode_rings(feat.geometry)
            except (ValueError, IndexError) as e:
                problems.append(f"{where}: {e}")
                continue
            polygons = []
            for k, ring in enumerate(rings):
                if len(ring) < 3:
                    problems.append(f"{where} ring {k}: {len(ring)} points")
                    continue
                if ring[0] == ring[-1]:
                    problems.append(f"{where} ring {k}: repeats its first point at the end")
                a = surveyor(ring)
                if a == 0:
                    problems.append(f"{where} ring {k}: zero area")
                elif a > 0:
                    polygons.append([ring, []])
                elif not polygons:
                    problems.append(f"{where}: first ring is not an exterior (negative area)")
                else:
                    polygons[-1][1].append(ring)
            if not polygons:
                problems.append(f"{where}: no exterior ring")
                continue
            geom = MultiPolygon([Polygon(e, h) for e, h in polygons])
            if not shapely.is_valid(geom):
                problems.append(f"{where}: GEOS: {shapely.is_valid_reason(geom)}")
            else:
                cut = shapely.intersection(geom, square)
                if cut.area > 0:
                    in_tile += 1
                elif not cut.is_empty:
                    touching += 1
    if decoded != entry["features"]:
        problems.append(f"{name}: decoded {decoded} features, placemap encoded {entry['features']}")
    if entry.get("exact") and entry["features"] > 0:
        run = subprocess.run(
            ["ogrinfo", "-ro", "-al", "-oo", "CLIP=NO", "-fields=NO", "-geom=SUMMARY", path],
            capture_output=True,
            text=True,
        )
        gdal = sum(1 for line in run.stdout.splitlines() if line.startswith("OGRFeature("))
        if run.returncode != 0 or "ERROR" in run.stderr or "Exception" in run.stderr:
            problems.append(f"{name}: ogrinfo: {run.returncode} {run.stderr.strip()[:300]}")
        if gdal != entry["features"]:
            problems.append(f"{name}: GDAL read {gdal} features, placemap encoded {entry['features']}")
    return decoded, (in_tile, touching), problems


def check_tileset(job):
    """GDAL reads one zoom level of one layer as a tileset, default options."""
    root, zoom_dir, (in_tile, touching) = job
    run = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-fields=NO", "-geom=SUMMARY", os.path.join(root, zoom_dir)],
        capture_output=True,
        text=True,
    )
    got = sum(1 for line in run.stdout.splitlines() if line.startswith("OGRFeature("))
    problems = []
    if run.returncode != 0 or "ERROR" in run.stderr or "Exception" in run.stderr:
        problems.append(f"{zoom_dir}: ogrinfo: {run.returncode} {run.stderr.strip()[:300]}")
    if not in_tile <= got <= in_tile + touching:
        problems.append(
            f"{zoom_dir} as a tileset: GDAL read {got} features; {in_tile} have area in their "
            f"tile, {touching} more touch its edge"
        )
    return problems


def check_mvt(root):
    with open(os.path.join(root, "manifest.json")) as f:
        entries = json.load(f)
    with Pool(min(2, os.cpu_count() or 1)) as pool:
        results = pool.map(check_tile, [(e, root) for e in entries], chunksize=4)
        expected = {}
        for e, (_, (in_tile, touching), _) in zip(entries, results):
            zoom_dir = "/".join(e["path"].split("/")[:2])
            a, b = expected.get(zoom_dir, (0, 0))
            expected[zoom_dir] = (a + in_tile, b + touching)
        tilesets = pool.map(check_tileset, [(root, d, n) for d, n in sorted(expected.items())])
    problems = [p for _, _, ps in results for p in ps] + [p for ps in tilesets for p in ps]
    worst = sorted(
        ((len(ps), e["path"]) for e, (_, _, ps) in zip(entries, results) if ps), reverse=True
    )
    return {
        "tiles": len(entries),
        "features": sum(d for d, _, _ in results),
        "features_in_tile": sum(n for _, (n, _), _ in results),
        "tilesets": len(tilesets),
        "problems": len(problems),
        "examples": problems[:MAX_PROBLEMS],
        "problems_per_tile": {path: n for n, path in worst[:MAX_PROBLEMS]},
        "problems_in_reported_tiles": {
            e["path"]: len(ps) for e, (_, _, ps) in zip(entries, results) if e.get("reported")
        },
    }


def check_geojson_file(path):
    """(features, problems) of one FeatureCollection: read by GEOS's own GeoJSON reader (a ring
    that is not closed fails there), then checked vectorised (a Python loop over every vertex of
    a 33k-feature layer at 16 zooms would take minutes)."""
    import numpy as np

    name = os.path.basename(path)
    with open(path) as f:
        text = f.read()
    try:
        geoms = shapely.get_parts(shapely.from_geojson(text))
    except Exception as e:  # GEOS names the problem (unclosed ring, bad coordinates...)
        return 0, [f"{name}: GEOS cannot read it: {e}"]
    ids = None

    def where(i):
        nonlocal ids
        if ids is None:
            ids = [f.get("id") for f in json.loads(text)["features"]]
        return f"{name} {ids[i] if i < len(ids) else i}"

    problems = []
    for i in np.flatnonzero(~shapely.is_valid(geoms)):
        problems.append(f"{where(i)}: GEOS: {shapely.is_valid_reason(geoms[i])}")
    polys, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_owner = shapely.get_rings(polys, return_index=True)
    first = np.ones(len(rings), dtype=bool)
    first[1:] = ring_owner[1:] != ring_owner[:-1]
    ccw = shapely.is_ccw(rings)
    for k in np.flatnonzero(ccw != first):
        what = "exterior" if first[k] else "hole"
        problems.append(f"{where(owner[ring_owner[k]])}: {what} wound the wrong way (RFC 7946)")
    return len(geoms), problems


def check_geojson(paths):
    with Pool(os.cpu_count() or 1) as pool:
        results = pool.map(check_geojson_file, paths, chunksize=1)
    problems = [p for _, ps in results for p in ps]
    return {
        "files": len(paths),
        "features": sum(n for n, _ in results),
        "features_per_file": {os.path.basename(p): n for p, (n, _) in zip(paths, results)},
        "problems": len(problems),
        "examples": problems[:MAX_PROBLEMS],
    }


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("mvt", "geojson"):
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    if sys.argv[1] == "mvt":
        from shutil import which

        if which("ogrinfo") is None:
            print(json.dumps({"missing": "ogrinfo (gdal-bin)"}))
            sys.exit(2)
        summary = check_mvt(sys.argv[2])
    else:
        summary = check_geojson(sys.argv[2:])
    print(json.dumps(summary, indent=1))
    sys.exit(1 if summary["problems"] else 0)


if __name__ == "__main__":
    main()
