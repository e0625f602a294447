//! LAD 2023 from LAD 2021 on the real data: the 2023 districts are exact unions of May 2021
//! ones (SOURCES.md file 27), so the dissolve must give the members' area, no former border
//! inside, no sliver holes, valid geometry. Plus the merge lookup's errors, on real files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use districts::crs::{Crs, ToWgs84};
use districts::dissolve::{
    AbsentCodes, DerivedLayer, DissolveOptions, MergeColumns, MergeError, MergePlan,
    SourceDistrict, derive_districts, dissolve,
};
use districts::load::{BoundarySpec, load_boundaries};
use geo::coordinate_position::CoordPos;
use geo::{Area, BooleanOps, Contains, CoordinatePosition, Validation};
use geo_types::{Coord, MultiPolygon, Point};

const LAD21: &str = "lad_may2021_uk_buc_bng.geojson";
const CHANGES: &str = "lad_changes_2019_2023_england.csv";

/// The four districts created in 2023 and their LAD 2021 members.
const NEW_2023: [(&str, &str, &[&str]); 4] = [
    (
        "E06000063",
        "Cumberland",
        &["E07000026", "E07000028", "E07000029"],
    ),
    (
        "E06000064",
        "Westmorland and Furness",
        &["E07000027", "E07000030", "E07000031"],
    ),
    (
        "E06000065",
        "North Yorkshire",
        &[
            "E07000163",
            "E07000164",
            "E07000165",
            "E07000166",
            "E07000167",
            "E07000168",
            "E07000169",
        ],
    ),
    (
        "E06000066",
        "Somerset",
        &["E07000187", "E07000188", "E07000189", "E07000246"],
    ),
];

fn data(file: &str) -> PathBuf {
    test_support::data_dir().join(file)
}

/// A district in the file's own CRS (British National Grid metres for LAD 2021).
struct Owned {
    code: String,
    name: String,
    geometry: MultiPolygon<f64>,
}

/// Reads LAD 2021 in British National Grid, as published: the crate's loaders reproject to
/// WGS84, and the dissolve is meant to run on the file's own coordinates.
fn lad21_bng() -> Vec<Owned> {
    let path = data(LAD21);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let fc: geojson::FeatureCollection = text
        .parse()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    fc.features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let text = |field: &str| {
                f.property(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_else(|| panic!("feature {i} has no {field}"))
                    .to_string()
            };
            let geometry = f
                .geometry
                .as_ref()
                .unwrap_or_else(|| panic!("feature {i} has no geometry"));
            let geometry = match geo_types::Geometry::<f64>::try_from(&geometry.value) {
                Ok(geo_types::Geometry::Polygon(p)) => MultiPolygon(vec![p]),
                Ok(geo_types::Geometry::MultiPolygon(mp)) => mp,
                other => panic!("feature {i} is not polygonal: {other:?}"),
            };
            Owned {
                code: text("LAD21CD"),
                name: text("LAD21NM"),
                geometry,
            }
        })
        .collect()
}

fn borrowed(layer: &[Owned]) -> Vec<SourceDistrict<'_>> {
    layer
        .iter()
        .map(|d| SourceDistrict {
            code: &d.code,
            name: &d.name,
            geometry: &d.geometry,
        })
        .collect()
}

