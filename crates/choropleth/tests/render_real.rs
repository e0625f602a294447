//! The renderer on real ONS boundaries (LAD 2019, generalised): Hartlepool drawn red at z10.

use crate::common;

use choropleth::render::{Feature, Fill, PngEncoder, Rgba, TileRenderer, TileSize, TileStyle};
use geo::InteriorPoint;

#[test]
fn hartlepool_is_red_at_its_interior_point_on_z10() {
    let path = common::data_dir().join("lad_2019_uk_generalised_wgs84.geojson");
    let lads = common::read_geojson(&path, "lad19cd").expect("LAD 2019 GeoJSON reads");
    assert_eq!(lads.len(), 382);
    let hartlepool = lads
        .iter()
        .find(|d| d.code == "E06000001")
        .expect("Hartlepool E06000001 is in the file");
    let point = hartlepool
        .wgs84
        .interior_point()
        .expect("Hartlepool has an interior point");
    let (lon, lat) = (point.x(), point.y());
    let tile = tile_math::tile_for_lonlat(lon, lat, 10);
    let bounds = tile.mercator_bounds();

    let red = Rgba(0xff, 0, 0, 255);
    let blue = Rgba(0, 0, 0xff, 255);
    let features = lads.iter().map(|d| Feature {
        geometry: &d.mercator,
        fill: Fill::Solid(if d.code == "E06000001" { red } else { blue }),
        highlight: false,
    });
    for size in [TileSize::Standard, TileSize::Retina] {
        let mut renderer = TileRenderer::new(size);
        let raster = renderer
            .render(bounds, features.clone(), &TileStyle::for_zoom(10))
            .expect("tile bounds are valid");
        let png = PngEncoder::new()
            .encode_raster(&raster, size)
            .expect("tile encodes");
        let img = image::load_from_memory(&png)
            .expect("our PNG decodes")
            .to_rgba8();
        let n = f64::from(size.px());
        let (mx, my) = tile_math::lonlat_to_mercator(lon, lat);
        let x = ((mx - bounds.min_x) / bounds.width() * n) as u32;
        let y = ((bounds.max_y - my) / bounds.height() * n) as u32;
        assert_eq!(
            img.get_pixel(x, y).0,
            [0xff, 0, 0, 0xff],
            "{size:?} at ({x},{y})"
        );
        // The tile also shows its neighbours (blue) or the sea (transparent): it is not flat red.
        let others = img
            .pixels()
            .filter(|p| p.0 == [0, 0, 0xff, 0xff] || p.0[3] == 0)
            .count();
        assert!(others > 0, "{size:?}: tile {tile:?} shows only Hartlepool");
    }
}
