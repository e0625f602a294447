//! The `placemap` command on the real data: lookups, spatial joins of points, join reports, and
//! clear errors when the data cannot be found.

use std::process::Command;

fn placemap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_placemap"));
    // Run from the repository root, as `make run` does, with the default data directory.
    c.current_dir(test_support::repo_root());
    c.env_remove("PLACEMAP_DATA");
    c.arg("--quiet");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = placemap().args(args).output().expect("placemap runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lookup_one_point_prints_json_with_indicators() {
    let (code, out, err) = run(&[
        "lookup", "--layer", "lad19", "--lon", "-1.2129", "--lat", "54.6863",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["code"], "E06000001");
    assert_eq!(j["name"], "Hartlepool");
    assert!(
        j["indicators"]["imd_score"]["value"]
            .as_f64()
            .is_some_and(|v| v > 30.0)
    );
    // In the sea: code null.
    let (code, out, _) = run(&[
        "lookup", "--layer", "lad19", "--lon", "-3.0", "--lat", "53.9",
    ]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(j["code"].is_null());
}

#[test]
fn lookup_points_joins_rail_stations_in_bng() {
    // The CLI runs with the default data directory (PLACEMAP_DATA removed), so the file too.
    let data = test_support::repo_root().join("../shared/data/naptan_rail_references_2016.csv");
    let data = data.to_str().expect("UTF-8 path");
    let (code, out, err) = run(&[
        "lookup",
        "--layer",
        "lad19",
        "--points",
        data,
        "--crs",
        "EPSG:27700",
        "--x-col",
        "Easting",
        "--y-col",
        "Northing",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let headers = rdr.headers().expect("header").clone();
    assert_eq!(headers.get(headers.len() - 2), Some("lad19_code"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2619, "every station row is written");
    let code_of = |station: &str| {
        rows.iter()
            .find(|r| r.get(3) == Some(station))
            .and_then(|r| r.get(headers.len() - 2))
            .map(str::to_string)
    };
    assert_eq!(
        code_of("Hartlepool Rail Station").as_deref(),
        Some("E06000001")
    );
    assert_eq!(code_of("Leeds Rail Station").as_deref(), Some("E08000035"));
    assert_eq!(
        code_of("Cambridge Rail Station").as_deref(),
        Some("E07000008")
    );
    let matched = rows
        .iter()
        .filter(|r| r.get(headers.len() - 2).is_some_and(|c| !c.is_empty()))
        .count();
    // SOURCES.md: 2,595 stations fall in exactly one LAD 2019 polygon (shapely); the rest are
    // coastal stations outside the clipped coastline. Allow a few border/coast differences.
    assert!((2585..=2605).contains(&matched), "matched {matched}");
}

#[test]
fn join_report_and_strict_mode() {
    let (code, out, err) = run(&["join", "--layer", "lad19", "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let reports = j["reports"].as_array().expect("reports");
    let imd = reports
        .iter()
        .find(|r| r["indicator"] == "imd_score")
        .expect("imd_score report");
    assert_eq!(imd["matched"], 317);
    let (code, out, _) = run(&["join", "--layer", "lad19", "--strict"]);
    assert_eq!(
        code, 1,
        "pay data on 2021 codes leaves LAD 2019 codes unmatched"
    );
    assert!(
        out.contains("E06000060"),
        "Buckinghamshire's 2020 code is reported"
    );
}

#[test]
fn says_which_data_directory_and_fails_clearly_without_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(test_support::repo_root())
        .args(["layers"])
        .env_remove("PLACEMAP_DATA")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data directory") && err.contains("shared/data"),
        "{err}"
    );
    let (code, _, err) = run(&["--data", "/no/such/dir", "layers"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("/no/such/dir") && err.contains("--data"),
        "{err}"
    );
    let out = placemap()
        .env("PLACEMAP_DATA", "/no/such/env/dir")
        .args(["layers"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PLACEMAP_DATA"));
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let (code, _, err) = run(&["lookup", "--layer", "nope", "--lon", "0", "--lat", "51"]);
    assert_ne!(code, 0);
    assert!(err.contains("nope") && err.contains("lad19"), "{err}");
    let (code, _, err) = run(&["lookup", "--layer", "lad19", "--lon", "500", "--lat", "51"]);
    assert_ne!(code, 0);
    assert!(err.contains("500"), "{err}");
    let (code, _, err) = run(&["lookup", "--layer", "lad19", "--points", "/no/such.csv"]);
    assert_ne!(code, 0);
    assert!(err.contains("/no/such.csv"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn export_writes_csv_and_geojson() {
    let out = std::env::temp_dir().join(format!("placemap-export-{}.csv", std::process::id()));
    let path = out.display().to_string();
    let (code, _, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "csv",
        "--indicators",
        "imd_score,imd_lsoa_share_most_deprived_decile",
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).expect("CSV written");
    let _ = std::fs::remove_file(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("code,name,region_name,imd_score,imd_lsoa_share_most_deprived_decile")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 382);
    let hartlepool = rows
        .iter()
        .find(|r| r.starts_with("E06000001,"))
        .expect("Hartlepool");
    // File 10: IMD average score 35.037, 36.21 % of LSOAs in the most deprived decile.
    assert!(
        hartlepool.starts_with("E06000001,Hartlepool,North East,35.037,0.362"),
        "{hartlepool}"
    );

    // GeoJSON on standard output, a box around Teesside, simplified for zoom 9.
    let (code, stdout, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--indicators",
        "imd_score",
        "--bbox",
        "-1.4,54.5,-1.1,54.7",
        "--zoom",
        "9",
    ]);
    assert_eq!(code, 0, "{err}");
    let g: serde_json::Value = serde_json::from_str(&stdout).expect("GeoJSON");
    let ids: Vec<&str> = g["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"E06000001") && ids.contains(&"E06000002"),
        "{ids:?}"
    );

    // Bad options are errors with the reason, not panics.
    let (code, _, err) = run(&[
        "export", "--layer", "lad19", "--format", "csv", "--zoom", "9",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--zoom"), "{err}");
    let (code, _, err) = run(&["export", "--layer", "lad19", "--periods", "latest"]);
    assert_eq!(code, 2);
    assert!(err.contains("periods"), "{err}");
    let (code, _, err) = run(&["export", "--layer", "lad99"]);
    assert_eq!(code, 2);
    assert!(err.contains("lad99"), "{err}");
}

/// Issue 15.6: the default column of an indicator with several periods names its period;
/// `--columns plain` gives the indicator's id.
#[test]
fn export_names_the_default_period_of_a_series() {
    for (extra, want, not) in [
        (None, "median_weekly_pay_2021", "median_weekly_pay"),
        (Some("plain"), "median_weekly_pay", "median_weekly_pay_2021"),
    ] {
        let mut args = vec![
            "export",
            "--layer",
            "lad19",
            "--format",
            "csv",
            "--indicators",
            "median_weekly_pay",
        ];
        if let Some(c) = extra {
            args.extend(["--columns", c]);
        }
        let (code, stdout, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        let header: Vec<&str> = stdout
            .lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .collect();
        assert_eq!(
            header[..4],
            ["code", "name", "region_name", want],
            "{extra:?}"
        );
        assert!(!header.contains(&not), "{header:?}");
    }
}

#[test]
fn export_writes_the_british_national_grid() {
    // lad21 comes from a BNG file: written back in EPSG:27700 its vertices are the file's.
    let (code, stdout, err) = run(&[
        "export",
        "--layer",
        "lad21",
        "--indicators",
        "",
        "--bbox",
        "-1.25,54.65,-1.2,54.7",
        "--crs",
        "EPSG:27700",
        "--precision",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    let g: serde_json::Value = serde_json::from_str(&stdout).expect("GeoJSON");
    assert_eq!(
        g["crs"]["properties"]["name"],
        "urn:ogc:def:crs:EPSG::27700"
    );
    let hartlepool = g["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["id"] == "E06000001")
        .expect("Hartlepool");
    // The source file's first vertex of Hartlepool (lad_may2021_uk_buc_bng.geojson).
    let first = [448_906.041_7, 536_703.720_1];
    let ring = hartlepool["geometry"]["coordinates"][0][0]
        .as_array()
        .expect("ring");
    let nearest = ring
        .iter()
        .map(|p| {
            let (x, y) = (p[0].as_f64().expect("x"), p[1].as_f64().expect("y"));
            (x - first[0]).hypot(y - first[1])
        })
        .fold(f64::INFINITY, f64::min);
    assert!(nearest < 0.002, "{nearest} m");

    let (code, _, err) = run(&["export", "--layer", "lad19", "--crs", "EPSG:2157"]);
    assert_eq!(code, 2);
    assert!(err.contains("EPSG:27700"), "{err}");
    let (code, _, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "csv",
        "--crs",
        "EPSG:27700",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--crs"), "{err}");
}

#[test]
fn render_of_a_derived_indicator_loads_the_layer_it_aggregates_from() {
    let out = std::env::temp_dir().join(format!("placemap-derived-{}.png", std::process::id()));
    let path = out.display().to_string();
    let (code, _, err) = run(&[
        "render",
        "--layer",
        "lad19",
        "--indicator",
        "imd_lsoa_share_most_deprived_decile",
        "--width",
        "400",
        "--height",
        "450",
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    let png = std::fs::read(&out).expect("PNG written");
    let _ = std::fs::remove_file(&out);
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn layers_lists_tables_and_derived_indicators() {
    let (code, out, err) = run(&["layers"]);
    assert_eq!(code, 0, "{err}");
    let line = |id: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{out}"))
            .to_string()
    };
    assert!(line("imd_score").contains("imd2019_lad_summaries_file10.csv"));
    assert!(line("imd_rank_pop_weighted").contains("derived: weighted-mean of lsoa11.imd_rank"));
    assert!(line("imd_score_lisa").contains("derived: LISA clusters of imd_score"));
}

/// `layers --json` is the whole catalogue as JSON: every value layout serialises (wide columns,
/// column patterns and long files).
#[test]
fn layers_json_serialises_every_value_layout() {
    let (code, out, err) = run(&["layers", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let text = v.to_string();
    for kind in ["\"columns\"", "\"column_pattern\"", "\"long\""] {
        assert!(
            text.contains(kind),
            "no value layout {kind} in layers --json"
        );
    }
    assert!(
        text.contains("\"lad23\""),
        "lad23 missing from layers --json"
    );
}

#[test]
fn tiles_writes_a_pmtiles_archive() {
    let out = std::env::temp_dir().join(format!("placemap-cli-{}.pmtiles", std::process::id()));
    let path = out.display().to_string();
    let (code, _, err) = run(&[
        "tiles",
        "--layer",
        "lad19",
        "--min-zoom",
        "0",
        "--max-zoom",
        "5",
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&out).expect("archive written");
    let _ = std::fs::remove_file(&out);
    // PMTiles v3: magic "PMTiles", version 3, tile type 1 (MVT) at byte 99.
    assert_eq!(&bytes[..7], b"PMTiles");
    assert_eq!(bytes[7], 3);
    assert_eq!(bytes[99], 1, "tile type MVT");
    let (code, _, err) = run(&[
        "tiles",
        "--layer",
        "lad19",
        "--min-zoom",
        "6",
        "--max-zoom",
        "2",
        "--out",
        &path,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("zoom"), "{err}");
    assert!(!out.exists(), "no archive left behind");
    assert!(!out.with_extension("pmtiles.partial").exists());
}

/// `placemap` on the toy fixtures of `test-support`, logging at info level.
fn toy_render_logs(extra: &[&str]) -> String {
    let dir = test_support::fixtures_dir();
    let out = std::env::temp_dir().join(format!("placemap-log-{}.png", std::process::id()));
    let res = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .env("RUST_LOG", "info")
        .arg("--data")
        .arg(&dir)
        .arg("--catalog")
        .arg(dir.join("toy_catalog.toml"))
        .args(extra)
        .args([
            "render",
            "--layer",
            "toy",
            "--indicator",
            "toy_score",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("placemap runs");
    let _ = std::fs::remove_file(&out);
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(res.status.success(), "{err}");
    err
}

#[test]
fn log_json_writes_one_json_object_per_log_line() {
    let text = toy_render_logs(&[]);
    assert!(
        text.lines().any(|l| l.contains("INFO")) && !text.trim_start().starts_with('{'),
        "text logs by default: {text}"
    );
    let json = toy_render_logs(&["--log-json"]);
    // `placemap: ...` lines are the command's own notes to the user, not logs.
    let lines: Vec<&str> = json
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("placemap: "))
        .collect();
    assert!(lines.iter().any(|l| l.contains("layer loaded")), "{json}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert_eq!(v["level"], "INFO", "{line}");
        assert!(v["fields"].is_object(), "{line}");
    }
}

#[test]
fn serve_refuses_a_bad_public_url_or_proxy_before_loading() {
    let (code, _, err) = run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--public-url",
        "maps.example.org",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("--public-url \"maps.example.org\"") && err.contains("https://"),
        "{err}"
    );
    // The same options from the environment.
    let out = placemap()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("PLACEMAP_PUBLIC_URL", "https://maps.example.org")
        .env("PLACEMAP_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
        .output()
        .expect("placemap runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--trusted-proxies entry \"proxy.internal\""),
        "{err}"
    );
}

/// `placemap publish`: a whole folder or none, and clear errors for bad input (issue 11).
#[test]
fn publish_writes_a_whole_bundle_and_refuses_bad_input() {
    let root = std::env::temp_dir().join(format!("placemap-publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let out = root.join("bundle");
    let path = out.display().to_string();
    let publish = |extra: &[&str]| {
        let mut args = vec![
            "publish",
            "--layer",
            "lad19",
            "--indicator",
            "imd_score",
            "--max-zoom",
            "6",
            "--out",
            &path,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let leftovers = || -> Vec<String> {
        std::fs::read_dir(&root)
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "bundle")
            .collect()
    };

    let (code, _, err) = publish(&[]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("bundle")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for prefix in [
        "tiles-",
        "style-",
        "legend-",
        "map-",
        "data-",
        "districts-",
        "vendor-",
        "app-",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(prefix)),
            "{prefix} in {names:?}"
        );
    }
    // Every file in metadata.json is there, with its hash.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metadata.json")).expect("metadata"))
            .expect("JSON");
    for f in meta["files"].as_array().expect("files") {
        let p = out.join(f["path"].as_str().expect("path"));
        assert_eq!(
            std::fs::metadata(&p).expect("listed file").len(),
            f["bytes"].as_u64().expect("bytes"),
            "{}",
            p.display()
        );
    }
    assert!(leftovers().is_empty(), "{:?}", leftovers());

    // The folder exists and is not empty: refused without --force, replaced with it.
    let (code, _, err) = publish(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    let (code, _, err) = publish(&["--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(leftovers().is_empty(), "{:?}", leftovers());

    // Unknown indicator, zooms past 16: clear errors, nothing written.
    let other = root.join("other").display().to_string();
    for (args, says) in [
        (["--indicator", "no_such", "--max-zoom", "4"], "no_such"),
        (["--indicator", "imd_score", "--max-zoom", "17"], "zoom"),
    ] {
        let mut all = vec!["publish", "--layer", "lad19", "--out", &other];
        all.extend(args);
        let (code, _, err) = run(&all);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!root.join("other").exists());
    }
    // An unwritable place: a clear error naming it.
    let blocked = root.join("file");
    std::fs::write(&blocked, b"x").expect("file");
    let inside = blocked.join("bundle").display().to_string();
    let (code, _, err) = run(&[
        "publish",
        "--layer",
        "lad19",
        "--indicator",
        "imd_score",
        "--max-zoom",
        "4",
        "--out",
        &inside,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&blocked.display().to_string()), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}

/// Issue 15.9: every `placemap` example in the README uses a subcommand and flags the CLI has
/// (each `--flag` is in the subcommand's `--help`), and an example with its output documented
/// under it (`#   Pearson r = ...`) prints that output. Examples that write files or show
/// optional flags (`[--json|--csv]`) are only checked for their flags.
#[test]
fn readme_cli_examples_use_real_flags_and_print_what_is_documented() {
    use test_support::readme::{blocks, commands, readme, split_comment};
    let text = readme();
    let mut checked = 0;
    let mut ran = 0;
    for (lang, first, lines) in blocks(&text) {
        if lang != "sh" {
            continue;
        }
        for c in commands(&lines, first) {
            let (command, _) = split_comment(&c.text);
            let Some(rest) = command.strip_prefix("placemap ") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            let sub: Vec<&str> = words
                .iter()
                .take_while(|w| w.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'))
                .take_while(|w| !w.starts_with('-'))
                .copied()
                .collect();
            assert!(!sub.is_empty(), "README line {}: no subcommand", c.line);
            let mut help_args = sub.clone();
            help_args.push("--help");
            let (code, help, err) = run(&help_args);
            assert_eq!(code, 0, "README line {}: placemap {sub:?}: {err}", c.line);
            for w in command.split(|ch: char| ch.is_whitespace() || "[]|".contains(ch)) {
                if let Some(flag) = w.strip_prefix("--") {
                    let flag = flag.split('=').next().unwrap_or_default();
                    assert!(
                        help.contains(&format!("--{flag}")),
                        "README line {}: placemap {} has no --{flag}",
                        c.line,
                        sub.join(" ")
                    );
                }
            }
            checked += 1;
            let writes = command.contains("--out") || command.contains('>');
            if !c.output.is_empty() && !command.contains('[') && !writes {
                let args: Vec<&str> = rest.split_whitespace().collect();
                let (code, stdout, err) = run(&args);
                assert_eq!(code, 0, "README line {}: {err}", c.line);
                for want in &c.output {
                    assert!(
                        stdout.contains(want.trim()),
                        "README line {}: the documented output {want:?} is not printed:\n{stdout}",
                        c.line
                    );
                }
                ran += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} CLI examples found");
    assert!(ran >= 1, "no CLI example with documented output was run");
}

#[test]
fn lookup_points_reads_the_prepared_layer_the_first_run_wrote() {
    let cache = tempfile::tempdir().expect("temp dir");
    let cache_arg = cache.path().to_str().expect("UTF-8 path");
    let data = test_support::repo_root().join("../shared/data/naptan_rail_references_2016.csv");
    let data = data.to_str().expect("UTF-8 path");
    let args = |cache: &str| -> Vec<String> {
        [
            "--cache",
            cache,
            "lookup",
            "--layer",
            "lsoa11",
            "--points",
            data,
            "--crs",
            "EPSG:27700",
            "--x-col",
            "Easting",
            "--y-col",
            "Northing",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    };
    let runs: Vec<(i32, String, String)> = (0..2)
        .map(|_| {
            let a = args(cache_arg);
            run(&a.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .collect();
    for (code, _, err) in &runs {
        assert_eq!(*code, 0, "{err}");
    }
    assert_eq!(
        runs[0].1, runs[1].1,
        "the prepared layer gives the same answers"
    );
    assert!(runs[0].1.contains("E01011974"), "Hartlepool station's LSOA");
    let files: Vec<String> = std::fs::read_dir(cache.path().join("layers"))
        .expect("the cache has a layers directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.len() == 1 && files[0].starts_with("lsoa11-") && files[0].ends_with(".layer"),
        "{files:?}"
    );
    // `--cache none`: the same answers, nothing written.
    let empty = tempfile::tempdir().expect("temp dir");
    let a = args("none");
    let out = placemap()
        .env("HOME", empty.path())
        .env_remove("XDG_CACHE_HOME")
        .args(a.iter().map(String::as_str))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), runs[0].1);
    assert_eq!(std::fs::read_dir(empty.path()).expect("dir").count(), 0);
}

#[test]
fn lookup_points_can_leave_out_the_input_columns() {
    let data = test_support::repo_root().join("../shared/data/naptan_rail_references_2016.csv");
    let (code, out, err) = run(&[
        "lookup",
        "--layer",
        "lad19",
        "--points",
        data.to_str().expect("UTF-8 path"),
        "--crs",
        "EPSG:27700",
        "--x-col",
        "Easting",
        "--y-col",
        "Northing",
        "--keep-columns",
        "false",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("Easting,Northing,lad19_code,lad19_name"));
    assert_eq!(lines.count(), 2619);
}
