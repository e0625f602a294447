//! The real catalogue loads and validates against the real data directory, and every data file
//! SOURCES.md describes is either in the catalogue or listed in boundaries/README.md with why.

use std::path::{Path, PathBuf};
use test_support::{catalog_path, data_dir};

use districts::catalog::{Catalog, CatalogError, Direction, RawCatalog};

fn load() -> Catalog {
    match Catalog::load(&catalog_path(), &data_dir()) {
        Ok(c) => c,
        Err(e) => panic!("catalogue does not load: {e}"),
    }
}

/// File names in backticks at the start of SOURCES.md headings / list items, ending in a data extension.
fn files_named_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split('`').skip(1).step_by(2) {
        let exts = [
            ".csv",
            ".geojson",
            ".topojson",
            ".shp",
            ".dbf",
            ".shx",
            ".prj",
        ];
        if !part.contains('/') && !part.contains(' ') && exts.iter().any(|e| part.ends_with(e)) {
            out.push(part.to_string());
        }
    }
    out
}

#[test]
fn real_catalogue_loads_with_the_six_layers() {
    let cat = load();
    let ids: Vec<&str> = cat.layers.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        ["lad19", "lad19_bgc", "lad21", "lad23", "lsoa11", "msoa11"]
    );
    let lad23 = cat.layer("lad23").expect("lad23");
    assert_eq!(lad23.merge.as_ref().map(|m| m.from.as_str()), Some("lad21"));
    let lad21 = cat.layer("lad21").expect("lad21");
    assert_eq!(lad21.code_field, "LAD21CD");
    assert!(lad21.attributes.contains(&"LAD21NMW".to_string()));
    // UK-wide layers carry the LPS statement for Northern Ireland; MSOA the UKDS statements.
    for id in ["lad19", "lad19_bgc", "lad21", "lad23"] {
        assert!(
            cat.layer(id)
                .expect("layer")
                .provenance
                .attribution
                .contains("LPS Intellectual Property")
        );
    }
    let msoa = cat.layer("msoa11").expect("msoa11");
    assert!(
        msoa.provenance
            .attribution
            .contains("Contains National Statistics data © Crown copyright")
    );
    assert!(msoa.provenance.attribution.contains("SN:5819"));
}

#[test]
fn indicators_apply_to_the_right_layers() {
    let cat = load();
    let on = |layer: &str| -> Vec<String> {
        cat.indicators_for_layer(layer)
            .iter()
            .map(|(_, i)| i.id.clone())
            .collect()
    };
    for layer in ["lad19", "lad19_bgc", "lad21"] {
        let ids = on(layer);
        for id in [
            "imd_score",
            "imd_average_rank",
            "imd_rank_of_average_score",
            "imd_proportion_most_deprived_10pc",
            "imd_extent",
            "imd_local_concentration",
            "income_score",
            "employment_score",
            "education_score",
            "health_score",
            "crime_score",
            "barriers_score",
            "living_environment_score",
            "median_weekly_pay",
            "employment_rate",
            "gcse_eng_maths_by_19",
            "ks2_rwm_expected",
            "attainment8",
            "claimant_rate",
            "gdhi_per_head",
            "gva_per_hour",
            "level3_qualifications",
            "gigabit_broadband",
            "life_satisfaction",
            "area_class_subgroup",
            "area_class_group",
            "area_class_supergroup",
        ] {
            assert!(ids.contains(&id.to_string()), "{id} missing on {layer}");
        }
        assert!(!ids.contains(&"imd_rank".to_string()));
    }
    let lsoa = on("lsoa11");
    for id in [
        "imd_rank",
        "imd_decile",
        "income_rank",
        "living_environment_decile",
        "population_total",
        "population_working_age",
    ] {
        assert!(lsoa.contains(&id.to_string()), "{id} missing on lsoa11");
    }
    assert!(on("msoa11").contains(&"msoa_imd_score".to_string()));

    let (source, score) = cat.indicator("imd_score").expect("imd_score");
    assert_eq!(score.direction, Direction::HigherIsWorse);
    let meta = score.to_meta(source);
    assert_eq!(meta.file, "imd2019_lad_summaries_file10.csv");
    assert_eq!(meta.source_id, "imd2019_file10");
    let (_, class) = cat.indicator("area_class_group").expect("area_class_group");
    assert!(class.categorical());
    let (msoa_src, _) = cat.indicator("msoa_imd_score").expect("msoa_imd_score");
    assert!(
        msoa_src
            .provenance
            .attribution
            .contains("Matthew Gwynfryn Thomas")
    );
}

