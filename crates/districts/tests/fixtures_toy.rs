//! The toy fixtures of `test-support` (four square districts, a CSV with one unmatched code each
//! way) through the whole districts pipeline: catalogue, load, join report, point lookup.

use districts::Atlas;
use districts::catalog::Catalog;

fn toy() -> Atlas {
    let dir = test_support::fixtures_dir();
    let catalog = Catalog::load(&dir.join("toy_catalog.toml"), &dir)
        .unwrap_or_else(|e| panic!("toy catalogue: {e}"));
    Atlas::load(&catalog, &["toy".to_string()]).unwrap_or_else(|e| panic!("toy atlas: {e}"))
}

#[test]
fn toy_join_reports_one_unmatched_code_each_way() {
    let atlas = toy();
    let layer = atlas.layer("toy").expect("toy layer");
    let score = layer.indicator("toy_score").expect("toy_score");
    let report = &score.report;
    assert_eq!(report.boundary_count, 4);
    assert_eq!(report.matched, 3);
    let codes = |v: &[districts::model::ReportedCode]| -> Vec<String> {
        v.iter().map(|c| c.code.clone()).collect()
    };
    assert_eq!(codes(&report.boundaries_without_data), ["E09000904"]);
    assert_eq!(codes(&report.data_without_boundary), ["E09000999"]);
}
