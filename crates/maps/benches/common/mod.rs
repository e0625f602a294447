//! Setup shared by the maps benches: the real data, the repository's catalogue, the peer
//! benchmark's tile list and the maps of LAD 2019 and LSOA 2011, loaded as the server does.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use districts::Atlas;
use districts::catalog::Catalog;
use maps::{LoadOptions, Loaded};
use tile_math::TileId;

/// The maps as benches share them.
pub type SharedState = Arc<Loaded>;

pub fn data_dir() -> PathBuf {
    std::env::var_os("PLACEMAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

pub fn catalog_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../boundaries/catalog.toml"
    ))
}

/// Tiles from `z x y` lines.
pub fn parse_tiles(text: &str) -> Vec<TileId> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<u32> = l
                .split_whitespace()
                .map(|s| s.parse().expect("tile list is numbers"))
                .collect();
            TileId::new(v[0] as u8, v[1], v[2], 22).expect("tile list holds valid tiles")
        })
        .collect()
}

/// The peer's tile list (329 tiles, England z5..z10).
pub fn peer_tiles() -> Vec<TileId> {
    parse_tiles(include_str!("../../../choropleth/benches/tiles_z5_z10.txt"))
}

/// The maps of LAD 2019 and LSOA 2011 (no lookup tables), geometry bands built as a server does.
pub fn state() -> SharedState {
    let catalog = Catalog::load(&catalog_path(), &data_dir()).expect("catalogue loads");
    let layers = vec!["lad19".to_string(), "lsoa11".to_string()];
    let atlas = Atlas::load(&catalog, &layers).expect("atlas loads");
    let version = maps::loaded::data_version(&catalog);
    let opts = LoadOptions {
        layers,
        eager_bands: true,
        ..LoadOptions::default()
    };
    Arc::new(Loaded::from_atlas(atlas, Vec::new(), version, &opts))
}
