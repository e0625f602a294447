//! XYZ tile maths with no I/O: tile coordinates to Web Mercator bounds, lon/lat to Web Mercator
//! metres and back. Kept apart (as martin's `martin-tile-utils`) so every crate agrees on it.

use std::fmt;

/// Radius of the Web Mercator sphere (EPSG:3857), metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Web Mercator world, metres.
pub const HALF_WORLD: f64 = std::f64::consts::PI * EARTH_RADIUS;
/// Latitude limit of Web Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// Deepest zoom level served.
pub const MAX_ZOOM: u8 = 22;

/// Projects WGS84 lon/lat degrees to Web Mercator metres (latitude clamped to the Mercator limit).
///
/// ```
/// let (x, y) = tile_math::lonlat_to_mercator(0.0, 0.0);
/// assert!(x.abs() < 1e-9 && y.abs() < 1e-9);
/// let (x, _) = tile_math::lonlat_to_mercator(180.0, 0.0);
/// assert!((x - tile_math::HALF_WORLD).abs() < 1e-6);
/// ```
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = lon.to_radians() * EARTH_RADIUS;
    let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
        .tan()
        .ln()
        * EARTH_RADIUS;
    (x, y)
}

/// Inverse of [`lonlat_to_mercator`].
///
/// ```
/// let (x, y) = tile_math::lonlat_to_mercator(-1.2, 54.7);
/// let (lon, lat) = tile_math::mercator_to_lonlat(x, y);
/// assert!((lon + 1.2).abs() < 1e-9 && (lat - 54.7).abs() < 1e-9);
/// ```
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// An axis-aligned box (min x, min y, max x, max y), in whatever units the caller names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Smallest x (the west edge in lon/lat or Mercator).
    pub min_x: f64,
    /// Smallest y (south).
    pub min_y: f64,
    /// Largest x (east).
    pub max_x: f64,
    /// Largest y (north).
    pub max_y: f64,
}

impl Bounds {
    /// Width of the box.
    pub fn width(&self) -> f64 {
        self.max_x - self.min_x
    }
    /// Height of the box.
    pub fn height(&self) -> f64 {
        self.max_y - self.min_y
    }
    /// Whether two boxes overlap (touching counts).
    pub fn intersects(&self, o: &Bounds) -> bool {
        self.min_x <= o.max_x
            && o.min_x <= self.max_x
            && self.min_y <= o.max_y
            && o.min_y <= self.max_y
    }
}

/// Why a tile address is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TileError {
    /// Zoom beyond what is served.
    #[allow(missing_docs)] // the fields are the zoom asked for and the deepest served
    ZoomTooDeep { z: u8, max: u8 },
    /// x or y not below 2^z.
    #[allow(missing_docs)] // the fields are the tile asked for
    OutOfRange { z: u8, x: u32, y: u32 },
}

impl fmt::Display for TileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileError::ZoomTooDeep { z, max } => {
                write!(f, "zoom {z} is beyond the maximum zoom {max}")
            }
            TileError::OutOfRange { z, x, y } => {
                let n = 1u64 << z;
                write!(
                    f,
                    "tile {z}/{x}/{y} is outside the grid: x and y must be below 2^{z} = {n}"
                )
            }
        }
    }
}

impl std::error::Error for TileError {}

/// An XYZ (Google/OSM scheme, y down from the north) tile address, checked on construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level.
    pub z: u8,
    /// Column, 0 at the west (antimeridian).
    pub x: u32,
    /// Row, 0 at the north (XYZ scheme).
    pub y: u32,
}

