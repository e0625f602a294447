//! The geometry core across layers on the real data: LAD 2021 (BNG) against LAD 2019 (WGS84),
//! every LSOA in the LAD the IMD file names, and known places (rail stations from NaPTAN, in
//! British National Grid) in the right districts.

use std::collections::HashMap;

use districts::crs::{Crs, ToWgs84};
use geo::{Distance, InteriorPoint};
use placemap_e2e::{data_dir, state};

#[test]
fn lad21_bng_and_lad19_wgs84_agree_on_unchanged_districts() {
    let st = state();
    let lad19 = st.maps.atlas.layer("lad19").expect("lad19");
    let lad21 = st.maps.atlas.layer("lad21").expect("lad21");
    let (mut same, mut checked) = (0, 0);
    let mut differ = Vec::new();
    for d in lad21.districts.iter() {
        if lad19.position(&d.code).is_none() {
            continue; // a new code (e.g. Buckinghamshire, Northamptonshire): not comparable
        }
        let p = d.wgs84.0.interior_point().expect("interior point");
        checked += 1;
        match lad19
            .index
            .lookup(p.x(), p.y())
            .map(|i| lad19.districts[i].code.as_str())
        {
            Some(c) if c == d.code => same += 1,
            other => differ.push((d.code.clone(), other.map(str::to_string))),
        }
    }
    assert!(checked >= 360, "{checked} unchanged codes");
    // Never a different district. An interior point may fall outside the other file's
    // coastline where the two generalisations differ across an estuary (Halton on the
    // Mersey, Newport on the Usk).
    assert!(
        differ.iter().all(|(_, got)| got.is_none()),
        "{same} of {checked} agree; differing: {differ:?}"
    );
    assert!(
        differ.len() <= 3,
        "{same} of {checked} agree; outside: {differ:?}"
    );
}

#[test]
fn every_lsoa_falls_in_the_lad_the_imd_file_names() {
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let lad19 = st.maps.atlas.layer("lad19_bgc").expect("lad19_bgc");
    let mut rdr =
        csv::Reader::from_path(data_dir().join("imd2019_lsoa_file1_imd.csv")).expect("IMD file 1");
    let headers = rdr.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .expect(name)
    };
    let (lsoa_col, lad_col) = (
        col("LSOA code (2011)"),
        col("Local Authority District code (2019)"),
    );
    let lad_of: HashMap<String, String> = rdr
        .records()
        .map(|r| r.expect("row"))
        .map(|r| (r[lsoa_col].to_string(), r[lad_col].to_string()))
        .collect();
    assert_eq!(lad_of.len(), 32_844);
    let mut wrong = Vec::new();
    for d in lsoa.districts.iter() {
        let want = lad_of.get(&d.code).expect("every LSOA is in File 1");
        let p = d.wgs84.0.interior_point().expect("interior point");
        let got = lad19
            .index
            .lookup(p.x(), p.y())
            .map(|i| lad19.districts[i].code.clone());
        if got.as_deref() != Some(want.as_str()) {
            wrong.push((d.code.clone(), want.clone(), got));
        }
    }
    // LSOA 2011 boundaries nest in LAD 2019 (no boundary change between them). The two files
    // are generalised differently (LSOAs super-generalised, about 200 m; districts 20 m), so a
    // thin LSOA along a district border can have its interior point a little over the line:
    // allowed only within 300 m of the district the IMD file names. Tiny coastal LSOAs may
    // also fall outside the clipped coastline (no district at all).
    let too_far: Vec<_> = wrong
        .iter()
        .filter(|(_, _, got)| got.is_some())
        .filter(|(code, want, _)| {
            let d = &lsoa.districts[lsoa.position(code).expect("lsoa")];
            let p = d.wgs84.0.interior_point().expect("interior point");
            let named = &lad19.districts[lad19.position(want).expect("named LAD")];
            let deg = geo::Euclidean.distance(&p, &named.wgs84.0);
            // Degrees to metres, generously (a degree of latitude is 111 km).
            deg * 111_000.0 > 300.0
        })
        .collect();
    assert!(
        too_far.is_empty(),
        "LSOAs in a district other than the named one: {too_far:?}"
    );
    assert!(wrong.len() <= 40, "{} misses: {wrong:?}", wrong.len());
    assert!(
        wrong.len() <= 40,
        "{} LSOA interior points outside every district: {wrong:?}",
        wrong.len()
    );
}

#[test]
fn rail_stations_resolve_to_their_districts() {
    let st = state();
    let bng = ToWgs84::new(Crs::BritishNationalGrid).expect("BNG");
    let mut rdr =
        csv::Reader::from_path(data_dir().join("naptan_rail_references_2016.csv")).expect("NaPTAN");
    let mut at: HashMap<String, (f64, f64)> = HashMap::new();
    for r in rdr.records() {
        let r = r.expect("row");
        if let (Ok(e), Ok(n)) = (r[6].parse::<f64>(), r[7].parse::<f64>()) {
            at.insert(r[3].to_string(), bng.point(e, n).expect("reprojects"));
        }
    }
    // Stations well inside their districts, with the GSS codes of the districts they serve.
    let known = [
        ("Hartlepool Rail Station", "E06000001", "E06000001"),
        ("Middlesbrough Rail Station", "E06000002", "E06000002"),
        ("Newcastle Rail Station", "E08000021", "E08000021"),
        ("Leeds Rail Station", "E08000035", "E08000035"),
        (
            "Manchester Piccadilly Rail Station",
            "E08000003",
            "E08000003",
        ),
        (
            "Birmingham New Street Rail Station",
            "E08000025",
            "E08000025",
        ),
        ("Cambridge Rail Station", "E07000008", "E07000008"),
        ("Aylesbury Rail Station", "E07000004", "E06000060"),
        ("Northampton Rail Station", "E07000154", "E06000062"),
        ("Cardiff Central Rail Station", "W06000015", "W06000015"),
        ("Edinburgh Rail Station", "S12000036", "S12000036"),
        ("Barnsley Rail Station", "E08000016", "E08000016"),
    ];
    let lad19 = st.maps.atlas.layer("lad19").expect("lad19");
    let lad21 = st.maps.atlas.layer("lad21").expect("lad21");
    for (station, code19, code21) in known {
        let (lon, lat) = *at
            .get(station)
            .unwrap_or_else(|| panic!("{station} not in NaPTAN"));
        let got19 = lad19
            .index
            .lookup(lon, lat)
            .map(|i| lad19.districts[i].code.as_str());
        let got21 = lad21
            .index
            .lookup(lon, lat)
            .map(|i| lad21.districts[i].code.as_str());
        assert_eq!(got19, Some(code19), "{station} on LAD 2019");
        assert_eq!(got21, Some(code21), "{station} on LAD 2021 (BNG file)");
    }
}
