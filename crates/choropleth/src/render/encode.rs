//! PNG encoding of rendered tiles, tuned for speed: fdeflate's fast mode (the `png` crate's
//! `Compression::Fast`), an indexed (palette) PNG whenever the tile has at most 256 distinct colours
//! (then with the smallest bit depth that holds them), RGBA otherwise. Empty tiles share one PNG.

use std::sync::OnceLock;

use png::{BitDepth, ColorType, Compression, Encoder, Filter};
use thiserror::Error;
use tiny_skia::{Pixmap, PremultipliedColorU8};

use super::raster::TileRaster;
use super::style::{Rgba, TileSize};

/// Why a PNG could not be written (in practice only if the `png` crate refuses its input).
#[derive(Debug, Error)]
#[error("could not encode a {width}x{height} {kind} PNG tile: {source}")]
pub struct EncodeError {
    width: u32,
    height: u32,
    kind: &'static str,
    #[source]
    source: png::EncodingError,
}

/// Encodes tiles to PNG, keeping its scratch buffers between tiles (one per thread).
#[derive(Debug, Default)]
pub struct PngEncoder {
    rgba: Vec<u8>,
    indices: Vec<u8>,
    packed: Vec<u8>,
    palette: PaletteBuilder,
}

impl PngEncoder {
    /// A new encoder with empty buffers.
    pub fn new() -> PngEncoder {
        PngEncoder::default()
    }

    /// Encodes a premultiplied pixmap (as tiny-skia draws it) to a straight-alpha PNG: indexed when
    /// it has at most 256 colours, RGBA otherwise.
    ///
    /// ```
    /// use choropleth::render::PngEncoder;
    /// let mut p = tiny_skia::Pixmap::new(4, 4).unwrap();
    /// p.fill(tiny_skia::Color::from_rgba8(10, 20, 30, 255));
    /// let png = PngEncoder::new().encode(&p)?;
    /// assert_eq!(&png[1..4], b"PNG");
    /// # Ok::<(), choropleth::render::EncodeError>(())
    /// ```
    pub fn encode(&mut self, pixmap: &Pixmap) -> Result<Vec<u8>, EncodeError> {
        let (w, h) = (pixmap.width(), pixmap.height());
        let pixels = pixmap.pixels();
        if self.palette.build(pixels, &mut self.indices) {
            let depth = bit_depth_for(self.palette.len());
            let bits = depth as usize;
            let data: &[u8] = if bits == 8 {
                &self.indices
            } else {
                pack_rows(&self.indices, w as usize, bits, &mut self.packed);
                &self.packed
            };
            let (plte, trns) = self.palette.plte_trns();
            encode_indexed(w, h, Compression::Fast, depth, &plte, trns.as_deref(), data)
        } else {
            demultiply_into(pixels, &mut self.rgba);
            encode_rgba(w, h, &self.rgba)
        }
    }

    /// Encodes whatever [`crate::render::TileRenderer::render`] returned: the shared empty PNG, a
    /// one-colour PNG, or the pixels.
    ///
    /// ```
    /// use choropleth::render::{PngEncoder, TileRaster, TileSize, empty_tile_png};
    /// let png = PngEncoder::new().encode_raster(&TileRaster::Empty, TileSize::Standard)?;
    /// assert_eq!(png, empty_tile_png(TileSize::Standard)?);
    /// # Ok::<(), choropleth::render::EncodeError>(())
    /// ```
    pub fn encode_raster(
        &mut self,
        raster: &TileRaster<'_>,
        size: TileSize,
    ) -> Result<Vec<u8>, EncodeError> {
        match raster {
            TileRaster::Empty => Ok(empty_tile_png(size)?.to_vec()),
            TileRaster::Flat(c) => flat_tile_png(*c, size),
            TileRaster::Pixels(p) => self.encode(p),
        }
    }
}

