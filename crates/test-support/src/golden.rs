//! Golden outputs under the repository's `tests/expected/`: one PNG comparison and one SVG
//! comparison, each with a single tolerance.
//!
//! `PLACEMAP_BLESS=1` (`make bless`) rewrites the golden file. A missing golden file fails under
//! `CI=true` and is written (with a note to review it) otherwise. On a PNG mismatch the actual
//! image is written to the system temporary directory for inspection.

use std::path::{Path, PathBuf};

/// Largest per-pixel difference (the maximum over RGBA channels) that counts as anti-aliasing.
pub const PIXEL_OFF: u8 = 32;
/// The mean per-pixel difference (maximum over channels) must stay below this.
pub const MAX_MEAN_DIFF: f64 = 1.0;
/// The share of pixels off by more than [`PIXEL_OFF`] must stay below this.
pub const MAX_OFF_SHARE: f64 = 0.005;

/// The golden file's path, or `None` after (re)writing it: blessing, or missing outside CI.
fn golden_or_write(name: &str, actual: &[u8]) -> Option<PathBuf> {
    let path = super::expected_dir().join(name);
    let bless = super::blessing();
    if !bless && path.exists() {
        return Some(path);
    }
    assert!(
        bless || !super::in_ci(),
        "golden file {} is missing: run `make bless`, review it by eye and commit it",
        path.display()
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    eprintln!("wrote golden file {} (review it by eye)", path.display());
    None
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading golden {}: {e}", path.display()))
}

/// Compares a PNG with `tests/expected/{name}`, tolerating anti-aliasing differences: the mean
/// per-pixel difference below [`MAX_MEAN_DIFF`] and under [`MAX_OFF_SHARE`] of pixels off by more
/// than [`PIXEL_OFF`].
pub fn check_png(name: &str, png: &[u8]) {
    let Some(path) = golden_or_write(name, png) else {
        return;
    };
    let want = image::load_from_memory(&read(&path))
        .unwrap_or_else(|e| panic!("golden {} does not decode: {e}", path.display()))
        .to_rgba8();
    let got = image::load_from_memory(png)
        .unwrap_or_else(|e| panic!("{name}: output does not decode: {e}"))
        .to_rgba8();
    assert_eq!(
        want.dimensions(),
        got.dimensions(),
        "{name}: size differs from the golden file"
    );
    let mut total = 0u64;
    let mut big = 0u64;
    for (a, b) in want.pixels().zip(got.pixels()) {
        let d =
            a.0.iter()
                .zip(b.0.iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
        total += u64::from(d);
        if d > PIXEL_OFF {
            big += 1;
        }
    }
    let n = f64::from(want.width()) * f64::from(want.height());
    #[allow(clippy::cast_precision_loss)] // pixel counts are far below 2^52
    let (mean, share) = (total as f64 / n, big as f64 / n);
    if mean >= MAX_MEAN_DIFF || share >= MAX_OFF_SHARE {
        let out = std::env::temp_dir().join(format!("placemap-actual-{}", name.replace('/', "-")));
        let _ = std::fs::write(&out, png);
        panic!(
            "{name}: differs from the golden file (mean abs diff {mean:.3}, {:.3}% pixels off by > {PIXEL_OFF}); \
             actual written to {} (re-bless with `make bless` if the change is intended)",
            share * 100.0,
            out.display()
        );
    }
}

/// Compares an SVG with `tests/expected/{name}` structurally: the same number of `<path>`,
/// `<text>`, `<use>` and `<rect>` elements and the same text contents (coordinates may move by
/// rounding).
pub fn check_svg(name: &str, svg: &str) {
    let Some(path) = golden_or_write(name, svg.as_bytes()) else {
        return;
    };
    let want = String::from_utf8(read(&path))
        .unwrap_or_else(|e| panic!("golden {} is not UTF-8: {e}", path.display()));
    for tag in ["<path", "<text", "<use", "<rect"] {
        assert_eq!(
            svg.matches(tag).count(),
            want.matches(tag).count(),
            "{name}: number of {tag} elements differs from the golden file"
        );
    }
    assert_eq!(
        svg_texts(svg),
        svg_texts(&want),
        "{name}: text contents differ from the golden file"
    );
}

/// Contents of every `<text>` element, in document order.
pub fn svg_texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let open_end = t.find('>')?;
            let close = t.find("</text>")?;
            Some(&t[open_end + 1..close])
        })
        .collect()
}
