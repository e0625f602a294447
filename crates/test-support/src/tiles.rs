//! The benchmark tile list: England z5..z10, 120 sampled tiles per zoom, the exact sample of the
//! Mapnik peer benchmark (`crates/choropleth/benches/tiles_z5_z10.txt`, written by
//! `gen_tiles_z5_z10.py`).

use tile_math::TileId;

/// The list as committed: one `z x y` line per tile.
pub const PEER_TILES_TEXT: &str = include_str!("../../choropleth/benches/tiles_z5_z10.txt");

/// Tiles from `z x y` lines (blank lines skipped). Panics on a malformed line (test code).
pub fn parse_tiles(text: &str) -> Vec<TileId> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<u32> = l
                .split_whitespace()
                .map(|s| {
                    s.parse()
                        .unwrap_or_else(|e| panic!("tile list line {l:?}: {e}"))
                })
                .collect();
            let [z, x, y] = v[..] else {
                panic!("tile list line {l:?}: want `z x y`");
            };
            let z = u8::try_from(z).unwrap_or_else(|e| panic!("tile list line {l:?}: {e}"));
            TileId::new(z, x, y, 22)
                .unwrap_or_else(|e| panic!("tile list line {l:?}: not a valid tile: {e}"))
        })
        .collect()
}

/// The peer benchmark's tiles (329 tiles, England z5..z10).
pub fn peer_tiles() -> Vec<TileId> {
    parse_tiles(PEER_TILES_TEXT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peer_list_parses() {
        let tiles = super::peer_tiles();
        assert!(!tiles.is_empty());
        assert!(tiles.iter().all(|t| (5..=10).contains(&t.z)));
    }
}