/// Encodes a large pixmap (a static map) to PNG like [`PngEncoder::encode`], holding as little
/// besides the pixmap as it can: when the image has more than 256 colours, rows are
/// demultiplied one at a time into the PNG stream instead of into a second full-size RGBA
/// copy (4 bytes a pixel less: a 10,000 px square map peaked at about 8.3 bytes a pixel
/// before). Stops and returns `None` once `cancelled()` is true (checked every 64 rows).
///
/// ```
/// let mut p = tiny_skia::Pixmap::new(300, 20).unwrap();
/// for (i, px) in p.pixels_mut().iter_mut().enumerate() {
///     *px = tiny_skia::ColorU8::from_rgba((i % 256) as u8, (i / 256) as u8, 7, 255).premultiply();
/// }
/// let streamed = choropleth::render::encode::encode_png_lean(&p, &|| false)?.unwrap();
/// assert_eq!(&streamed[1..4], b"PNG");
/// assert!(choropleth::render::encode::encode_png_lean(&p, &|| true)?.is_none());
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn encode_png_lean(
    pixmap: &Pixmap,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<Vec<u8>>, EncodeError> {
    let (w, h) = (pixmap.width(), pixmap.height());
    {
        // Few colours (flat fills, no anti-aliasing): the indexed form is small anyway.
        let mut enc = PngEncoder::new();
        if enc.palette.build(pixmap.pixels(), &mut enc.indices) {
            return enc.encode(pixmap).map(Some);
        }
    }
    let err = |source| EncodeError {
        width: w,
        height: h,
        kind: "RGBA",
        source,
    };
    let mut out = Vec::new();
    let enc = rgba_encoder(&mut out, w, h);
    let mut writer = enc.write_header().map_err(err)?;
    let mut stream = writer.stream_writer().map_err(err)?;
    let mut row = Vec::with_capacity(w as usize * 4);
    for (n, pixels) in pixmap.pixels().chunks(w.max(1) as usize).enumerate() {
        if n % 64 == 0 && cancelled() {
            return Ok(None);
        }
        demultiply_into(pixels, &mut row);
        std::io::Write::write_all(&mut stream, &row)
            .map_err(|e| err(png::EncodingError::from(e)))?;
    }
    stream.finish().map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(Some(out))
}

/// Encodes a `width` x `height` image drawn one horizontal strip of `strip_rows` rows at a
/// time to an RGBA PNG, so only one strip of pixels is ever held (a 10,000 px square static map
/// held a 400 MB pixmap and a 100 MB clip mask whole; BENCHMARKS.md section 13).
/// `draw(strip, y0)` draws image rows `y0..y0 + strip_rows` into the `width` x `strip_rows`
/// `strip` (rows past the image's bottom are drawn and dropped); each strip's rows are demultiplied into the PNG stream as they come. Always RGBA:
/// whether the whole image has at most 256 colours (the indexed form of
/// [`encode_png_lean`]) is only known once the last strip is drawn. Stops and returns `None`
/// once `cancelled()` is true (checked before each strip and every 64 rows).
///
/// ```
/// use tiny_skia::Color;
/// let png = choropleth::render::encode::encode_png_strips::<choropleth::render::EncodeError>(
///     (300, 20),
///     (8, 2),
///     &|| false,
///     |s, top| {
///         assert_eq!(s.height(), 12);
///         s.fill(Color::from_rgba8((top + 2) as u8, 0, 0, 255));
///         Ok(())
///     },
/// )?
/// .unwrap();
/// let img = image::load_from_memory(&png).unwrap().to_rgba8();
/// assert_eq!((img.width(), img.height()), (300, 20));
/// assert_eq!(img.get_pixel(0, 19).0, [16, 0, 0, 255]);
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn encode_png_strips<E: From<EncodeError>>(
    (width, height): (u32, u32),
    (strip_rows, margin): (u32, u32),
    cancelled: &dyn Fn() -> bool,
    mut draw: impl FnMut(&mut Pixmap, i64) -> Result<(), E>,
) -> Result<Option<Vec<u8>>, E> {
    let err = |source| EncodeError {
        width,
        height,
        kind: "RGBA",
        source,
    };
    let io = |e: std::io::Error| err(png::EncodingError::from(e));
    let strip_rows = strip_rows.clamp(1, height.max(1));
    let strip_height = strip_rows.saturating_add(margin.saturating_mul(2));
    let mut strip = Pixmap::new(width, strip_height).ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            format!("cannot allocate a {width}x{strip_height} strip"),
        ))
    })?;
    let row_px = row_px_of(width);
    let skip = margin as usize * row_px;
    let mut out = Vec::new();
    let enc = rgba_encoder(&mut out, width, height);
    let mut writer = enc.write_header().map_err(err)?;
    let mut stream = writer.stream_writer().map_err(err)?;
    let mut row = Vec::with_capacity(row_px * 4);
    let mut y0 = 0;
    while y0 < height {
        if cancelled() {
            return Ok(None);
        }
        draw(&mut strip, i64::from(y0) - i64::from(margin))?;
        let rows = strip_rows.min(height - y0) as usize;
        let given = strip.pixels().get(skip..).unwrap_or_default();
        for (n, pixels) in given.chunks(row_px).take(rows).enumerate() {
            if n % 64 == 63 && cancelled() {
                return Ok(None);
            }
            demultiply_into(pixels, &mut row);
            std::io::Write::write_all(&mut stream, &row).map_err(io)?;
        }
        y0 += strip_rows;
    }
    stream.finish().map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(Some(out))
}

