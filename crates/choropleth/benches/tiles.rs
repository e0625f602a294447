//! Tile rendering throughput on the peer benchmark's tile set (shared/bench/mapnik_tiles.py):
//! England z5..z10, 120 sampled tiles per zoom (tiles_z5_z10.txt, written by
//! gen_tiles_z5_z10.py with Mapnik's own code), OrRd 5 classes + 0.5 px white outline, 256 px,
//! R-tree query + render + PNG encode, one thread. LAD 2019 and LSOA 2011, classes as in
//! prep_peers.sh; districts without a class are not drawn (Mapnik has no rule for them).
//!
//! Two geometry variants: `raw` (full geometry, as Mapnik renders it) and `simplified`
//! (geo's Douglas-Peucker at 0.5 px per zoom, a stand-in for the server's per-zoom simplification).
//! Criterion's throughput is in tiles (elements) per second.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use choropleth::render::{
    Feature, Fill, Outline, PngEncoder, Rgba, TileRaster, TileRenderer, TileSize, TileStyle,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{BoundingRect, InteriorPoint, Simplify};
use geo_types::MultiPolygon;
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
use tile_math::{Bounds, TileId};

const ORRD: [Rgba; 5] = [
    Rgba(0xfe, 0xf0, 0xd9, 255),
    Rgba(0xfd, 0xcc, 0x8a, 255),
    Rgba(0xfc, 0x8d, 0x59, 255),
    Rgba(0xe3, 0x4a, 0x33, 255),
    Rgba(0xb3, 0x00, 0x00, 255),
];

type Envelopes = RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>;

struct Layer {
    name: &'static str,
    /// Geometry and class of every district that has a class, in file order.
    geoms: Vec<MultiPolygon<f64>>,
    classes: Vec<u8>,
    /// Per zoom 5..=10, Douglas-Peucker at 0.5 px.
    simplified: Vec<Vec<MultiPolygon<f64>>>,
    tree: Envelopes,
}

fn tiles() -> Vec<TileId> {
    test_support::tiles::peer_tiles()
}

fn load(
    name: &'static str,
    file: &str,
    key: &str,
    classes: &std::collections::HashMap<String, u8>,
) -> Layer {
    let dir = common::data_dir();
    let all = common::read_geojson(&dir.join(file), key).expect("boundaries read");
    let mut geoms = Vec::new();
    let mut cls = Vec::new();
    for d in all {
        if let Some(&c) = classes.get(&d.code) {
            geoms.push(d.mercator);
            cls.push(c);
        }
    }
    let simplified = (5u8..=10)
        .map(|z| {
            let eps = 0.5 * tile_math::metres_per_pixel(z);
            geoms.iter().map(|g| g.simplify(eps)).collect()
        })
        .collect();
    let tree = RTree::bulk_load(
        geoms
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let r = g.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    );
    Layer {
        name,
        geoms,
        classes: cls,
        simplified,
        tree,
    }
}

/// The peer's style: 0.5 px white outline at every zoom.
fn peer_style() -> TileStyle {
    TileStyle {
        outline: Some(Outline {
            colour: Rgba::WHITE,
            width_px: 0.5,
        }),
        ..TileStyle::for_zoom(8)
    }
}

struct Worker {
    renderer: TileRenderer,
    encoder: PngEncoder,
    hits: Vec<usize>,
}

impl Worker {
    fn new() -> Self {
        Worker {
            renderer: TileRenderer::new(TileSize::Standard),
            encoder: PngEncoder::new(),
            hits: Vec::new(),
        }
    }

    /// Query, render, encode one tile; returns the PNG and what kind of raster it was.
    fn tile(
        &mut self,
        layer: &Layer,
        t: TileId,
        simplified: bool,
        style: &TileStyle,
    ) -> (Vec<u8>, u8) {
        let b = t.mercator_bounds();
        self.hits.clear();
        self.hits.extend(
            layer
                .tree
                .locate_in_envelope_intersecting(&AABB::from_corners(
                    [b.min_x, b.min_y],
                    [b.max_x, b.max_y],
                ))
                .map(|g| g.data),
        );
        self.hits.sort_unstable();
        let geoms = if simplified {
            &layer.simplified[usize::from(t.z - 5)]
        } else {
            &layer.geoms
        };
        let feats = self.hits.iter().map(|&i| Feature {
            geometry: &geoms[i],
            fill: Fill::Solid(ORRD[usize::from(layer.classes[i])]),
            highlight: false,
        });
        let raster = self
            .renderer
            .render(b, feats, style)
            .expect("tile bounds are valid");
        let kind = match raster {
            TileRaster::Empty => 0,
            TileRaster::Flat(_) => 1,
            TileRaster::Pixels(_) => 2,
        };
        let png = self
            .encoder
            .encode_raster(&raster, TileSize::Standard)
            .expect("tile encodes");
        (png, kind)
    }
}