#[test]
fn every_sources_md_file_is_catalogued_or_explained() {
    let cat = load();
    let sources_md = std::fs::read_to_string(data_dir().join("SOURCES.md")).expect("SOURCES.md");
    let readme = std::fs::read_to_string(test_support::repo_root().join("boundaries/README.md"))
        .expect("boundaries/README.md");
    let referenced = cat.referenced_files();
    let mut named = files_named_in(&sources_md);
    // `england_msoa_2011_sgen_clipped.{shp,shx,dbf,prj}` is written with braces in SOURCES.md.
    named.retain(|f| !f.contains('{'));
    assert!(named.len() >= 25, "SOURCES.md parse found only {named:?}");
    let mut unexplained = Vec::new();
    for file in &named {
        if !data_dir().join(file).exists() {
            continue; // mentioned, but not staged (e.g. upstream names)
        }
        if !referenced.contains(file) && !readme.contains(&format!("`{file}`")) {
            unexplained.push(file.clone());
        }
    }
    assert!(
        unexplained.is_empty(),
        "not in catalogue nor README: {unexplained:?}"
    );
    // And every data file in the directory is covered, not only those SOURCES.md names in backticks.
    for entry in std::fs::read_dir(data_dir()).expect("data dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name == "SOURCES.md" {
            continue;
        }
        assert!(
            referenced.contains(&name) || readme.contains(&format!("`{name}`")),
            "{name} is neither catalogued nor explained in boundaries/README.md"
        );
    }
}

fn write_catalog(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("catalog.toml");
    std::fs::write(&p, text).expect("write catalog");
    p
}

const LAYER: &str = r#"
[[layer]]
id = "lad19"
title = "t"
file = "lad_2019_uk_generalised_wgs84.geojson"
code_field = "lad19cd"
name_field = "lad19nm"
vintage = "2019"
licence = "OGL-3.0"
attribution = "a"
"#;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "placemap-catalog-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

