//! Geometry tagged with its coordinate system, so lon/lat can never reach the renderer by
//! mistake: a [`Wgs84`] must be turned into a [`Mercator`] explicitly.

use geo::{BoundingRect, MapCoords};
use geo_types::{MultiPolygon, Rect};

/// A (multi)polygon in WGS84 longitude/latitude degrees (x = lon, y = lat), as RFC 7946 GeoJSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Wgs84(pub MultiPolygon<f64>);

/// A (multi)polygon in Web Mercator (EPSG:3857) metres, for tiles and static maps.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mercator(pub MultiPolygon<f64>);

impl Wgs84 {
    /// Projects to Web Mercator.
    ///
    /// ```
    /// use districts::Wgs84;
    /// use geo_types::{polygon, MultiPolygon};
    /// let p = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
    /// let m = Wgs84(MultiPolygon(vec![p])).to_mercator();
    /// assert!((m.0.0[0].exterior().0[1].x - 111_319.49).abs() < 0.01);
    /// ```
    pub fn to_mercator(&self) -> Mercator {
        Mercator(self.0.map_coords(|c| {
            let (x, y) = tile_math::lonlat_to_mercator(c.x, c.y);
            geo_types::coord! { x: x, y: y }
        }))
    }

    /// Bounding box in degrees, `None` for an empty geometry.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.0.bounding_rect()
    }
}

impl Mercator {
    /// Bounding box in metres, `None` for an empty geometry.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.0.bounding_rect()
    }
}
