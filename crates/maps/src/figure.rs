//! Static, publication-ready maps for reports (`GET /static/{layer}/{indicator}.{png,svg}` and
//! `placemap render`): the same classification and palette as the tiles, framed as a figure
//! with title, legend, credit line and an optional London inset.

use choropleth::figure::{Figure, FigureError, InsetCorner, MapDistrict};
use districts::{District, Indicator, Layer};
use tile_math::Bounds;

use crate::error::MapError;
use crate::options::{FigureOptions, StyleOptions, parse_list};
use crate::style::StyleCache;

/// Output format of a static map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Raster PNG.
    Png,
    /// Vector SVG with text as text.
    Svg,
}

impl Format {
    /// `png` or `svg` (from a file extension).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }
    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }
}

fn attribute<'a>(d: &'a District, key: &str) -> Option<&'a str> {
    d.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Whether a district is in England: its own code, or the LAD code a small area carries.
fn in_england(d: &District) -> bool {
    d.code.starts_with('E')
}

/// Whether a district is in London (a borough, or a small area in one).
fn in_london(d: &District) -> bool {
    d.code.starts_with("E09")
        || attribute(d, "lad19cd").is_some_and(|c| c.starts_with("E09"))
        || attribute(d, "region_name") == Some("London")
}

fn figure_error(e: FigureError) -> MapError {
    match e {
        FigureError::Pixmap { .. } | FigureError::Svg(_) | FigureError::Png(_) => {
            MapError::internal("drawing a figure", e)
        }
        FigureError::Cancelled => MapError::cancelled("drawing the static map"),
        other => MapError::bad_request(
            other.to_string(),
            "width and height from 200 to 10000 px (after scale), scale up to 8, a non-empty extent",
        ),
    }
}

/// The districts a figure (or its legend) shows: those of `region=`, those `bbox=` touches, those
/// `districts=` lists, or England's by default.
pub fn shown(layer: &Layer, q: &FigureOptions) -> Result<Vec<bool>, MapError> {
    let n = layer.districts.len();
    Ok(match (&q.region, &q.bbox, &q.districts) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(MapError::bad_request(
                "give one of region=, bbox= or districts=",
                "the default extent is all of England",
            ));
        }
        (Some(region), None, None) => crate::region::select(layer, region)?,
        (None, Some(b), None) => {
            let [w, s, e, nn] = b.0;
            let mut v = vec![false; n];
            for i in layer.index.candidates_in_bbox(w, s, e, nn) {
                v[i] = true;
            }
            v
        }
        (None, None, Some(list)) => {
            let codes = parse_list(list);
            if codes.is_empty() {
                return Err(MapError::bad_request(
                    "districts= is empty",
                    "districts=E06000001,E06000004 (GSS codes)",
                ));
            }
            let mut v = vec![false; n];
            for c in codes {
                let i = layer.position(&c).ok_or_else(|| {
                    MapError::not_found(
                        format!("no district {c:?} in layer {}", layer.meta.id),
                        format!("GET /layers/{}/districts lists the codes", layer.meta.id),
                    )
                })?;
                v[i] = true;
            }
            v
        }
        (None, None, None) => layer.districts.iter().map(in_england).collect(),
    })
}

/// The style of a figure showing `chosen`: its classes divide those districts (`domain=shown`,
/// the default) or the whole layer (`domain=all`, as the tiles).
pub fn style_shown(
    styles: &StyleCache,
    layer: &Layer,
    ind: &Indicator,
    style_opts: &StyleOptions,
    q: &FigureOptions,
    chosen: &[bool],
) -> Result<std::sync::Arc<crate::style::ResolvedStyle>, MapError> {
    Ok(match q.domain.as_deref().map(str::trim) {
        // Too few districts shown to make the classes (one district, or all alike): the
        // layer's classes, as the tiles have them.
        None | Some("shown") => {
            match crate::style::resolve_within(layer, ind, style_opts, chosen) {
                Ok(s) => std::sync::Arc::new(s),
                Err(e) if e.kind() == crate::ErrorKind::Unprocessable => {
                    styles.resolve(layer, ind, style_opts)?
                }
                Err(e) => return Err(e),
            }
        }
        Some("all") => styles.resolve(layer, ind, style_opts)?,
        Some(other) => {
            return Err(MapError::bad_request(
                format!("domain={other:?} is not a choice"),
                "domain=shown (classes of the districts shown, the default) or domain=all (classes of the whole layer, as the tiles)",
            ));
        }
    })
}

/// The legend of a figure, counting the districts `drawn` says are drawn.
pub fn legend_shown(
    layer: &Layer,
    ind: &Indicator,
    style: &crate::style::ResolvedStyle,
    drawn: &dyn Fn(usize) -> bool,
) -> Result<choropleth::legend::Legend, MapError> {
    let mut shown = style.clone();
    if let Some(c) = shown.classification.as_mut() {
        c.counts = vec![0; c.breaks.len()];
        c.no_data = 0;
        for (_, v) in style.values.iter().enumerate().filter(|(i, _)| drawn(*i)) {
            match c.class_of_opt(*v) {
                Some(k) => c.counts[k] += 1,
                None => c.no_data += 1,
            }
        }
    }
    for cat in &mut shown.categories {
        cat.count = 0;
    }
    for (_, f) in style.fills.iter().enumerate().filter(|(i, _)| drawn(*i)) {
        if let choropleth::render::Fill::Solid(c) = f
            && let Some(cat) = shown.categories.iter_mut().find(|k| k.color == *c)
        {
            cat.count += 1;
        }
    }
    // Districts not drawn count nowhere (a transparent fill matches no class and is not "no
    // data"); every district keeps its position, so no-data reasons name the right ones.
    for (i, f) in shown.fills.iter_mut().enumerate() {
        if !drawn(i) {
            *f = choropleth::render::Fill::Solid(choropleth::render::Rgba::TRANSPARENT);
        }
    }
    crate::legend::legend_for(layer, ind, &shown)
}

