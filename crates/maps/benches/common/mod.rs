//! Setup shared by the maps benches: the real data, the repository's catalogue, the peer
//! benchmark's tile list and the maps of LAD 2019 and LSOA 2011, loaded as the server does.
#![allow(dead_code)]

use std::sync::Arc;
pub use test_support::{catalog_path, data_dir};

use districts::Atlas;
use districts::catalog::Catalog;
use maps::{LoadOptions, Loaded};

/// The maps as benches share them.
pub type SharedState = Arc<Loaded>;

pub use test_support::tiles::peer_tiles;

/// The maps of LAD 2019 and LSOA 2011 (no lookup tables), geometry bands built as a server does.
pub fn state() -> SharedState {
    let catalog = Catalog::load(&catalog_path(), &data_dir()).expect("catalogue loads");
    let layers = vec!["lad19".to_string(), "lsoa11".to_string()];
    let atlas = Atlas::load(&catalog, &layers).expect("atlas loads");
    let version = maps::loaded::data_version(&catalog);
    let opts = LoadOptions {
        layers,
        bands: maps::loaded::BandsWhen::Now,
        ..LoadOptions::default()
    };
    Arc::new(Loaded::from_atlas(atlas, Vec::new(), version, &opts))
}
