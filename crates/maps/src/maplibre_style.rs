//! MapLibre styles (style specification version 8) of a resolved choropleth: placemap's own
//! vector tiles as the source, and each district filled with exactly the colour the PNG tiles
//! give it. The fill is a `match` on the district code grouped by colour rather than a `step`
//! over the values: the classification (its scheme, the side of a break a value equal to it
//! falls on, changes between periods, categories, pinned dataset versions) is the server's, and
//! the style carries its result, so a client cannot classify differently. No data is drawn with
//! the tiles' own hatch (a sprite pattern), and the legend travels in the style's metadata.

use std::collections::HashMap;

use choropleth::render::{Fill, Rgba, TileSize, TileStyle, outline_width_for_zoom};
use districts::{Indicator, Layer};
use serde_json::{Value, json};

use crate::style::ResolvedStyle;

/// Name of the no-data hatch in the sprite.
pub const NO_DATA_PATTERN: &str = "placemap-no-data";

/// Where the style's resources are, as absolute URLs (MapLibre resolves none of them against
/// the style's own address).
pub struct StyleUrls {
    /// The vector TileJSON of the layer with the indicator as an attribute.
    pub tilejson: String,
    /// The sprite, without extension (MapLibre adds `.json`, `.png`, `@2x.json`, `@2x.png`).
    pub sprite: String,
}

fn hex(c: Rgba) -> String {
    c.to_hex()
}

/// A layer filter selecting the features whose `code` is one of `codes`, written as a `match`
/// (true for the codes, false otherwise) rather than `["in", ["get", "code"], ["literal", codes]]`:
/// both are valid MapLibre expressions, but QGIS (3.22's `QgsMapBoxGlStyleConverter`) skips the
/// `in`/`literal` form as unsupported, leaves the layer unfiltered and so hatches every district,
/// while it reads this one as `"code" IN (...)`. `codes` is never empty here (a `match` needs a
/// label).
fn code_filter(codes: &[&str]) -> Value {
    json!(["match", ["get", "code"], codes, true, false])
}

/// The opposite of [`code_filter`]: every feature but those of `codes` (never empty).
fn code_filter_out(codes: &[&str]) -> Value {
    json!(["match", ["get", "code"], codes, false, true])
}

/// The MapLibre style of `style` (resolved for `ind` on `layer`) with `legend` (the legend JSON
/// the legend routes answer) in its metadata.
pub fn maplibre_style(
    layer: &Layer,
    ind: &Indicator,
    style: &ResolvedStyle,
    legend: Value,
    credit: &str,
    urls: &StyleUrls,
) -> Value {
    let id = &layer.meta.id;
    let house = TileStyle::for_zoom(12);
    // Codes by fill colour, colours in the order of the classes (then any other).
    let mut order: Vec<String> = style.colors.iter().map(|c| hex(*c)).collect();
    let mut by_colour: HashMap<String, Vec<&str>> = HashMap::new();
    let mut no_data: Vec<&str> = Vec::new();
    for (d, fill) in layer.districts.iter().zip(&style.fills) {
        match fill {
            Fill::Solid(c) => {
                let h = hex(*c);
                if !order.contains(&h) {
                    order.push(h.clone());
                }
                by_colour.entry(h).or_default().push(d.code.as_str());
            }
            Fill::NoData => no_data.push(d.code.as_str()),
        }
    }
    let mut fill_colour = vec![json!("match"), json!(["get", "code"])];
    for h in &order {
        if let Some(codes) = by_colour.get(h) {
            fill_colour.push(json!(codes));
            fill_colour.push(json!(h));
        }
    }
    let no_data_colour = match style.no_data {
        crate::style::NoDataFill::Hatch => hex(house.no_data),
        crate::style::NoDataFill::Transparent => "rgba(0, 0, 0, 0)".to_string(),
        crate::style::NoDataFill::Colour(c) => hex(c),
    };
    let fill_colour = if fill_colour.len() > 2 {
        fill_colour.push(json!(no_data_colour));
        Value::Array(fill_colour)
    } else {
        json!(no_data_colour)
    };
    let source = format!("placemap-{id}");
    let mut layers = vec![json!({
        "id": format!("{id}-fill"),
        "type": "fill",
        "source": source,
        "source-layer": id,
        "paint": { "fill-color": fill_colour },
    })];
    if !no_data.is_empty() && style.no_data == crate::style::NoDataFill::Hatch {
        layers.push(json!({
            "id": format!("{id}-no-data"),
            "type": "fill",
            "source": source,
            "source-layer": id,
            "filter": code_filter(&no_data),
            "paint": { "fill-pattern": NO_DATA_PATTERN },
        }));
    }
    // Outline widths as the tiles draw them at each zoom (MapLibre's zoom z shows 512 px tiles:
    // the raster tiles' zoom z + 1).
    let width_stops: Vec<Value> = [4u8, 12]
        .iter()
        .flat_map(|&z| [json!(f64::from(z) - 1.0), json!(outline_width_for_zoom(z))])
        .collect();
    let mut width = vec![json!("interpolate"), json!(["linear"]), json!(["zoom"])];
    width.extend(width_stops);
    let mut outline = json!({
        "id": format!("{id}-outline"),
        "type": "line",
        "source": source,
        "source-layer": id,
        "paint": {
            "line-color": house.outline.map_or_else(|| "#ffffff".to_string(), |o| hex(o.colour)),
            "line-width": width,
        },
    });
    // `nodata=none` draws districts without a value not at all, outlines included, as the
    // raster tiles do.
    if !no_data.is_empty() && style.no_data == crate::style::NoDataFill::Transparent {
        outline["filter"] = code_filter_out(&no_data);
    }
    layers.push(outline);
    if !style.highlight.is_empty() {
        let codes: Vec<&str> = style
            .highlight
            .iter()
            .filter_map(|&i| layer.districts.get(i).map(|d| d.code.as_str()))
            .collect();
        layers.push(json!({
            "id": format!("{id}-highlight"),
            "type": "line",
            "source": source,
            "source-layer": id,
            "filter": code_filter(&codes),
            "paint": { "line-color": hex(house.highlight.colour), "line-width": house.highlight.width_px },
        }));
    }
    json!({
        "version": 8,
        "name": format!("{}, {} ({})", ind.meta.title, style.showing.label(), layer.meta.title),
        "metadata": {
            "placemap:layer": id,
            "placemap:indicator": ind.meta.id,
            "placemap:showing": style.showing.label(),
            "placemap:style": style.key,
            "placemap:legend": legend,
        },
        "sprite": urls.sprite,
        "sources": {
            source: {
                "type": "vector",
                "url": urls.tilejson,
                "attribution": credit,
            }
        },
        "layers": layers,
    })
}

/// The sprite index (MapLibre's `sprite.json`) for a pixel ratio of 1 or 2: the no-data hatch
/// only, `side` pixels square.
pub fn sprite_index(side: u32, pixel_ratio: u32) -> Value {
    json!({
        NO_DATA_PATTERN: { "x": 0, "y": 0, "width": side, "height": side, "pixelRatio": pixel_ratio }
    })
}

/// The sprite image for a pixel ratio of 1 or 2 (the tiles' hatch at that density) and its side.
pub fn sprite_png(pixel_ratio: u32) -> Result<(u32, Vec<u8>), crate::MapError> {
    let size = if pixel_ratio >= 2 {
        TileSize::Retina
    } else {
        TileSize::Standard
    };
    choropleth::render::no_data_pattern_png(size)
        .map_err(|e| crate::MapError::internal("encoding the no-data pattern", e))
}