/// Renders the static map of `ind` on `layer` with a style and a frame.
pub fn render(
    styles: &StyleCache,
    layer: &Layer,
    ind: &Indicator,
    style_opts: &StyleOptions,
    q: &FigureOptions,
    format: Format,
) -> Result<Vec<u8>, MapError> {
    render_cancellable(styles, layer, ind, (style_opts, q), format, &|| false)
}

/// [`render`] that stops with a [`crate::ErrorKind::Cancelled`] error soon after `cancelled()`
/// turns true (checked per district while drawing a PNG, every 256 districts while writing an
/// SVG): a server passes the state of the
/// request, so work for a client that has gone stops.
pub fn render_cancellable(
    styles: &StyleCache,
    layer: &Layer,
    ind: &Indicator,
    (style_opts, q): (&StyleOptions, &FigureOptions),
    format: Format,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<u8>, MapError> {
    // Which districts are drawn, and the extent.
    let chosen = shown(layer, q)?;
    let style = style_shown(styles, layer, ind, style_opts, q, &chosen)?;
    let mut extent: Option<Bounds> = None;
    for (d, _) in layer.districts.iter().zip(&chosen).filter(|(_, c)| **c) {
        if let Some(r) = d.mercator.bbox() {
            let e = extent.get_or_insert(Bounds {
                min_x: f64::MAX,
                min_y: f64::MAX,
                max_x: f64::MIN,
                max_y: f64::MIN,
            });
            e.min_x = e.min_x.min(r.min().x);
            e.min_y = e.min_y.min(r.min().y);
            e.max_x = e.max_x.max(r.max().x);
            e.max_y = e.max_y.max(r.max().y);
        }
    }
    let mut extent = extent.ok_or_else(|| {
        MapError::unprocessable(
            "nothing to draw in that extent",
            "widen the bbox or pick other districts",
        )
    })?;
    if let Some(b) = &q.bbox {
        // The requested box, not the bounds of the districts it touches.
        let [w, s, e, nn] = b.0;
        let (x0, y0) = tile_math::lonlat_to_mercator(w, s);
        let (x1, y1) = tile_math::lonlat_to_mercator(e, nn);
        extent = Bounds {
            min_x: x0,
            min_y: y0,
            max_x: x1,
            max_y: y1,
        };
    }
    // With bbox= every district in view is drawn; otherwise only the chosen ones.
    let draw_all_in_view = q.bbox.is_some();

    // The legend counts what the figure shows: the districts chosen (with a box, those it
    // touches; the districts drawn around them are cut off at the frame).
    let legend = legend_shown(layer, ind, &style, &|i| chosen[i])?;
    let mut opts = choropleth::figure::FigureOptions {
        width: q.width.unwrap_or(1000),
        height: q.height.unwrap_or(1100),
        scale: q.scale.unwrap_or(1.0),
        ..choropleth::figure::FigureOptions::default()
    };
    opts.title = match (
        &q.title,
        style_opts
            .bivariate
            .as_deref()
            .and_then(|b| layer.indicator(b)),
    ) {
        (Some(t), _) => t.clone(),
        (None, Some(other)) => format!(
            "{} against {}",
            ind.meta.title,
            other.meta.title.to_lowercase()
        ),
        (None, None) => ind.meta.title.clone(),
    };
    opts.subtitle = q.subtitle.clone().unwrap_or_else(|| {
        // The scope, then the kind of district: never the layer's whole title, which names
        // the kind again ("... UK, generalised, local authority districts").
        let scope = match (&q.region, &q.bbox, &q.districts) {
            (Some(r), _, _) => crate::region::display_name(layer, r),
            (None, None, None) => "England".to_string(),
            (None, Some(_), _) => "Area shown".to_string(),
            (None, None, Some(_)) => "Selected districts".to_string(),
        };
        format!(
            "{scope}, {}, {}",
            layer
                .meta
                .title
                .to_lowercase()
                .split(" (")
                .next()
                .unwrap_or(""),
            style.showing.label()
        )
    });
    opts.credit = crate::legend::credit(layer, ind);
    opts.description = {
        let scope = match (&q.region, &q.bbox, &q.districts) {
            (Some(r), _, _) => crate::region::display_name(layer, r),
            (None, None, None) => "England".to_string(),
            (None, Some(_), _) => "the area shown".to_string(),
            (None, None, Some(_)) => "the districts chosen".to_string(),
        };
        crate::describe::describe(
            layer,
            ind,
            &style,
            &|i| draw_all_in_view || chosen[i],
            &scope,
        )
        .text
    };
    let want_inset = q.inset.unwrap_or(true);
    if want_inset {
        // Top left is open sea and Scotland on an England map; the North East coast is top right.
        opts.london_inset = Some(InsetCorner::TopLeft);
    }
    let districts: Vec<MapDistrict> = layer
        .districts
        .iter()
        .enumerate()
        .filter(|(i, _)| draw_all_in_view || chosen[*i])
        .map(|(i, d)| {
            let highlight = style.highlight.contains(&i);
            MapDistrict {
                geometry: &d.mercator.0,
                fill: style.fills[i],
                label: highlight.then_some(d.name.as_str()),
                highlight,
                in_london: in_london(d),
            }
        })
        .collect();
    let fig = Figure::new(districts, extent, &legend, opts).map_err(figure_error)?;
    match format {
        Format::Svg => fig
            .to_svg_cancellable(cancelled)
            .map(String::into_bytes)
            .map_err(figure_error),
        Format::Png => fig.to_png_cancellable(cancelled).map_err(figure_error),
    }
}