/// Pixels in a row of a `width` px image (at least one, so rows can be chunked).
fn row_px_of(width: u32) -> usize {
    width.max(1) as usize
}

/// Encodes one pixmap to PNG (see [`PngEncoder::encode`]; keep a `PngEncoder` for many tiles).
///
/// ```
/// let p = tiny_skia::Pixmap::new(8, 8).unwrap();
/// let png = choropleth::render::encode_png(&p)?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn encode_png(pixmap: &Pixmap) -> Result<Vec<u8>, EncodeError> {
    PngEncoder::new().encode(pixmap)
}

/// The fully transparent tile, encoded once per size and shared (most tiles around England are sea).
///
/// ```
/// use choropleth::render::{empty_tile_png, TileSize};
/// let a = empty_tile_png(TileSize::Standard)?;
/// assert!(a.len() < 200);
/// assert!(std::ptr::eq(a, empty_tile_png(TileSize::Standard)?));
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn empty_tile_png(size: TileSize) -> Result<&'static [u8], EncodeError> {
    static STANDARD: OnceLock<Vec<u8>> = OnceLock::new();
    static RETINA: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match size {
        TileSize::Standard => &STANDARD,
        TileSize::Retina => &RETINA,
    };
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let png = flat_tile_png(Rgba::TRANSPARENT, size)?;
    Ok(cell.get_or_init(|| png))
}

/// A tile of one colour: a 1-bit indexed PNG of a few hundred bytes.
///
/// ```
/// use choropleth::render::{flat_tile_png, Rgba, TileSize};
/// let png = flat_tile_png(Rgba(0xfc, 0x8d, 0x59, 255), TileSize::Retina)?;
/// assert!(png.len() < 300);
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn flat_tile_png(colour: Rgba, size: TileSize) -> Result<Vec<u8>, EncodeError> {
    let px = size.px();
    let data = vec![0u8; (px as usize).div_ceil(8) * px as usize];
    let plte = [colour.0, colour.1, colour.2];
    let trns = [colour.3];
    let trns = (colour.3 < 255).then_some(&trns[..]);
    // 8 kB of zero bits: strong compression costs microseconds here and gives ~100 bytes.
    encode_indexed(px, px, Compression::High, BitDepth::One, &plte, trns, &data)
}

