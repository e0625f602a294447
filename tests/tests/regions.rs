//! `region=` on every English layer: each district's region from its own attribute, the
//! catalogue's lookups (LSOA, MSOA and LAD 2017 codes) or, for districts no lookup names (the
//! 2019-2023 unitaries), by location in `lad19`; names and slugs in any case; the four nations.
//! Expected members are read here from the data files, not from placemap.

use std::collections::{BTreeSet, HashMap};

use placemap_e2e::{data_dir, expect_client_error, get, state};

/// Every layer with English districts.
const ENGLISH_LAYERS: [&str; 6] = ["lad19", "lad19_bgc", "lad21", "lad23", "lsoa11", "msoa11"];

fn selected(layer: &str, region: &str) -> BTreeSet<String> {
    let st = state();
    let l = st.maps.atlas.layer(layer).expect("layer");
    let chosen =
        maps::region::select(l, region).unwrap_or_else(|e| panic!("{layer} {region}: {e}"));
    l.districts
        .iter()
        .zip(chosen)
        .filter(|(_, c)| *c)
        .map(|(d, _)| d.code.clone())
        .collect()
}

/// LSOA, MSOA and LAD 2017 codes of one region, from the ONS lookup file itself.
fn lookup_codes(region: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut rdr = csv::Reader::from_path(data_dir().join("lsoa11_msoa11_lad17_lookup_ew.csv"))
        .expect("lookup file");
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (lsoa, msoa, lad, rgn) = (
        col("LSOA11CD"),
        col("MSOA11CD"),
        col("LAD17CD"),
        col("RGN11NM"),
    );
    let mut out = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for r in rdr.records() {
        let r = r.expect("row");
        if &r[rgn] == region {
            out.0.insert(r[lsoa].to_string());
            out.1.insert(r[msoa].to_string());
            out.2.insert(r[lad].to_string());
        }
    }
    out
}

#[test]
fn every_english_district_of_every_layer_has_a_region() {
    let st = state();
    for id in ENGLISH_LAYERS {
        let l = st.maps.atlas.layer(id).expect(id);
        let mut per_region: HashMap<&str, usize> = HashMap::new();
        for (i, d) in l.districts.iter().enumerate() {
            if d.code.starts_with('E') {
                let r = l.regions.region(i);
                assert!(r.is_some(), "{id}: {} {} has no region", d.code, d.name);
                *per_region.entry(r.unwrap_or_default()).or_default() += 1;
            }
        }
        // The nine English regions, no more (one spelling each).
        assert_eq!(per_region.len(), 9, "{id}: {per_region:?}");
        let england = l
            .districts
            .iter()
            .filter(|d| d.code.starts_with('E'))
            .count();
        assert_eq!(per_region.values().sum::<usize>(), england, "{id}");
    }
}

#[test]
fn north_east_in_any_spelling_is_the_lookups_north_east_on_every_layer() {
    let (lsoas, msoas, lads) = lookup_codes("North East");
    for id in ENGLISH_LAYERS {
        let a = selected(id, "North East");
        assert_eq!(a, selected(id, "north-east"), "{id}: slug");
        assert_eq!(a, selected(id, "NORTH EAST"), "{id}: case");
        assert_eq!(a, selected(id, " north_east "), "{id}: separators");
        let expected = match id {
            "lsoa11" => &lsoas,
            "msoa11" => &msoas,
            // No North East district changed between 2017 and 2023.
            _ => &lads,
        };
        assert_eq!(&a, expected, "{id}");
    }
    assert_eq!(lads.len(), 12);
}

#[test]
fn districts_no_lookup_names_are_placed_by_location_and_noted() {
    // The 2019 unitaries (on every LAD layer but lad19, which carries regions itself), the
    // 2020-21 ones (lad21, lad23) and the 2023 ones (lad23): no 2017 lookup row names them.
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "lad19_bgc",
            "South West",
            &["E06000058", "E06000059", "E07000246"],
        ),
        ("lad19_bgc", "east-of-england", &["E07000244", "E07000245"]),
        ("lad21", "South East", &["E06000060"]),
        ("lad21", "east-midlands", &["E06000061", "E06000062"]),
        ("lad23", "North West", &["E06000063", "E06000064"]),
        ("lad23", "yorkshire-and-the-humber", &["E06000065"]),
    ];
    let st = state();
    for (layer, region, codes) in cases {
        let chosen = selected(layer, region);
        let l = st.maps.atlas.layer(layer).expect("layer");
        let note = l
            .load_notes
            .iter()
            .find(|n| n.starts_with("region by location"))
            .unwrap_or_else(|| panic!("{layer}: no note of regions by location"));
        for c in codes {
            assert!(chosen.contains(*c), "{layer} {region}: {c} missing");
            assert!(note.contains(c), "{layer}: note does not name {c}: {note}");
        }
    }
    // lad19 names them itself: nothing placed by location there.
    let lad19 = st.maps.atlas.layer("lad19").expect("lad19");
    assert!(
        !lad19
            .load_notes
            .iter()
            .any(|n| n.starts_with("region by location")),
        "{:?}",
        lad19.load_notes
    );
    // Both spellings of the East: lad19's own attribute says "East", the lookups "East of England".
    assert_eq!(
        selected("lad19", "East"),
        selected("lad19", "east-of-england")
    );
    assert_eq!(selected("lad19", "East").len(), 45);
}

