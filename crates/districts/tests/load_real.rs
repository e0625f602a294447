//! Every real boundary file in the data directory loads, with the counts SOURCES.md gives.

use std::collections::HashSet;
use std::path::PathBuf;

use districts::crs::Crs;
use districts::load::{BoundarySpec, LoadError, LoadedBoundaries, load_boundaries};

fn data(file: &str) -> PathBuf {
    test_support::data_dir().join(file)
}

fn load(file: &str, spec: &BoundarySpec) -> LoadedBoundaries {
    match load_boundaries(&data(file), spec) {
        Ok(l) => l,
        Err(e) => panic!("{file}: {e}"),
    }
}

/// (min lon, min lat, max lon, max lat) over all features.
fn lonlat_range(l: &LoadedBoundaries) -> (f64, f64, f64, f64) {
    let mut r = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for f in &l.features {
        let b = f.geometry.bbox().expect("non-empty geometry");
        r = (
            r.0.min(b.min().x),
            r.1.min(b.min().y),
            r.2.max(b.max().x),
            r.3.max(b.max().y),
        );
    }
    r
}

fn assert_range(l: &LoadedBoundaries, lon: (f64, f64), lat: (f64, f64)) {
    let r = lonlat_range(l);
    assert!(
        r.0 >= lon.0 && r.2 <= lon.1 && r.1 >= lat.0 && r.3 <= lat.1,
        "{}: lon/lat range {r:?} outside {lon:?} x {lat:?}",
        l.path.display()
    );
}

#[test]
fn lad19_generalised_geojson() {
    let attrs = ["region_name".to_string()];
    let spec = BoundarySpec {
        attributes: &attrs,
        ..BoundarySpec::new("lad19cd", "lad19nm")
    };
    let l = load("lad_2019_uk_generalised_wgs84.geojson", &spec);
    assert_eq!(l.features.len(), 382);
    assert_eq!(l.source_crs, Crs::Wgs84);
    assert_eq!(l.features[0].code, "E06000001");
    assert_eq!(l.features[0].name, "Hartlepool");
    assert_eq!(
        l.features[0].attributes,
        vec![("region_name".to_string(), "North East".to_string())]
    );
    let holes: usize = l
        .features
        .iter()
        .flat_map(|f| &f.geometry.0.0)
        .map(|p| p.interiors().len())
        .sum();
    assert_eq!(holes, 1, "SOURCES.md: 1 interior ring");
    assert_range(&l, (-8.65, 1.77), (49.9, 60.85));
}

#[test]
fn lad19_bgc_geojson_keeps_nested_shells_and_notes_them() {
    let l = load(
        "lad_apr2019_uk_bgc_wgs84.geojson",
        &BoundarySpec::new("LAD19CD", "LAD19NM"),
    );
    assert_eq!(l.features.len(), 382);
    let scambs = l
        .features
        .iter()
        .find(|f| f.code == "E07000012")
        .expect("South Cambridgeshire");
    assert!(scambs.geometry.0.0.len() >= 2);
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("E07000012") && n.contains("nested shell")),
        "notes: {:?}",
        l.notes
    );
    let vertices: usize = l
        .features
        .iter()
        .flat_map(|f| &f.geometry.0.0)
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    // SOURCES.md counts 467,984 vertices; three 3-position slivers (E07000119, E07000123,
    // E07000244) are dropped with a note each.
    assert_eq!(vertices, 467_984 - 9);
    for code in ["E07000119", "E07000123", "E07000244"] {
        assert!(
            l.notes
                .iter()
                .any(|n| n.contains(code) && n.contains("degenerate sliver")),
            "{code}: {:?}",
            l.notes
        );
    }
}

#[test]
fn lad21_bng_geojson_is_reprojected_and_decodes_welsh_names() {
    let attrs = ["LAD21NMW".to_string()];
    let spec = BoundarySpec {
        attributes: &attrs,
        ..BoundarySpec::new("LAD21CD", "LAD21NM")
    };
    let l = load("lad_may2021_uk_buc_bng.geojson", &spec);
    assert_eq!(l.features.len(), 374);
    assert_eq!(l.source_crs, Crs::BritishNationalGrid);
    assert_range(&l, (-8.7, 1.8), (49.8, 60.9));
    let anglesey = l
        .features
        .iter()
        .find(|f| f.code == "W06000001")
        .expect("Isle of Anglesey");
    assert_eq!(anglesey.name, "Isle of Anglesey");
    assert_eq!(anglesey.attributes[0].1, "Ynys Môn");
    // Anglesey lies around 4.4 W, 53.3 N.
    let b = anglesey.geometry.bbox().expect("bbox");
    assert!(
        b.min().x > -4.8 && b.max().x < -4.0 && b.min().y > 53.1 && b.max().y < 53.5,
        "{b:?}"
    );
}