#[test]
fn missing_file_names_catalogue_entry_and_path() {
    let dir = scratch("missing");
    let text = LAYER.replace(
        "lad_2019_uk_generalised_wgs84.geojson",
        "no_such_file.geojson",
    );
    let p = write_catalog(&dir, &text);
    let err = Catalog::load(&p, &data_dir()).expect_err("must fail");
    assert!(matches!(err, CatalogError::MissingFile { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("catalog.toml")
            && msg.contains("`lad19`")
            && msg.contains("no_such_file.geojson"),
        "{msg}"
    );
}

#[test]
fn listed_invalid_geometries_are_repaired_and_reported_and_unknown_codes_refused() {
    let dir = scratch("invalid-geometries");
    let listed = |codes: &str| {
        let text = format!(
            "{}invalid_geometries = [{codes}]\n",
            LAYER
                .replace(
                    "lad_2019_uk_generalised_wgs84.geojson",
                    "lad_apr2019_uk_bgc.topojson"
                )
                .replace("lad19cd", "AREACD")
                .replace("lad19nm", "AREANM")
        );
        let p = write_catalog(&dir, &text);
        let catalog = Catalog::load(&p, &data_dir()).expect("catalogue");
        districts::Atlas::load(&catalog, &["lad19".to_string()])
    };
    // South Cambridgeshire (a nested shell for Cambridge's hole) and Hartlepool (valid).
    let atlas = listed(r#""e07000012", "E06000001""#).expect("atlas");
    let notes = &atlas.layers[0].load_notes;
    let note = |code: &str| notes.iter().find(|n| n.starts_with(code)).cloned();
    assert!(
        note("E07000012").is_some_and(|n| n.contains("South Cambridgeshire: invalid source geometry repaired (")),
        "{notes:?}"
    );
    assert!(
        note("E06000001").is_some_and(|n| n.contains("valid as read; nothing repaired")),
        "{notes:?}"
    );
    let district = atlas.layers[0].district("E07000012").expect("district");
    assert!(districts::repair::repair(&district.wgs84.0).is_none());

    let err = listed(r#""E06000001", "E99999999""#).expect_err("unknown code");
    let msg = err.to_string();
    assert!(
        msg.contains("E99999999")
            && msg.contains("lad_apr2019_uk_bgc.topojson")
            && msg.contains("invalid_geometries"),
        "{msg}"
    );
}

#[test]
fn duplicate_ids_unknown_layers_and_columns_are_refused() {
    let dir = scratch("dups");
    let p = write_catalog(&dir, &format!("{LAYER}{LAYER}"));
    let err = Catalog::load(&p, &data_dir()).expect_err("dup");
    assert!(
        err.to_string()
            .contains("layer id `lad19` is used more than once"),
        "{err}"
    );

    let source = |layers: &str, column: &str| {
        format!(
            r#"{LAYER}
[[source]]
id = "f10"
title = "t"
file = "imd2019_lad_summaries_file10.csv"
publisher = "p"
licence = "l"
attribution = "a"
layout = "wide"
code_column = "Local Authority District code (2019)"
period = "2019"
layers = [{layers}]
[[source.indicator]]
id = "imd_score"
title = "t"
unit = "score"
direction = "higher_is_worse"
column = "{column}"
"#
        )
    };
    let p = write_catalog(&dir, &source("\"lad99\"", "IMD - Average score"));
    let err = Catalog::load(&p, &data_dir()).expect_err("unknown layer");
    assert!(
        err.to_string().contains("unknown layer `lad99`")
            && err.to_string().contains("known: lad19"),
        "{err}"
    );

    let p = write_catalog(&dir, &source("\"lad19\"", "IMD - Average scor"));
    let err = Catalog::load(&p, &data_dir()).expect_err("bad column");
    let msg = err.to_string();
    assert!(
        msg.contains("`IMD - Average scor`") && msg.contains("IMD - Average score"),
        "{msg}"
    );

    let p = write_catalog(
        &dir,
        &source("\"lad19\"", "IMD - Average score").replace(
            "attribution = \"a\"\n\n",
            "attribution = \"a\"\ndefault_indicator = \"nope\"\n\n",
        ),
    );
    let raw = RawCatalog::parse(&std::fs::read_to_string(&p).expect("read")).expect("parses");
    assert_eq!(raw.layer[0].default_indicator.as_deref(), Some("nope"));
    let err = Catalog::load(&p, &data_dir()).expect_err("unknown default");
    assert!(
        err.to_string().contains("unknown indicator `nope`"),
        "{err}"
    );

    let p = write_catalog(&dir, &source("\"lad19\"", "IMD - Average score"));
    assert!(Catalog::load(&p, &data_dir()).is_ok());
    let p = write_catalog(&dir, &format!("{LAYER}\nspeling = 1\n"));
    assert!(matches!(
        Catalog::load(&p, &data_dir()),
        Err(CatalogError::Parse { .. })
    ));
}

#[test]
fn real_catalogue_declares_the_derived_indicators_in_order() {
    let c = load();
    let ids: Vec<&str> = c.derived.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            // Weights of recombined averages first: derived entries after them may use them.
            "population_lad19",
            "working_age_population_lad19",
            "imd_lsoa_share_most_deprived_decile",
            "income_lsoa_share_most_deprived_decile",
            "imd_rank_pop_weighted",
            "imd_rank_pop_weighted_spatial",
            "imd_score_lisa",
            "imd25_lsoa21_share_most_deprived_decile",
            "imd25_lsoa21_mean_decile",
            "imd19_lad23_share_most_deprived_decile",
            "imd19_lad23_rank_pop_weighted",
            "imd19_lad23_mean_decile",
            "imd_share_most_deprived_decile_2019_2025",
            "imd_mean_decile_2019_2025",
        ]
    );
    let by_id = |id: &str| {
        c.derived
            .iter()
            .find(|d| d.id == id)
            .unwrap_or_else(|| panic!("{id} not declared"))
    };
    let table = by_id("imd25_lsoa21_share_most_deprived_decile");
    assert_eq!(table.from_table.as_deref(), Some("imd2025_lsoa21_file1"));
    assert_eq!(
        table.group_by.as_deref(),
        Some("Local Authority District code (2024)")
    );
    let series = by_id("imd_share_most_deprived_decile_2019_2025");
    assert_eq!(series.method, districts::catalog::DerivedMethod::Series);
    let parts: Vec<(&str, &str)> = series
        .periods
        .iter()
        .map(|p| (p.label.as_str(), p.indicator.as_str()))
        .collect();
    assert_eq!(
        parts,
        [
            ("2019", "imd19_lad23_share_most_deprived_decile"),
            ("2025", "imd25_lsoa21_share_most_deprived_decile")
        ]
    );
    // Loading lad23 for its derived indicators needs the LSOA layer (2019), not a layer for
    // the table (2025); and lad19, where the population weights of its recombined File 10
    // averages are derived.
    assert_eq!(c.layers_for("lad23", None), ["lad23", "lsoa11", "lad19"]);
    let lisa = by_id("imd_score_lisa");
    assert_eq!(lisa.method, districts::catalog::DerivedMethod::Lisa);
    assert_eq!(lisa.england_only, Some(true));
}

#[test]
fn bad_derived_entries_name_the_entry_and_what_is_wrong() {
    let dir = scratch("derived");
    // The real catalogue plus one derived entry, so every reference it may make exists.
    let real = std::fs::read_to_string(catalog_path()).expect("read catalogue");
    let with = |entry: &str| {
        let p = write_catalog(&dir, &format!("{real}\n[[derived]]\n{entry}"));
        Catalog::load(&p, &data_dir())
    };
    let base = r#"id = "my_share"
layer = "lad19"
title = "t"
unit = "proportion"
direction = "higher_is_worse"
description = "d"
"#;
    let ok = with(&format!(
        "{base}method = \"aggregate\"\nfrom = \"lsoa11\"\nindicator = \"imd_decile\"\nhow = \"share\"\nclass = \"<=2\"\n"
    ))
    .expect("a well-formed entry loads");
    assert_eq!(ok.derived.last().map(|d| d.id.as_str()), Some("my_share"));
    // An entry may use an earlier derived indicator of its layer.
    with(&format!(
        "{base}method = \"lisa\"\nindicator = \"imd_rank_pop_weighted\"\n"
    ))
    .expect("LISA of an earlier derived indicator");

    let table = "method = \"aggregate\"\nfrom_table = \"imd2025_lsoa21_file1\"\nindicator = \"imd25_decile\"\nhow = \"share\"\nclass = \"=1\"\n";
    with(&format!(
        "{base}{table}group_by = \"Local Authority District code (2024)\"\n"
    ))
    .expect("an aggregate of a table's rows");
    with(&format!(
        "{base}method = \"series\"\nperiods = [{{ label = \"2019\", indicator = \"imd_score\" }}, {{ label = \"2020\", indicator = \"imd_rank_pop_weighted\" }}]\n"
    ))
    .expect("a series of a table's and a derived indicator");

    let cases: [(String, &[&str]); 15] = [
        (
            format!("{base}{table}"),
            &["`my_share`", "needs `group_by`"],
        ),
        (
            format!("{base}{table}group_by = \"LAD code\"\n"),
            &[
                "`my_share`",
                "LAD code",
                "Local Authority District code (2024)",
            ],
        ),
        (
            format!(
                "{base}{table}group_by = \"Local Authority District code (2024)\"\nkey = \"lad19cd\"\n"
            ),
            &["`my_share`", "`key` applies to `from`"],
        ),
        (
            format!(
                "{base}{table}group_by = \"Local Authority District code (2024)\"\nfrom = \"lsoa11\"\n"
            ),
            &["`my_share`", "not both"],
        ),
        (
            format!("{base}{table}group_by = \"Local Authority District code (2024)\"\n")
                .replace("imd2025_lsoa21_file1", "imd2025_file99"),
            &[
                "`my_share`",
                "unknown source `imd2025_file99`",
                "imd2025_lsoa21_file1",
            ],
        ),
        (
            format!("{base}method = \"series\"\nperiods = []\n"),
            &["`my_share`", "needs `periods"],
        ),
        (
            format!(
                "{base}method = \"series\"\nperiods = [{{ label = \"2019\", indicator = \"imd_decile\" }}]\n"
            ),
            &["`my_share`", "unknown indicator `imd_decile`"],
        ),
        (
            format!("{base}method = \"aggregate\"\nindicator = \"imd_decile\"\nhow = \"share\"\n"),
            &["`my_share`", "needs `from`"],
        ),
        (
            format!(
                "{base}method = \"aggregate\"\nfrom = \"lsoa99\"\nindicator = \"imd_decile\"\nhow = \"mean\"\n"
            ),
            &["`my_share`", "unknown layer `lsoa99`", "lsoa11"],
        ),
        (
            format!(
                "{base}method = \"aggregate\"\nfrom = \"lsoa11\"\nindicator = \"imd_decil\"\nhow = \"mean\"\n"
            ),
            &["`my_share`", "unknown indicator `imd_decil`", "imd_decile"],
        ),
        (
            format!(
                "{base}method = \"aggregate\"\nfrom = \"lsoa11\"\nindicator = \"imd_decile\"\n"
            ),
            &["`my_share`", "needs `how`"],
        ),
        (
            format!("{base}method = \"lisa\"\nindicator = \"imd_score\"\nhow = \"mean\"\n"),
            &["`my_share`", "`how` applies to method = \"aggregate\" only"],
        ),
        (
            format!(
                "{base}method = \"aggregate\"\nfrom = \"lsoa11\"\nindicator = \"imd_decile\"\nhow = \"mean\"\nseed = 7\n"
            ),
            &["`my_share`", "`seed` applies to method = \"lisa\" only"],
        ),
        (
            format!("{base}method = \"lisa\"\nindicator = \"imd_score\"\n")
                .replace("my_share", "imd_score_lisa"),
            &["indicator id `imd_score_lisa` is used more than once"],
        ),
        (
            format!("{base}method = \"cluster\"\nindicator = \"imd_score\"\n"),
            &["catalog.toml", "cluster"],
        ),
    ];
    for (entry, wanted) in cases {
        let err = with(&entry).expect_err(&entry).to_string();
        for w in wanted {
            assert!(err.contains(w), "{err}\nwanted {w}");
        }
    }
}

/// A merged layer over LAD 2021 in a scratch data directory with the given merge lookup.
fn merged_layer_catalog(name: &str, lookup: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let bng = "lad_may2021_uk_buc_bng.geojson";
    let _ = std::fs::remove_file(dir.join(bng));
    #[cfg(unix)]
    std::os::unix::fs::symlink(data_dir().join(bng), dir.join(bng)).expect("symlink lad21");
    std::fs::write(dir.join("merge.csv"), lookup).expect("write lookup");
    let cat = write_catalog(
        &dir,
        r#"
[[layer]]
id = "lad21"
title = "t"
file = "lad_may2021_uk_buc_bng.geojson"
code_field = "LAD21CD"
name_field = "LAD21NM"
vintage = "2021"
licence = "OGL-3.0"
attribution = "a"

[[layer]]
id = "lad23"
title = "t"
merge = { from = "lad21", lookup = "merge.csv" }
vintage = "2023"
licence = "OGL-3.0"
attribution = "a"
"#,
    );
    (dir, cat)
}

#[test]
fn a_merged_layer_dissolves_its_base_and_bad_lookups_stop_start_up() {
    let header = "old_code,new_code,new_name\n";
    let (dir, cat) = merged_layer_catalog(
        "merge-ok",
        &format!(
            "{header}E07000026,E06000063,Cumberland\nE07000028,E06000063,Cumberland\nE07000029,E06000063,Cumberland\n"
        ),
    );
    let catalog = Catalog::load(&cat, &dir).expect("catalogue");
    let atlas = districts::Atlas::load(&catalog, &["lad23".to_string()]).expect("atlas");
    let lad23 = atlas.layer("lad23").expect("lad23 built");
    assert_eq!(lad23.districts.len(), 374 - 2);
    assert!(lad23.district("E06000063").is_some());
    assert!(
        atlas.layer("lad21").is_some(),
        "the base layer is loaded too"
    );

    for (name, body, line, code) in [
        (
            "merge-unknown",
            "E07999999,E06000063,Cumberland\n",
            2,
            "E07999999",
        ),
        (
            "merge-two",
            "E07000026,E06000063,Cumberland\nE07000026,E06000064,Westmorland and Furness\n",
            3,
            "E07000026",
        ),
        (
            "merge-cycle",
            "E07000026,E06000063,Cumberland\nE06000063,E07000026,Allerdale\n",
            2,
            "E07000026",
        ),
    ] {
        let (dir, cat) = merged_layer_catalog(name, &format!("{header}{body}"));
        let catalog = Catalog::load(&cat, &dir).expect("catalogue");
        let err = districts::Atlas::load(&catalog, &["lad23".to_string()])
            .expect_err(name)
            .to_string();
        assert!(err.contains("merge.csv"), "{name}: {err}");
        assert!(err.contains(&format!(":{line}")), "{name}: {err}");
        assert!(err.contains(code), "{name}: {err}");
    }
}

/// `combine`: an average or rate is recombined only with its weights, and the weights must be
/// an indicator of the catalogue; categories are never summed or averaged.
#[test]
fn combine_needs_known_weights_for_averages() {
    let dir = scratch("combine");
    let source = |combine: &str| {
        format!(
            r#"{LAYER}
[[source]]
id = "f10"
title = "t"
file = "imd2019_lad_summaries_file10.csv"
publisher = "p"
licence = "l"
attribution = "a"
layout = "wide"
code_column = "Local Authority District code (2019)"
period = "2019"
layers = ["lad19"]
[[source.indicator]]
id = "imd_score"
title = "t"
unit = "score"
direction = "higher_is_worse"
column = "IMD - Average score"
{combine}
[[source.indicator]]
id = "income_scale"
title = "t"
unit = "people"
direction = "higher_is_worse"
column = "Income scale"
"#
        )
    };
    let load = |combine: &str| Catalog::load(&write_catalog(&dir, &source(combine)), &data_dir());
    let err = load(r#"combine = { how = "weighted_mean" }"#).expect_err("no weights");
    assert!(
        err.to_string().contains("`imd_score`")
            && err.to_string().contains("never recombined without weights"),
        "{err}"
    );
    let err = load(r#"combine = { how = "weighted_mean", weights = "nope" }"#)
        .expect_err("unknown weights");
    assert!(
        err.to_string().contains("unknown indicator `nope`")
            && err.to_string().contains("income_scale"),
        "{err}"
    );
    let err = load(r#"combine = "average""#).expect_err("unknown how");
    assert!(
        err.to_string().contains("unknown combine `average`"),
        "{err}"
    );
    let err = load(r#"combine = { how = "sum", weights = "income_scale" }"#).expect_err("sum");
    assert!(
        err.to_string().contains("combine `sum` takes no other key"),
        "{err}"
    );
    let ok = load(r#"combine = { how = "weighted_mean", weights = "income_scale" }"#)
        .expect("weights known");
    let (_, spec) = ok.indicator("imd_score").expect("imd_score");
    assert_eq!(
        spec.combine,
        Some(districts::catalog::Combine::WeightedMean {
            weights: "income_scale".into()
        })
    );
    let ok = load(r#"combine = { how = "none", reason = "a rank" }"#).expect("none");
    let (_, spec) = ok.indicator("imd_score").expect("imd_score");
    assert_eq!(
        spec.combine,
        Some(districts::catalog::Combine::Never {
            reason: "a rank".into()
        })
    );
}

/// Issue 15: deciles are declared ordinal (one class per value on a map); a bad declaration
/// stops start-up naming the indicator and what is wrong.
#[test]
fn ordinal_scales_are_declared_and_checked() {
    let c = load();
    let (_, imd) = c.indicator("imd_decile").expect("imd_decile");
    let scale = imd.ordinal.as_ref().expect("imd_decile is ordinal");
    assert_eq!(
        (scale.from, scale.to, scale.each.as_str()),
        (1, 10, "decile")
    );
    assert_eq!(scale.label(1), "1 (most deprived 10%)");
    let dir = scratch("ordinal");
    let real = std::fs::read_to_string(catalog_path()).expect("read catalogue");
    let decl = r#"ordinal = { from = 1, to = 10, each = "decile", first = "most deprived 10%", last = "least deprived 10%" }
style = { palette = "RdYlBu" }"#;
    assert!(real.contains(decl));
    for (bad, words) in [
        (
            r#"ordinal = { from = 1, to = 20, each = "decile" }"#,
            &["`imd_decile`", "20 values"][..],
        ),
        (
            r#"ordinal = { from = 1, to = 10, each = "" }"#,
            &["`imd_decile`", "each"][..],
        ),
        (
            "ordinal = { from = 1, to = 10, each = \"decile\" }\nstyle = { scheme = \"manual\", breaks = [2, 4] }",
            &["`imd_decile`", "palette` only"][..],
        ),
    ] {
        let p = write_catalog(&dir, &real.replacen(decl, bad, 1));
        let msg = Catalog::load(&p, &data_dir())
            .expect_err("must fail")
            .to_string();
        for w in words {
            assert!(msg.contains(w), "{msg} lacks {w}");
        }
    }
}