#[test]
fn nations_are_regions_too() {
    for id in ["lad19", "lad19_bgc", "lad21", "lad23"] {
        for (nation, letter) in [
            ("Scotland", 'S'),
            ("wales", 'W'),
            ("Northern-Ireland", 'N'),
            ("ENGLAND", 'E'),
        ] {
            let st = state();
            let l = st.maps.atlas.layer(id).expect("layer");
            let expected: BTreeSet<String> = l
                .districts
                .iter()
                .filter(|d| d.code.starts_with(letter))
                .map(|d| d.code.clone())
                .collect();
            assert!(!expected.is_empty(), "{id} {nation}");
            assert_eq!(selected(id, nation), expected, "{id} {nation}");
        }
    }
    // The LSOA layer is England only: Scotland is not a region there, and the error says what is.
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let e = maps::region::select(lsoa, "Scotland").expect_err("no Scottish LSOA");
    assert_eq!(e.kind(), maps::ErrorKind::NotFound);
    let hint = e.hint().unwrap_or_default().to_string();
    assert!(hint.contains("North East (north-east)"), "{hint}");
    assert!(hint.contains("England (england)"), "{hint}");
    assert!(!hint.contains("Scotland"), "{hint}");
}

#[tokio::test]
async fn static_maps_take_region_on_every_layer() {
    for uri in [
        "/static/lad21/median_weekly_pay.png?region=north-east&width=600&height=700",
        "/static/lad19_bgc/imd_score.png?region=South%20West&width=600&height=700",
        "/static/lad23/imd25_score.png?region=north-west&width=600&height=700",
        "/static/msoa11/msoa_imd_score.png?region=LONDON&width=600&height=700",
        "/static/lsoa11/imd_decile.png?region=north-east&width=600&height=700",
        "/static/lad21/median_weekly_pay.png?region=scotland&width=600&height=700",
        "/static/lad19/median_weekly_pay.png?region=Wales&width=600&height=700",
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.text());
        assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    }
    let j = expect_client_error("/static/lad21/imd_score.png?region=Atlantis", 404).await;
    let hint = j["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("yorkshire-and-the-humber"), "{hint}");
    assert!(hint.contains("Scotland (scotland)"), "{hint}");
    expect_client_error("/static/lsoa11/imd_decile.png?region=Wales", 404).await;
}

/// Pixel colours (opaque RGB) of a PNG tile.
fn tile_colours(png: &[u8]) -> BTreeSet<[u8; 3]> {
    let img = image::load_from_memory(png).expect("PNG").to_rgba8();
    img.pixels()
        .filter(|p| p.0[3] == 255)
        .map(|p| [p.0[0], p.0[1], p.0[2]])
        .collect()
}

fn legend_colours(legend: &serde_json::Value) -> BTreeSet<[u8; 3]> {
    legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let c = choropleth::palette::Rgb::from_hex(e["color"].as_str().expect("colour"))
                .expect("hex");
            [c.r, c.g, c.b]
        })
        .collect()
}

/// Issue 15.4: the interactive map's area control. Tiles take `region=`: the region's
/// districts in the classes of the region (its legend's colours), every other district left
/// undrawn; the district list (the map's data table) lists the region's districts only.
#[tokio::test]
async fn tiles_and_district_lists_take_region() {
    let legend = get("/legend/lad19/imd_score.json?region=north-east")
        .await
        .json();
    let region_colours = legend_colours(&legend);
    let england_colours = legend_colours(&get("/legend/lad19/imd_score.json").await.json());
    assert_ne!(region_colours, BTreeSet::new());
    // Teesside (z8 tile of the North East): drawn in the region's class colours.
    let ne = get("/tiles/lad19/imd_score/8/127/81.png?region=north-east").await;
    assert_eq!(ne.status, 200, "{}", ne.text());
    let seen = tile_colours(&ne.body);
    assert!(
        region_colours.iter().filter(|c| seen.contains(*c)).count() >= 3,
        "the region's classes are not drawn"
    );
    // London (z9): out of the region, no district filled.
    let london = get("/tiles/lad19/imd_score/9/255/170.png?region=north-east").await;
    assert_eq!(london.status, 200);
    let seen = tile_colours(&london.body);
    for c in region_colours.iter().chain(&england_colours) {
        assert!(
            !seen.contains(c),
            "a district outside the region is filled {c:?}"
        );
    }
    let full = tile_colours(&get("/tiles/lad19/imd_score/9/255/170.png").await.body);
    assert!(
        england_colours.iter().any(|c| full.contains(c)),
        "London drawn without region="
    );
    // Case and spelling do not matter; the ETag follows the region.
    let a = get("/tiles/lad19/imd_score/8/127/81.png?region=North%20East").await;
    assert_eq!(a.header("etag"), ne.header("etag"));
    let b = get("/tiles/lad19/imd_score/8/127/81.png").await;
    assert_ne!(b.header("etag"), ne.header("etag"));
    expect_client_error("/tiles/lad19/imd_score/8/127/81.png?region=Atlantis", 404).await;
    // The district list: the region's districts, coloured as its tiles.
    let list = get("/layers/lad19/districts?indicator=imd_score&region=north-east")
        .await
        .json();
    let codes: BTreeSet<String> = list["districts"]
        .as_array()
        .expect("districts")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes, selected("lad19", "North East"));
    for d in list["districts"].as_array().expect("districts") {
        let c =
            choropleth::palette::Rgb::from_hex(d["colour"].as_str().expect("colour")).expect("hex");
        assert!(region_colours.contains(&[c.r, c.g, c.b]), "{d}");
    }
    let plain = get("/layers/lad19/districts?region=wales").await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(plain.json()["districts"].as_array().map(Vec::len), Some(22));
}