fn changes() -> MergePlan {
    MergePlan::read(&data(CHANGES), &MergeColumns::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn derive(layer: &[Owned], plan: &MergePlan) -> DerivedLayer {
    derive_districts(
        &borrowed(layer),
        plan,
        AbsentCodes::SkipAlreadyMerged,
        &DissolveOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn by_code(layer: &[Owned]) -> HashMap<&str, &Owned> {
    layer.iter().map(|d| (d.code.as_str(), d)).collect()
}

fn bits(c: &Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

/// Every vertex of a multipolygon, bit for bit.
fn vertex_set(mp: &MultiPolygon<f64>) -> HashSet<(u64, u64)> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().map(bits))
        .collect()
}

/// A temporary CSV named for the test, removed when dropped.
struct TempCsv(PathBuf);

impl TempCsv {
    fn new(name: &str, text: &str) -> TempCsv {
        let path = std::env::temp_dir().join(format!(
            "placemap-dissolve-{}-{name}.csv",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TempCsv(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempCsv {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn the_changes_file_turns_lad21_into_361_districts() {
    let layer = lad21_bng();
    assert_eq!(layer.len(), 374);
    let plan = changes();
    assert_eq!(plan.rows().len(), 28);
    let derived = derive(&layer, &plan);
    assert_eq!(derived.districts.len(), 361);
    let codes: HashSet<&str> = derived.districts.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes.len(), 361, "codes are unique");
    for (code, name, members) in NEW_2023 {
        let d = derived
            .districts
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(d.name, name);
        assert_eq!(d.merged_from, members);
        for m in members {
            assert!(!codes.contains(m), "{m} should be merged away");
        }
    }
    // The 11 LAD 2019 codes merged into E06000060-62 before 2021 are skipped, with a note.
    let skipped = derived
        .notes
        .iter()
        .filter(|n| n.contains("skipped"))
        .count();
    assert_eq!(skipped, 11, "{:#?}", derived.notes);
    // Unmerged districts are copied unchanged.
    let source = by_code(&layer);
    for d in derived
        .districts
        .iter()
        .filter(|d| d.merged_from.is_empty())
    {
        assert_eq!(d.geometry, source[d.code.as_str()].geometry, "{}", d.code);
    }
}

#[test]
fn merged_areas_equal_their_members() {
    let layer = lad21_bng();
    let derived = derive(&layer, &changes());
    let source = by_code(&layer);
    for (code, _, members) in NEW_2023 {
        let merged = derived
            .districts
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"));
        let sum: f64 = members
            .iter()
            .map(|m| source[m].geometry.unsigned_area())
            .sum();
        let area = merged.geometry.unsigned_area();
        let rel = (area - sum).abs() / sum;
        assert!(rel < 1e-3, "{code}: {area} vs {sum} ({rel:e})");
        // In fact exact up to rounding: the same edges, summed in another order.
        assert!(rel < 1e-9, "{code}: {area} vs {sum} ({rel:e})");
    }
}

#[test]
fn no_former_border_remains_inside() {
    let layer = lad21_bng();
    let derived = derive(&layer, &changes());
    let source = by_code(&layer);
    for (code, _, members) in NEW_2023 {
        let merged = &derived
            .districts
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"))
            .geometry;
        let mut inputs: HashSet<(u64, u64)> = HashSet::new();
        let mut shared = 0;
        let member_sets: Vec<HashSet<(u64, u64)>> = members
            .iter()
            .map(|m| vertex_set(&source[m].geometry))
            .collect();
        for set in &member_sets {
            inputs.extend(set.iter().copied());
        }
        for p in &merged.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for c in &r.0 {
                    assert!(
                        inputs.contains(&bits(c)),
                        "{code}: {c:?} is not an input vertex"
                    );
                    assert_ne!(
                        merged.coordinate_position(c),
                        CoordPos::Inside,
                        "{code}: {c:?} lies inside"
                    );
                }
            }
        }
        // Vertices of two members: those left must be on the outer boundary (checked above),
        // and the interior ones must be gone.
        let output = vertex_set(merged);
        for (i, a) in member_sets.iter().enumerate() {
            for b in &member_sets[i + 1..] {
                for v in a.intersection(b) {
                    shared += 1;
                    let c = Coord {
                        x: f64::from_bits(v.0),
                        y: f64::from_bits(v.1),
                    };
                    if merged.coordinate_position(&c) == CoordPos::OnBoundary {
                        continue;
                    }
                    assert!(
                        !output.contains(v),
                        "{code}: shared vertex {c:?} kept inside"
                    );
                }
            }
        }
        assert!(shared > 0, "{code}: members share vertices");
    }
}

#[test]
fn every_hole_is_an_input_hole_or_an_enclave() {
    let layer = lad21_bng();
    let derived = derive(&layer, &changes());
    // Rings that may legitimately be holes: input holes and unmerged districts' shells.
    let mut allowed: Vec<HashSet<(u64, u64)>> = Vec::new();
    for d in &layer {
        for p in &d.geometry.0 {
            allowed.extend(p.interiors().iter().map(|h| h.0.iter().map(bits).collect()));
        }
    }
    for d in derived
        .districts
        .iter()
        .filter(|d| d.merged_from.is_empty())
    {
        for p in &d.geometry.0 {
            allowed.push(p.exterior().0.iter().map(bits).collect());
        }
    }
    let mut holes = 0;
    for d in derived
        .districts
        .iter()
        .filter(|d| !d.merged_from.is_empty())
    {
        for p in &d.geometry.0 {
            for h in p.interiors() {
                holes += 1;
                let set: HashSet<(u64, u64)> = h.0.iter().map(bits).collect();
                assert!(
                    allowed.contains(&set),
                    "{}: a hole of {} vertices is not an input hole or enclave",
                    d.code,
                    h.0.len()
                );
                let area = geo_types::Polygon::new(h.clone(), vec![]).unsigned_area();
                assert!(area > 1.0, "{}: hole of {area} m²", d.code);
            }
        }
    }
    // The four 2023 districts enclose no other district.
    assert_eq!(holes, 0);
}

#[test]
fn merged_geometry_is_valid_without_sliver_holes() {
    let layer = lad21_bng();
    let derived = derive(&layer, &changes());
    let source = by_code(&layer);
    for (code, _, members) in NEW_2023 {
        let merged = &derived
            .districts
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"))
            .geometry;
        let errors = merged.validation_errors();
        assert!(errors.is_empty(), "{code}: {errors:?}");
        // For the record, geo's boolean ops on the same members: pairwise `union` leaves sliver
        // holes; `unary_union` has none here but moves vertices (rounding to its grid).
        let pairwise = members
            .iter()
            .map(|m| source[m].geometry.clone())
            .reduce(|a, b| a.union(&b))
            .unwrap_or_else(|| MultiPolygon(vec![]));
        let slivers: Vec<f64> = pairwise
            .0
            .iter()
            .flat_map(geo_types::Polygon::interiors)
            .map(|h| geo_types::Polygon::new(h.clone(), vec![]).unsigned_area())
            .collect();
        let unary = geo::unary_union(members.iter().map(|m| &source[m].geometry));
        let inputs: HashSet<(u64, u64)> = members
            .iter()
            .flat_map(|m| vertex_set(&source[m].geometry))
            .collect();
        let moved = vertex_set(&unary).difference(&inputs).count();
        let input_coords: Vec<Coord<f64>> = inputs
            .iter()
            .map(|v| Coord {
                x: f64::from_bits(v.0),
                y: f64::from_bits(v.1),
            })
            .collect();
        let farthest = vertex_set(&unary)
            .iter()
            .map(|v| {
                let (x, y) = (f64::from_bits(v.0), f64::from_bits(v.1));
                input_coords
                    .iter()
                    .map(|c| (c.x - x).hypot(c.y - y))
                    .fold(f64::MAX, f64::min)
            })
            .fold(0.0, f64::max);
        let ours: usize = merged.0.iter().map(|p| p.interiors().len()).sum();
        println!(
            "{code}: geo pairwise union {} holes (largest {:.3} m²); unary_union {} holes, \
             {moved} of {} vertices not input vertices (moved up to {farthest:.1e} m); dissolve {ours} holes, {} vertices",
            slivers.len(),
            slivers.iter().copied().fold(0.0, f64::max),
            unary.0.iter().map(|p| p.interiors().len()).sum::<usize>(),
            vertex_set(&unary).len(),
            vertex_set(merged).len(),
        );
        assert_eq!(ours, 0, "{code}");
    }
}

#[test]
fn a_point_in_carlisle_falls_in_cumberland() -> Result<(), Box<dyn std::error::Error>> {
    let layer = lad21_bng();
    let derived = derive(&layer, &changes());
    let to_wgs84 = ToWgs84::new(Crs::BritishNationalGrid)?;
    let carlisle = Point::new(-2.9340, 54.8925);
    let mut hits = Vec::new();
    for d in &derived.districts {
        let mut g = d.geometry.clone();
        to_wgs84.multipolygon(&mut g)?;
        if g.contains(&carlisle) {
            hits.push(d.code.as_str());
        }
    }
    assert_eq!(hits, ["E06000063"]);
    // And in British National Grid metres.
    let cumberland = derived
        .districts
        .iter()
        .find(|d| d.code == "E06000063")
        .ok_or("no Cumberland")?;
    assert!(
        cumberland
            .geometry
            .contains(&Point::new(340_000.0, 556_000.0))
    );
    Ok(())
}

#[test]
fn the_loaders_wgs84_geometry_dissolves_the_same() -> Result<(), Box<dyn std::error::Error>> {
    let loaded = load_boundaries(&data(LAD21), &BoundarySpec::new("LAD21CD", "LAD21NM"))?;
    let source: Vec<SourceDistrict<'_>> = loaded
        .features
        .iter()
        .map(|f| SourceDistrict {
            code: &f.code,
            name: &f.name,
            geometry: &f.geometry.0,
        })
        .collect();
    let plan = changes();
    let wgs = derive_districts(
        &source,
        &plan,
        AbsentCodes::SkipAlreadyMerged,
        &DissolveOptions::default(),
    )?;
    let bng = derive(&lad21_bng(), &plan);
    assert_eq!(wgs.districts.len(), bng.districts.len());
    for (w, b) in wgs.districts.iter().zip(&bng.districts) {
        assert_eq!(w.code, b.code);
        let count = |mp: &MultiPolygon<f64>| -> Vec<usize> {
            mp.0.iter().map(|p| p.exterior().0.len()).collect()
        };
        assert_eq!(count(&w.geometry), count(&b.geometry), "{}", w.code);
    }
    Ok(())
}

#[test]
fn the_full_lad21_dissolve_is_fast() {
    let layer = lad21_bng();
    let source = borrowed(&layer);
    let plan = changes();
    let run = || {
        derive_districts(
            &source,
            &plan,
            AbsentCodes::SkipAlreadyMerged,
            &DissolveOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(run().districts.len(), 361);
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(run());
    }
    let each = start.elapsed() / rounds;
    println!("LAD 2021 -> 2023 (374 -> 361 districts): {each:?} per run");
    // Release is well under this; the dev profile optimises this crate at level 1 only.
    assert!(each.as_millis() < 100, "{each:?}");
    for note in &run().notes {
        println!("{note}");
    }
}

#[test]
fn a_user_grouping_of_london_boroughs_dissolves() {
    let layer = lad21_bng();
    let inner = [
        ("E09000001", "City of London"),
        ("E09000007", "Camden"),
        ("E09000019", "Islington"),
        ("E09000033", "Westminster"),
    ];
    let mut csv = String::from("borough,group,group_name\r\n");
    for (code, _) in inner {
        csv.push_str(&format!("{code},X01000001,Central London\r\n"));
    }
    // And all 33 boroughs, as one London.
    let london: Vec<&Owned> = layer.iter().filter(|d| d.code.starts_with("E09")).collect();
    assert_eq!(london.len(), 33);
    let file = TempCsv::new("london", &csv);
    let columns = MergeColumns {
        old_code: "borough".to_string(),
        new_code: "group".to_string(),
        new_name: "group_name".to_string(),
    };
    let plan = MergePlan::read(file.path(), &columns).unwrap_or_else(|e| panic!("{e}"));
    let derived = derive_districts(
        &borrowed(&layer),
        &plan,
        AbsentCodes::Strict,
        &DissolveOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(derived.districts.len(), 374 - 4 + 1);
    let central = derived
        .districts
        .iter()
        .find(|d| d.code == "X01000001")
        .unwrap_or_else(|| panic!("no group"));
    assert_eq!(central.name, "Central London");
    assert_eq!(central.geometry.0.len(), 1);
    assert!(central.geometry.0[0].interiors().is_empty());

    let all: Vec<&MultiPolygon<f64>> = london.iter().map(|d| &d.geometry).collect();
    let whole = dissolve(&all, &DissolveOptions::default());
    let sum: f64 = all.iter().map(|g| g.unsigned_area()).sum();
    assert_eq!(whole.geometry.0.len(), 1, "{:?}", whole.stats);
    assert!(whole.geometry.0[0].interiors().is_empty());
    assert!((whole.geometry.unsigned_area() - sum).abs() / sum < 1e-9);
    assert!(whole.geometry.is_valid());
}

fn error_of(name: &str, csv: &str, layer: &[&str]) -> (String, String) {
    let file = TempCsv::new(name, csv);
    let path = file.path().display().to_string();
    let result = MergePlan::read(file.path(), &MergeColumns::default())
        .and_then(|plan| plan.resolve(layer.iter().copied(), AbsentCodes::SkipAlreadyMerged));
    match result {
        Ok(r) => panic!("{name}: expected an error, got {r:?}"),
        Err(e) => (e.to_string(), path),
    }
}

#[test]
fn an_unknown_code_is_named_with_file_and_line() {
    let (err, path) = error_of(
        "unknown",
        "old_code,new_code,new_name\nE07000026,E06000063,Cumberland\nE07000999,E06000063,Cumberland\n",
        &["E07000026", "E07000028"],
    );
    assert!(err.contains("unknown code E07000999"), "{err}");
    assert!(err.contains(&format!("{path}:3")), "{err}");
}

#[test]
fn a_code_mapped_to_two_districts_is_named_with_file_and_line() {
    let (err, path) = error_of(
        "twice",
        "old_code,new_code,new_name\nE07000026,E06000063,Cumberland\nE07000027,E06000064,Westmorland and Furness\nE07000026,E06000064,Westmorland and Furness\n",
        &["E07000026", "E07000027"],
    );
    assert!(err.contains("E07000026"), "{err}");
    assert!(err.contains(&format!("{path}:4")), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn a_cycle_is_named_with_file_and_line() {
    let (err, path) = error_of(
        "cycle",
        "old_code,new_code,new_name\nE07000026,E07000028,Carlisle\nE07000028,E07000026,Allerdale\n",
        &["E07000026", "E07000028"],
    );
    assert!(err.contains("cycle for code E07000026"), "{err}");
    assert!(err.contains(&format!("{path}:2")), "{err}");
    assert!(err.contains("E07000026 -> E07000028 -> E07000026"), "{err}");
    // A longer loop, and an empty code.
    let (err, _) = error_of(
        "cycle3",
        "old_code,new_code,new_name\nA,B,b\nB,C,c\nC,A,a\n",
        &["A", "B", "C"],
    );
    assert!(err.contains("A -> B -> C -> A"), "{err}");
    let (err, path) = error_of(
        "empty",
        "old_code,new_code,new_name\nA,B,b\n  ,C,c\n",
        &["A"],
    );
    assert_eq!(err, format!("empty old_code at {path}:3"));
}

#[test]
fn strict_mode_refuses_the_pre_2021_rows() {
    let plan = changes();
    let layer = lad21_bng();
    let codes: Vec<&str> = layer.iter().map(|d| d.code.as_str()).collect();
    match plan.resolve(codes, AbsentCodes::Strict) {
        Err(e @ MergeError::AbsentCode { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("E07000004") && msg.contains(":2 "), "{msg}");
            assert!(msg.contains(CHANGES), "{msg}");
        }
        other => panic!("expected AbsentCode, got {other:?}"),
    }
}

#[test]
fn a_missing_column_is_named() {
    let (err, path) = error_of("columns", "old,new_code,new_name\nA,B,b\n", &["A"]);
    assert!(
        err.starts_with(&format!("{path}:1: no column \"old_code\"")),
        "{err}"
    );
}

#[test]
fn every_english_district_dissolves_into_england() {
    let layer = lad21_bng();
    let england: Vec<&MultiPolygon<f64>> = layer
        .iter()
        .filter(|d| d.code.starts_with('E'))
        .map(|d| &d.geometry)
        .collect();
    assert_eq!(england.len(), 309);
    let start = Instant::now();
    let whole = dissolve(&england, &DissolveOptions::default());
    println!(
        "England, 309 districts in one: {:?}, {} parts, {:?}",
        start.elapsed(),
        whole.geometry.0.len(),
        whole.stats
    );
    let sum: f64 = england.iter().map(|g| g.unsigned_area()).sum();
    assert!((whole.geometry.unsigned_area() - sum).abs() / sum < 1e-9);
    // South Cambridgeshire's hole is Cambridge, which fills it.
    let holes: usize = whole.geometry.0.iter().map(|p| p.interiors().len()).sum();
    assert_eq!(holes, 0);
    for p in &whole.geometry.0 {
        for c in &p.exterior().0 {
            assert_ne!(whole.geometry.coordinate_position(c), CoordPos::Inside);
        }
    }
    let errors = whole.geometry.validation_errors();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn nested_shells_of_the_2019_file_dissolve() -> Result<(), Box<dyn std::error::Error>> {
    // LAD 2019 (file 1) stores Cambridge's hole in South Cambridgeshire as an overlapping
    // polygon; Cambridge fills it.
    let loaded = load_boundaries(
        &data("lad_2019_uk_generalised_wgs84.geojson"),
        &BoundarySpec::new("lad19cd", "lad19nm"),
    )?;
    let get = |code: &str| {
        loaded
            .features
            .iter()
            .find(|f| f.code == code)
            .map(|f| &f.geometry.0)
            .ok_or(format!("no {code}"))
    };
    let (cambridge, south) = (get("E07000008")?, get("E07000012")?);
    let d = dissolve(&[cambridge, south], &DissolveOptions::default());
    println!("{:?}", d.stats);
    let holes: usize = d.geometry.0.iter().map(|p| p.interiors().len()).sum();
    assert_eq!(holes, 0);
    assert_eq!(d.stats.unplaced_holes, 0);
    for p in &d.geometry.0 {
        for c in &p.exterior().0 {
            assert_ne!(d.geometry.coordinate_position(c), CoordPos::Inside, "{c:?}");
        }
    }
    Ok(())
}

#[test]
fn without_snapping_cumberland_keeps_slivers() {
    // Allerdale and Carlisle share 9 vertices that differ by about 1e-9 m: exact matching
    // alone leaves their border (or slivers of it) in place.
    let layer = lad21_bng();
    let source = by_code(&layer);
    let members: Vec<&MultiPolygon<f64>> = ["E07000026", "E07000028", "E07000029"]
        .iter()
        .map(|m| &source[m].geometry)
        .collect();
    let exact = dissolve(
        &members,
        &DissolveOptions {
            snap: districts::dissolve::Snap::Absolute(0.0),
        },
    );
    let snapped = dissolve(&members, &DissolveOptions::default());
    let rings =
        |mp: &MultiPolygon<f64>| -> usize { mp.0.iter().map(|p| 1 + p.interiors().len()).sum() };
    println!(
        "Cumberland: exact matching {} rings {:?}; snapped {} rings {:?}",
        rings(&exact.geometry),
        exact.stats,
        rings(&snapped.geometry),
        snapped.stats
    );
    assert_eq!(snapped.stats.snapped_vertices, 9);
    assert_eq!(rings(&snapped.geometry), 1);
    assert!(rings(&exact.geometry) > 1);
}

/// The 2019-2023 changes as a lineage: old codes (including those merged before 2021) name
/// the district they became, and each new district names exactly its own parts.
#[test]
fn the_changes_file_gives_each_code_its_successor_and_parts() {
    let lineage = districts::lineage::Lineage::from_plan(&changes());
    let became = |c: &str| lineage.successor(c).map(|r| r.new_code.clone());
    assert_eq!(became("E07000004").as_deref(), Some("E06000060"));
    assert_eq!(became("E07000028").as_deref(), Some("E06000063"));
    assert_eq!(became("E07000246").as_deref(), Some("E06000066"));
    assert_eq!(became("E06000001"), None);
    let parts = |c: &str| {
        lineage
            .parts(c)
            .iter()
            .map(|r| r.old_code.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        parts("E06000061"),
        ["E07000150", "E07000152", "E07000153", "E07000156"]
    );
    assert_eq!(parts("E06000063"), ["E07000026", "E07000028", "E07000029"]);
    assert_eq!(lineage.merged().count(), 7);
    assert_eq!(
        lineage.became("E07000028").as_deref(),
        Some("became part of E06000063 Cumberland on 2023-04-01")
    );
    assert!(
        lineage
            .made_from("E06000064")
            .is_some_and(|s| s.contains("E07000027 Barrow-in-Furness"))
    );
}