impl TileId {
    /// Checks that x and y are inside the 2^z grid and that z is at most `max_zoom`.
    ///
    /// ```
    /// use tile_math::TileId;
    /// assert!(TileId::new(0, 0, 0, 16).is_ok());
    /// assert!(TileId::new(3, 8, 0, 16).is_err());
    /// assert!(TileId::new(17, 0, 0, 16).is_err());
    /// ```
    pub fn new(z: u8, x: u32, y: u32, max_zoom: u8) -> Result<Self, TileError> {
        if z > max_zoom.min(MAX_ZOOM) {
            return Err(TileError::ZoomTooDeep {
                z,
                max: max_zoom.min(MAX_ZOOM),
            });
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange { z, x, y });
        }
        Ok(TileId { z, x, y })
    }

    /// Web Mercator bounds of the tile, metres.
    ///
    /// ```
    /// let b = tile_math::TileId::new(0, 0, 0, 16).unwrap().mercator_bounds();
    /// assert!((b.max_x - tile_math::HALF_WORLD).abs() < 1e-6);
    /// ```
    pub fn mercator_bounds(&self) -> Bounds {
        let size = tile_size_metres(self.z);
        let min_x = -HALF_WORLD + f64::from(self.x) * size;
        let max_y = HALF_WORLD - f64::from(self.y) * size;
        Bounds {
            min_x,
            min_y: max_y - size,
            max_x: min_x + size,
            max_y,
        }
    }

    /// Lon/lat bounds of the tile, degrees.
    pub fn lonlat_bounds(&self) -> Bounds {
        let b = self.mercator_bounds();
        let (min_x, min_y) = mercator_to_lonlat(b.min_x, b.min_y);
        let (max_x, max_y) = mercator_to_lonlat(b.max_x, b.max_y);
        Bounds {
            min_x,
            min_y,
            max_x,
            max_y,
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Width of one tile at zoom `z`, Web Mercator metres.
pub fn tile_size_metres(z: u8) -> f64 {
    2.0 * HALF_WORLD / (1u64 << z) as f64
}

/// Ground size of one pixel of a 256 px tile at zoom `z`, Web Mercator metres.
///
/// ```
/// assert!((tile_math::metres_per_pixel(0) - 156_543.033_928).abs() < 1e-3);
/// ```
pub fn metres_per_pixel(z: u8) -> f64 {
    tile_size_metres(z) / 256.0
}

/// The tile at zoom `z` containing a lon/lat point.
///
/// ```
/// let t = tile_math::tile_for_lonlat(-1.21, 54.69, 10);
/// assert_eq!((t.z, t.x, t.y), (10, 508, 325));
/// ```
pub fn tile_for_lonlat(lon: f64, lat: f64, z: u8) -> TileId {
    let (x, y) = lonlat_to_mercator(lon, lat);
    let size = tile_size_metres(z);
    let n = (1u64 << z) as f64;
    let tx = ((x + HALF_WORLD) / size).floor().clamp(0.0, n - 1.0) as u32;
    let ty = ((HALF_WORLD - y) / size).floor().clamp(0.0, n - 1.0) as u32;
    TileId { z, x: tx, y: ty }
}

/// All tiles at zoom `z` covering a lon/lat box.
///
/// ```
/// let tiles = tile_math::tiles_covering(-6.45, 49.85, 1.8, 55.85, 5);
/// assert!(tiles.iter().all(|t| t.z == 5) && !tiles.is_empty());
/// ```
pub fn tiles_covering(
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
    z: u8,
) -> Vec<TileId> {
    let a = tile_for_lonlat(min_lon, max_lat, z);
    let b = tile_for_lonlat(max_lon, min_lat, z);
    let mut out = Vec::new();
    for x in a.x..=b.x {
        for y in a.y..=b.y {
            out.push(TileId { z, x, y });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_bounds_tile_the_world() {
        let t = TileId::new(1, 1, 0, 16).unwrap();
        let b = t.mercator_bounds();
        assert!((b.min_x).abs() < 1e-6 && (b.min_y).abs() < 1e-6);
        assert!((b.max_x - HALF_WORLD).abs() < 1e-6);
    }

    #[test]
    fn round_trip_tile_for_point() {
        for z in 0..=16u8 {
            let t = tile_for_lonlat(-0.1276, 51.5072, z);
            let b = t.lonlat_bounds();
            assert!(b.min_x <= -0.1276 && -0.1276 <= b.max_x, "z{z}");
            assert!(b.min_y <= 51.5072 && 51.5072 <= b.max_y, "z{z}");
        }
    }

    #[test]
    fn rejects_out_of_grid() {
        assert_eq!(
            TileId::new(2, 4, 0, 16),
            Err(TileError::OutOfRange { z: 2, x: 4, y: 0 })
        );
        assert!(matches!(
            TileId::new(20, 0, 0, 16),
            Err(TileError::ZoomTooDeep { .. })
        ));
    }
}
