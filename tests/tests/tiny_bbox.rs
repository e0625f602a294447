//! Static maps of tiny boxes (issue 12): a box a millimetre across renders the district it lies
//! in, as a box ten metres across does, rather than panicking inside tiny-skia.

use placemap_e2e::{get, state};

/// The most common colour of a PNG, and the share of pixels that have it.
/// The most common colour other than the white page, and its share of the figure (a small
/// figure is largely text and legend; the map is the biggest block of one colour).
fn dominant_colour(png: &[u8]) -> ([u8; 4], f64) {
    let img = image::load_from_memory(png).expect("PNG").to_rgba8();
    let mut counts = std::collections::HashMap::new();
    for p in img.pixels().filter(|p| p.0 != [255, 255, 255, 255]) {
        *counts.entry(p.0).or_insert(0usize) += 1;
    }
    let (colour, n) = counts.into_iter().max_by_key(|(_, n)| *n).expect("pixels");
    (colour, n as f64 / f64::from(img.width() * img.height()))
}

#[tokio::test]
async fn a_millimetre_box_renders_the_district_it_is_in() {
    let (lon, lat) = (-1.2, 54.6);
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    // The ten-metre box lies inside one district.
    let d = 1e-4;
    let inside: Vec<Option<usize>> = [
        (lon, lat),
        (lon + d, lat),
        (lon, lat + d),
        (lon + d, lat + d),
    ]
    .iter()
    .map(|&(x, y)| layer.index.lookup(x, y))
    .collect();
    assert!(
        inside[0].is_some() && inside.iter().all(|i| *i == inside[0]),
        "{inside:?}"
    );

    let url = |w: f64, s: f64, e: f64, n: f64| {
        format!("/static/lad19/imd_score.png?bbox={w},{s},{e},{n}&width=400&height=300")
    };
    let tiny = get(&url(lon, lat, -1.19999999, 54.60000001)).await;
    assert_eq!(tiny.status, 200, "{}", tiny.text());
    let ten_metres = get(&url(lon, lat, lon + d, lat + d)).await;
    assert_eq!(ten_metres.status, 200, "{}", ten_metres.text());
    let (a, share_a) = dominant_colour(&tiny.body);
    let (b, share_b) = dominant_colour(&ten_metres.body);
    assert_eq!(a, b, "the same district fill");
    assert!(share_a > 0.15 && share_b > 0.15, "{share_a} {share_b}");

    // The SVG of the same box, and smaller boxes still, render too.
    let svg = get(&url(lon, lat, -1.19999999, 54.60000001).replace(".png", ".svg")).await;
    assert_eq!(svg.status, 200);
    for d in [1e-9, 1e-12] {
        let r = get(&url(lon, lat, lon + d, lat + d)).await;
        assert_eq!(r.status, 200, "{d}: {}", r.text());
        assert_eq!(dominant_colour(&r.body).0, a, "{d}");
    }
    // A box of no area is a clear 400 naming the extent, not a panic.
    let r = get(&url(lon, lat, lon, lat)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("extent")),
        "{}",
        r.text()
    );
}
