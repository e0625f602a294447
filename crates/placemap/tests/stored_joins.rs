//! Joins stored with uploaded versions (issue 16): start-up decodes them instead of joining
//! every stored table again, and falls back to joining (then stores the new join) when a
//! stored join no longer fits the layer, cannot be read, or was never stored (a database from
//! before the `joins` table). Real data: the 6,527-row ASHE pay table of every geography on
//! LAD 2021, the table of BENCHMARKS.md section 11.

use std::sync::OnceLock;

use datasets::{DatasetStore, KnownLayer, SqliteStore, UploadOptions};
use districts::Indicator;
use maps::Loaded;

const TABLE: &str = "els_median_weekly_pay_2008_2022_lad21.csv";

/// LAD 2021 loaded once for every test here.
fn lad21() -> &'static (Loaded, Vec<KnownLayer>) {
    static LOADED: OnceLock<(Loaded, Vec<KnownLayer>)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let catalog = districts::catalog::Catalog::load(
            &test_support::catalog_path(),
            &test_support::data_dir(),
        )
        .expect("catalogue");
        let opts = maps::loaded::LoadOptions {
            layers: vec!["lad21".into()],
            ..Default::default()
        };
        let loaded = Loaded::load(&catalog, &opts).expect("lad21 loads");
        let layers = datasets::known_layers(&loaded);
        (loaded, layers)
    })
}

fn analysis(id: &str) -> datasets::Analysis {
    let bytes = std::fs::read(test_support::data_dir().join(TABLE)).expect("pay table");
    let opts = UploadOptions {
        id: Some(id.into()),
        layer: Some("lad21".into()),
        ..Default::default()
    };
    datasets::analyse(
        &bytes,
        TABLE,
        Some("text/csv"),
        &opts,
        &lad21().1,
        &datasets::Limits::default(),
    )
    .expect("analysed")
}

/// Stores the pay table as dataset `id`, with its join or without (as before `joins`).
fn store(s: &SqliteStore, id: &str, with_join: bool) {
    let a = analysis(id);
    let join = if with_join {
        a.stored_join(&lad21().1)
    } else {
        Vec::new()
    };
    assert_eq!(join.is_empty(), !with_join);
    let version = datasets::NewVersion {
        meta: &a.meta,
        layer: "lad21",
        report: "{}",
        table: &datasets::table::encode(&a.table),
        join: &join,
    };
    s.put_version(&version, true, 100).expect("stored");
}

/// Applies every stored version to LAD 2021: the maps and the joins made again.
fn apply(s: &SqliteStore) -> datasets::Applied {
    let (loaded, layers) = lad21();
    let versions = datasets::parse_versions(s.live_versions().expect("versions"));
    datasets::apply_parsed(
        loaded,
        layers,
        &versions,
        s.generation().expect("generation"),
        Some(s),
    )
}