#[test]
fn lsoa_england_geojson() {
    let l = load(
        "lsoa_2011_england_generalised_wgs84.geojson",
        &BoundarySpec::new("lsoa11cd", "lsoa11nm"),
    );
    assert_eq!(l.features.len(), 32_844);
    assert!(l.features.iter().all(|f| f.code.starts_with("E01")));
    assert_range(&l, (-6.37, 1.77), (49.88, 55.82));
}

#[test]
fn lsoa_north_east_web_mercator_needs_the_catalogue_crs() {
    let file = "lsoa_2011_north_east_epsg3857.geojson";
    let spec = BoundarySpec::new("lsoa11cd", "lsoa11nm");
    match load_boundaries(&data(file), &spec) {
        Err(e @ LoadError::UndeclaredCrs { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("EPSG:3857") && msg.contains(file), "{msg}");
        }
        other => panic!("expected an undeclared-CRS error, got {other:?}"),
    }
    let spec = BoundarySpec {
        crs: Some(Crs::WebMercator),
        ..spec
    };
    let l = load(file, &spec);
    assert_eq!(l.features.len(), 1_657);
    assert_eq!(l.source_crs, Crs::WebMercator);
    // x -299,426..-88,403, y 7,256,064..7,520,897 m is about 2.69..0.79 W, 54.45..55.81 N.
    assert_range(&l, (-2.70, -0.79), (54.44, 55.82));
    // Same LSOAs as the all-England WGS84 file (converted from the same source by the inverse formula).
    let england = load(
        "lsoa_2011_england_generalised_wgs84.geojson",
        &BoundarySpec::new("lsoa11cd", "lsoa11nm"),
    );
    let first = &l.features[0];
    let twin = england
        .features
        .iter()
        .find(|f| f.code == first.code)
        .expect("same LSOA");
    let (a, b) = (
        first.geometry.0.0[0].exterior().0[0],
        twin.geometry.0.0[0].exterior().0[0],
    );
    assert!(
        (a.x - b.x).abs() < 1e-6 && (a.y - b.y).abs() < 1e-6,
        "{a:?} vs {b:?}"
    );
}

#[test]
fn msoa_shapefile_in_bng() {
    let l = load(
        "england_msoa_2011_sgen_clipped.shp",
        &BoundarySpec::new("code", "name"),
    );
    assert_eq!(l.features.len(), 6_791);
    assert_eq!(l.source_crs, Crs::BritishNationalGrid);
    assert!(l.features.iter().all(|f| f.code.starts_with("E02")));
    let codes: HashSet<_> = l.features.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes.len(), 6_791);
    assert_eq!(
        l.features
            .iter()
            .filter(|f| f.name == "Shepway 014")
            .count(),
        2
    );
    // SOURCES.md: roughly lon -6.42..2.07, lat 49.86..55.74 after pyproj.
    assert_range(&l, (-6.43, 1.77), (49.86, 55.82));
    let multipart = l
        .features
        .iter()
        .filter(|f| f.geometry.0.0.len() > 1)
        .count();
    assert!(
        multipart > 0 && multipart <= 172,
        "{multipart} multipart features"
    );
}

#[test]
fn topojson_bgc_agrees_with_its_geojson_decode() {
    let spec = BoundarySpec {
        object: Some("data"),
        ..BoundarySpec::new("AREACD", "AREANM")
    };
    let topo = load("lad_apr2019_uk_bgc.topojson", &spec);
    let geo = load(
        "lad_apr2019_uk_bgc_wgs84.geojson",
        &BoundarySpec::new("LAD19CD", "LAD19NM"),
    );
    assert_eq!(topo.features.len(), 382);
    assert_eq!(geo.features.len(), 382);
    for (t, g) in topo.features.iter().zip(&geo.features) {
        assert_eq!(t.code, g.code);
        assert_eq!(t.name, g.name);
        assert_eq!(
            t.geometry.0.0.len(),
            g.geometry.0.0.len(),
            "{}: polygon count",
            t.code
        );
        for (tp, gp) in t.geometry.0.0.iter().zip(&g.geometry.0.0) {
            let (a, b) = (tp.exterior().0[0], gp.exterior().0[0]);
            assert!(
                (a.x - b.x).abs() <= 1e-6 && (a.y - b.y).abs() <= 1e-6,
                "{}: first vertex {a:?} vs {b:?}",
                t.code
            );
            assert_eq!(
                tp.exterior().0.len(),
                gp.exterior().0.len(),
                "{}: ring length",
                t.code
            );
        }
    }
}

#[test]
fn topojson_buc_with_the_only_object() {
    // No object named: the topology has exactly one.
    let topo = load(
        "lad_apr2019_uk_buc.topojson",
        &BoundarySpec::new("AREACD", "AREANM"),
    );
    assert_eq!(topo.features.len(), 382);
    assert_range(&topo, (-8.66, 1.77), (49.88, 60.85));
    let scambs = topo
        .features
        .iter()
        .find(|f| f.code == "E07000012")
        .expect("South Cambridgeshire");
    assert_eq!(scambs.name, "South Cambridgeshire");
}