/// Before timing: the pixel at a district's interior point has the district's class colour.
fn check(layer: &Layer, wgs_points: &[(usize, f64, f64)]) {
    let mut w = Worker::new();
    for &(i, lon, lat) in wgs_points {
        // z14 (10 m pixels): even small LSOAs are many pixels wide there, so the pixel is
        // well inside the district, away from anti-aliased edges.
        let t = tile_math::tile_for_lonlat(lon, lat, 14);
        let (png, _) = w.tile(layer, t, false, &peer_style());
        let img = image::load_from_memory(&png)
            .expect("PNG decodes")
            .to_rgba8();
        let b: Bounds = t.mercator_bounds();
        let (mx, my) = tile_math::lonlat_to_mercator(lon, lat);
        let x = ((mx - b.min_x) / b.width() * 256.0) as u32;
        let y = ((b.max_y - my) / b.height() * 256.0) as u32;
        let c = ORRD[usize::from(layer.classes[i])];
        let p = img.get_pixel(x.min(255), y.min(255)).0;
        assert_eq!(
            p,
            [c.0, c.1, c.2, c.3],
            "{}: district {i} at ({lon},{lat})",
            layer.name
        );
    }
}

/// One untimed pass: tile kinds, PNG sizes, and render vs encode time (printed for the notes).
fn describe(layer: &Layer, tiles: &[TileId], simplified: bool) {
    let style = peer_style();
    let mut w = Worker::new();
    let mut kinds = [0usize; 3];
    let mut bytes = 0usize;
    let mut indexed = 0usize;
    let (mut t_render, mut t_encode) = (Duration::ZERO, Duration::ZERO);
    let mut per_zoom = [Duration::ZERO; 6];
    for &t in tiles {
        let b = t.mercator_bounds();
        let geoms = if simplified {
            &layer.simplified[usize::from(t.z - 5)]
        } else {
            &layer.geoms
        };
        let hits: Vec<usize> = {
            let mut h: Vec<usize> = layer
                .tree
                .locate_in_envelope_intersecting(&AABB::from_corners(
                    [b.min_x, b.min_y],
                    [b.max_x, b.max_y],
                ))
                .map(|g| g.data)
                .collect();
            h.sort_unstable();
            h
        };
        let feats = hits.iter().map(|&i| Feature {
            geometry: &geoms[i],
            fill: Fill::Solid(ORRD[usize::from(layer.classes[i])]),
            highlight: false,
        });
        let s = Instant::now();
        let raster = w.renderer.render(b, feats, &style).expect("valid bounds");
        let m = Instant::now();
        let png = w
            .encoder
            .encode_raster(&raster, TileSize::Standard)
            .expect("encodes");
        t_encode += m.elapsed();
        t_render += m - s;
        per_zoom[usize::from(t.z - 5)] += s.elapsed();
        kinds[match raster {
            TileRaster::Empty => 0,
            TileRaster::Flat(_) => 1,
            TileRaster::Pixels(_) => 2,
        }] += 1;
        if png[25] == 3 {
            indexed += 1;
        }
        bytes += png.len();
    }
    let n = tiles.len();
    println!(
        "{} {}: {} tiles: empty {} flat {} pixels {} (indexed PNG {}), mean {} bytes; render {:.1} ms + encode {:.1} ms",
        layer.name,
        if simplified { "simplified" } else { "raw" },
        n,
        kinds[0],
        kinds[1],
        kinds[2],
        indexed,
        bytes / n,
        t_render.as_secs_f64() * 1e3,
        t_encode.as_secs_f64() * 1e3,
    );
    let ms: Vec<String> = per_zoom
        .iter()
        .zip(5..)
        .map(|(d, z)| format!("z{z} {:.1}", d.as_secs_f64() * 1e3))
        .collect();
    println!("  render + encode ms per zoom: {}", ms.join(", "));
}

fn bench(c: &mut Criterion) {
    let tiles = tiles();
    assert_eq!(tiles.len(), 329, "the peer's tile list");
    let dir = common::data_dir();
    let lad_classes = common::lad_imd_classes(&dir).expect("LAD IMD");
    let lsoa_classes = common::lsoa_imd_classes(&dir).expect("LSOA IMD");
    let lad = load(
        "lad19",
        "lad_2019_uk_generalised_wgs84.geojson",
        "lad19cd",
        &lad_classes,
    );
    let lsoa = load(
        "lsoa11",
        "lsoa_2011_england_generalised_wgs84.geojson",
        "lsoa11cd",
        &lsoa_classes,
    );
    assert_eq!(lad.geoms.len(), 317);
    assert_eq!(lsoa.geoms.len(), 32_844);
    for layer in [&lad, &lsoa] {
        let points: Vec<(usize, f64, f64)> = (0..layer.geoms.len())
            .step_by(layer.geoms.len() / 12)
            .filter_map(|i| {
                let p = layer.geoms[i].interior_point()?;
                let (lon, lat) = tile_math::mercator_to_lonlat(p.x(), p.y());
                Some((i, lon, lat))
            })
            .collect();
        check(layer, &points);
        describe(layer, &tiles, false);
        describe(layer, &tiles, true);
    }

    let mut g = c.benchmark_group("tiles_z5_z10");
    g.throughput(Throughput::Elements(tiles.len() as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    let style = peer_style();
    for layer in [&lad, &lsoa] {
        for simplified in [false, true] {
            let id = format!(
                "{}_{}",
                layer.name,
                if simplified { "simplified" } else { "raw" }
            );
            let mut w = Worker::new();
            g.bench_function(id, |b| {
                b.iter(|| {
                    let mut total = 0usize;
                    for &t in &tiles {
                        total += w.tile(layer, t, simplified, &style).0.len();
                    }
                    black_box(total)
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