/// The pay indicators of dataset `id` on lad21, sorted by id with the dataset id removed.
fn indicators_of(maps: &Loaded, id: &str) -> Vec<(String, Indicator)> {
    let layer = maps.atlas.layer("lad21").expect("lad21");
    let mut out: Vec<(String, Indicator)> = layer
        .indicators
        .iter()
        .filter(|i| i.meta.source_id == id)
        .map(|i| (i.meta.id.replacen(id, "", 1), (**i).clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Same values, periods and join report (report ids and file names differ by dataset id).
fn assert_same(a: &[(String, Indicator)], b: &[(String, Indicator)]) {
    assert_eq!(a.len(), b.len());
    assert!(!a.is_empty());
    for ((ka, ia), (kb, ib)) in a.iter().zip(b) {
        assert_eq!(ka, kb);
        assert_eq!(ia.periods.len(), ib.periods.len(), "{ka}");
        for (pa, pb) in ia.periods.iter().zip(&ib.periods) {
            assert_eq!(pa.label, pb.label);
            assert_eq!(
                format!("{:?}", pa.values),
                format!("{:?}", pb.values),
                "{ka}"
            );
        }
        assert_eq!(ia.report.matched, ib.report.matched);
        assert_eq!(
            ia.report.boundaries_without_data,
            ib.report.boundaries_without_data
        );
        assert_eq!(
            ia.report.data_without_boundary,
            ib.report.data_without_boundary
        );
        assert_eq!(ia.report.not_district_codes, ib.report.not_district_codes);
    }
}

#[test]
fn a_stored_join_gives_the_same_indicators_as_joining_the_table_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = SqliteStore::open(dir.path()).expect("store");
    store(&s, "with", true);
    store(&s, "without", false);
    let versions = s.live_versions().expect("versions");
    assert!(
        !versions[0].join.is_empty(),
        "the join is stored with the version"
    );
    // ... and read without the table, which it makes unnecessary.
    assert!(versions[0].table.is_empty());
    assert!(versions[1].join.is_empty());
    assert!(!versions[1].table.is_empty());

    let applied = apply(&s);
    // Only the version stored without a join was joined again.
    let again: Vec<&str> = applied
        .rejoined
        .iter()
        .map(|r| r.dataset.as_str())
        .collect();
    assert_eq!(again, ["without"]);
    let with = indicators_of(&applied.maps, "with");
    let without = indicators_of(&applied.maps, "without");
    // Latest and pinned (`@1`) ids of each of the table's measures.
    assert!(
        with.iter().any(|(k, _)| k.ends_with("@1")),
        "{:?}",
        with.iter().map(|w| &w.0).collect::<Vec<_>>()
    );
    assert_same(&with, &without);
    // 2022 median weekly pay of Hartlepool is in both.
    let hartlepool = applied
        .maps
        .atlas
        .layer("lad21")
        .and_then(|l| l.districts.iter().position(|d| d.code == "E06000001"))
        .expect("Hartlepool");
    let (_, pay) = &with[0];
    let latest = pay.periods.last().expect("a period");
    match &latest.values {
        districts::PeriodValues::Numeric(v) => assert!(v[hartlepool].is_some_and(|x| x > 100.0)),
        other => panic!("numeric expected, got {other:?}"),
    }

    // Stored, the joins made again are used at the next start: nothing joined again.
    datasets::store_joins(&s, &applied.rejoined);
    let again = apply(&s);
    assert!(again.rejoined.is_empty());
    assert_same(&indicators_of(&again.maps, "without"), &without);
    // Storing a join is not a change of the data.
    assert_eq!(s.generation().expect("generation"), 2);
}

#[test]
fn a_join_that_no_longer_fits_or_cannot_be_read_is_made_again_and_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = SqliteStore::open(dir.path()).expect("store");
    store(&s, "moved", true);
    store(&s, "garbled", true);
    store(&s, "reference", true);
    // A join made against other boundaries (as after a changed boundary file or another
    // program): its key no longer matches the layer.
    let mut moved = datasets::stored_join::StoredJoin::decode(
        &s.version("moved", Some(1))
            .expect("read")
            .expect("stored")
            .join,
    )
    .expect("decodes");
    assert!(moved.fits(lad21().1.iter().find(|l| l.id == "lad21").expect("lad21")));
    moved.layer_key = "0".repeat(32);
    s.put_join("moved", 1, &moved.encode()).expect("replaced");
    s.put_join("garbled", 1, b"placemap-join-1\n\xff\xff\xff")
        .expect("replaced");

    let applied = apply(&s);
    let mut again: Vec<&str> = applied
        .rejoined
        .iter()
        .map(|r| r.dataset.as_str())
        .collect();
    again.sort_unstable();
    assert_eq!(again, ["garbled", "moved"]);
    let reference = indicators_of(&applied.maps, "reference");
    assert_same(&indicators_of(&applied.maps, "moved"), &reference);
    assert_same(&indicators_of(&applied.maps, "garbled"), &reference);

    datasets::store_joins(&s, &applied.rejoined);
    let next = apply(&s);
    assert!(next.rejoined.is_empty(), "the new joins fit");
    assert_same(&indicators_of(&next.maps, "moved"), &reference);
}

#[test]
fn a_database_from_before_stored_joins_opens_and_its_versions_are_joined() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = analysis("old");
    // The schema of version 1, as earlier releases created it.
    {
        let conn =
            rusqlite::Connection::open(dir.path().join(datasets::sqlite::DB_FILE)).expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE datasets (id TEXT PRIMARY KEY, title TEXT NOT NULL, unit TEXT NOT NULL,
                direction TEXT NOT NULL, source TEXT NOT NULL, licence TEXT NOT NULL,
                created INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE versions (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                dataset TEXT NOT NULL REFERENCES datasets(id), version INTEGER NOT NULL,
                layer TEXT NOT NULL, meta TEXT NOT NULL, report TEXT NOT NULL, tbl TEXT NOT NULL,
                created INTEGER NOT NULL, UNIQUE (dataset, version));
             CREATE TABLE generation (n INTEGER NOT NULL);
             INSERT INTO generation (n) VALUES (1);
             INSERT INTO datasets VALUES ('old', 'Pay', '', 'neutral', 's', 'l', 0, 0);
             PRAGMA user_version = 1;",
        )
        .expect("v1 schema");
        conn.execute(
            "INSERT INTO versions (dataset, version, layer, meta, report, tbl, created)
             VALUES ('old', 1, 'lad21', ?1, '{}', ?2, 0)",
            rusqlite::params![
                serde_json::to_string(&a.meta).expect("meta"),
                datasets::table::encode(&a.table)
            ],
        )
        .expect("v1 version");
    }
    let s = SqliteStore::open(dir.path()).expect("opens and migrates");
    let versions = s.live_versions().expect("versions");
    assert_eq!(versions.len(), 1);
    assert!(versions[0].join.is_empty());
    let applied = apply(&s);
    assert_eq!(applied.rejoined.len(), 1);
    assert!(!indicators_of(&applied.maps, "old").is_empty());
    datasets::store_joins(&s, &applied.rejoined);
    assert!(apply(&s).rejoined.is_empty());
}