fn encode_indexed(
    w: u32,
    h: u32,
    compression: Compression,
    depth: BitDepth,
    plte: &[u8],
    trns: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, EncodeError> {
    let err = |source| EncodeError {
        width: w,
        height: h,
        kind: "indexed",
        source,
    };
    let mut out = Vec::with_capacity(data.len() / 8 + 256);
    let mut enc = Encoder::new(&mut out, w, h);
    enc.set_color(ColorType::Indexed);
    enc.set_depth(depth);
    enc.set_palette(plte);
    if let Some(t) = trns {
        enc.set_trns(t);
    }
    enc.set_compression(compression);
    // Index rows of a map tile are long runs: "Up" finds the rows repeated from the one above
    // and costs far less than adaptive filtering.
    enc.set_filter(Filter::Up);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(data).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

fn encode_rgba(w: u32, h: u32, rgba: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let err = |source| EncodeError {
        width: w,
        height: h,
        kind: "RGBA",
        source,
    };
    let mut out = Vec::with_capacity(rgba.len() / 8 + 256);
    let enc = rgba_encoder(&mut out, w, h);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(rgba).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// Straight-alpha RGBA bytes of premultiplied pixels. Opaque and fully transparent pixels are
/// the same bytes in both forms (tiny-skia keeps a transparent pixel all zero), so the buffer is
/// copied whole and only the partly transparent pixels (anti-aliased coast lines) are converted:
/// a tile is mostly opaque, and the per-pixel conversion was a twelfth of a tile's server time.
fn demultiply_into(pixels: &[PremultipliedColorU8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(bytemuck::cast_slice(pixels));
    for (px, p) in out.chunks_exact_mut(4).zip(pixels) {
        if px[3] != 255 && px[3] != 0 {
            let c = p.demultiply();
            px.copy_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
        }
    }
}

fn bit_depth_for(colours: usize) -> BitDepth {
    match colours {
        0..=2 => BitDepth::One,
        3..=4 => BitDepth::Two,
        5..=16 => BitDepth::Four,
        _ => BitDepth::Eight,
    }
}

/// Packs one-byte indices into `bits`-bit samples, each row starting on a byte (as PNG wants).
fn pack_rows(indices: &[u8], width: usize, bits: usize, out: &mut Vec<u8>) {
    let per_byte = 8 / bits;
    let row_bytes = width.div_ceil(per_byte);
    out.clear();
    out.resize(row_bytes * (indices.len() / width.max(1)), 0);
    for (row, packed) in indices
        .chunks_exact(width)
        .zip(out.chunks_exact_mut(row_bytes))
    {
        for (chunk, byte) in row.chunks(per_byte).zip(packed.iter_mut()) {
            let mut b = 0u8;
            for (k, &i) in chunk.iter().enumerate() {
                b |= i << (8 - bits * (k + 1));
            }
            *byte = b;
        }
    }
}

/// Collects the distinct colours of a tile (at most 256) and the index of every pixel.
///
/// A small open-addressing table keyed by the raw premultiplied pixel, written by hand because
/// the job is one tight loop over 65 536 pixels where a general hash map costs several times more;
/// runs of equal pixels (most of a map tile) skip the lookup altogether.
#[derive(Debug)]
struct PaletteBuilder {
    keys: Vec<u32>,
    slots: Vec<u8>,
    colours: Vec<u32>,
}

const TABLE_SIZE: usize = 1024;
/// Never a premultiplied pixel: red 1 with alpha 0 (premultiplied channels never exceed alpha).
const NO_KEY: u32 = u32::from_le_bytes([1, 0, 0, 0]);

impl Default for PaletteBuilder {
    fn default() -> Self {
        PaletteBuilder {
            keys: vec![NO_KEY; TABLE_SIZE],
            slots: vec![0; TABLE_SIZE],
            colours: Vec::with_capacity(256),
        }
    }
}

impl PaletteBuilder {
    fn len(&self) -> usize {
        self.colours.len()
    }

    /// Fills `indices`; false if the pixmap has more than 256 colours.
    fn build(&mut self, pixels: &[PremultipliedColorU8], indices: &mut Vec<u8>) -> bool {
        self.keys.fill(NO_KEY);
        self.colours.clear();
        let bytes: &[u8] = bytemuck::cast_slice(pixels);
        let key_at = |i: usize| {
            let b = &bytes[4 * i..4 * i + 4];
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        };
        let n = pixels.len();
        indices.clear();
        indices.resize(n, 0);
        // Run by run: find where the colour changes, look it up once, fill the run's indices.
        let mut i = 0;
        while i < n {
            let key = key_at(i);
            let mut j = i + 1;
            while j < n && key_at(j) == key {
                j += 1;
            }
            let Some(idx) = self.lookup(key) else {
                return false;
            };
            indices[i..j].fill(idx);
            i = j;
        }
        true
    }

    fn lookup(&mut self, key: u32) -> Option<u8> {
        let mut h = (key.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        loop {
            let k = self.keys[h];
            if k == key {
                return Some(self.slots[h]);
            }
            if k == NO_KEY {
                let n = self.colours.len();
                if n == 256 {
                    return None;
                }
                self.keys[h] = key;
                self.slots[h] = n as u8;
                self.colours.push(key);
                return Some(n as u8);
            }
            h = (h + 1) % TABLE_SIZE;
        }
    }

    /// PLTE bytes, and tRNS bytes if any colour is not opaque (straight alpha).
    fn plte_trns(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut plte = Vec::with_capacity(self.colours.len() * 3);
        let mut trns = Vec::with_capacity(self.colours.len());
        for &k in &self.colours {
            let [r, g, b, a] = k.to_le_bytes();
            let c = PremultipliedColorU8::from_rgba(r, g, b, a)
                .map(|p| p.demultiply())
                .map_or([0, 0, 0, 0], |c| [c.red(), c.green(), c.blue(), c.alpha()]);
            plte.extend_from_slice(&c[..3]);
            trns.push(c[3]);
        }
        let trns = trns.iter().any(|&a| a < 255).then_some(trns);
        (plte, trns)
    }
}

/// The PNG encoder both writers use: 8-bit RGBA, fast compression, the Up filter.
fn rgba_encoder<W: std::io::Write>(out: W, w: u32, h: u32) -> Encoder<'static, W> {
    let mut enc = Encoder::new(out, w, h);
    enc.set_color(ColorType::Rgba);
    enc.set_depth(BitDepth::Eight);
    enc.set_compression(Compression::Fast);
    enc.set_filter(Filter::Up);
    enc
}
