//! `placemap tiles` reads only the tables of the indicators it writes
//! (`LoadOptions::only_indicators`, issue 11: lad19 z0-10 went from about 1 s to 0.1 s and
//! from 250 MB to 35 MB), and the values are those of a full load: where a merged district
//! waits for recombination weights (IMD 2019 scores on the 2023 districts), everything it
//! needs is loaded as before.

use districts::layer::PeriodValues;
use maps::Loaded;
use maps::loaded::LoadOptions;

fn catalog() -> districts::catalog::Catalog {
    districts::catalog::Catalog::load(&test_support::catalog_path(), &test_support::data_dir())
        .expect("catalogue")
}

fn values(loaded: &Loaded, layer: &str, id: &str) -> Vec<(String, Option<f64>)> {
    let layer = loaded.layer(layer).expect("layer");
    let ind = loaded.indicator(layer, id).expect("indicator");
    let Some(PeriodValues::Numeric(v)) = ind.period(&ind.default_period).map(|p| &p.values) else {
        panic!("{id} is numeric");
    };
    layer
        .districts
        .iter()
        .zip(v.iter())
        .map(|(d, v)| (d.code.clone(), *v))
        .collect()
}

fn load(catalog: &districts::catalog::Catalog, layer: &str, lean: bool) -> Loaded {
    let ids = vec!["imd_score".to_string()];
    let opts = if lean {
        LoadOptions {
            layers: vec![layer.into()],
            only_indicators: Some(ids),
            ..LoadOptions::default()
        }
    } else {
        LoadOptions {
            layers: catalog.layers_for(layer, Some(&ids)),
            ..LoadOptions::default()
        }
    };
    Loaded::load(catalog, &opts).expect("loads")
}

#[test]
fn one_indicator_reads_only_its_table_and_gives_the_full_loads_values() {
    let catalog = catalog();
    let lean = load(&catalog, "lad19", true);
    let full = load(&catalog, "lad19", false);
    // Lean: lad19 alone, the IMD table's indicators only, no lookups.
    assert_eq!(lean.atlas.layer_ids(), ["lad19"]);
    assert!(lean.lookups.is_empty());
    let lad19 = lean.layer("lad19").expect("lad19");
    assert!(lad19.indicator("imd_score").is_some());
    assert!(lad19.indicators.len() < full.layer("lad19").expect("lad19").indicators.len());
    assert!(full.atlas.layer("lsoa11").is_some() && !full.lookups.is_empty());
    let v = values(&lean, "lad19", "imd_score");
    assert_eq!(v, values(&full, "lad19", "imd_score"));
    // Hartlepool, IMD 2019 File 10.
    assert!(v.contains(&("E06000001".into(), Some(35.037))));
}

#[test]
fn a_recombination_waiting_for_weights_loads_what_it_needs() {
    let catalog = catalog();
    let lean = load(&catalog, "lad23", true);
    let full = load(&catalog, "lad23", false);
    // The weights (population on lad19, from the LSOAs) were loaded.
    assert!(lean.atlas.layer("lsoa11").is_some());
    let v = values(&lean, "lad23", "imd_score");
    assert_eq!(v, values(&full, "lad23", "imd_score"));
    // Cumberland (2023, merged from Allerdale, Carlisle and Copeland) has a recombined value.
    let cumberland = v
        .iter()
        .find(|(c, _)| c == "E06000063")
        .expect("Cumberland");
    assert!(cumberland.1.is_some(), "{cumberland:?}");
}
