//! `placemap publish`: a map as a folder of static files that any static host or CDN serves to
//! any number of readers, no placemap server behind it. The page is MapLibre GL JS reading the
//! vector tiles from one PMTiles archive with HTTP range requests; beside it the MapLibre style
//! (the server's classification, as `/styles/...` gives it), the legend (JSON and SVG), the
//! static figure (PNG and SVG), the data (CSV and GeoJSON), the district list for search and
//! tooltips, and `metadata.json` (sources, licences, the exact data version, every file with its
//! SHA-256). Every path is relative. Every file but `index.html` and `metadata.json` carries a
//! content hash in its name, so a CDN may cache it for a year; the folder is written beside the
//! target and renamed into place, so a reader never sees half a bundle.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::archive::{ArchiveBands, ArchiveOptions, Progress, TileSpool, write_pmtiles_with};
use crate::error::MapError;
use crate::export::{layer_bounds, layer_csv, layer_geojson};
use crate::figure::Format;
use crate::loaded::Loaded;
use crate::maplibre_style::{StyleUrls, maplibre_style, sprite_index, sprite_png};
use crate::options::{ExportOptions, FigureOptions, StyleOptions};

/// Highest zoom a bundle's archive may hold (tippecanoe's usual ceiling for districts).
pub const MAX_PUBLISH_ZOOM: u8 = 16;

/// The page's own script and style, and the vendored MapLibre GL JS and PMTiles (same
/// releases as the browser tests use), compiled in so a bundle needs nothing from the network.
const APP_JS: &[u8] = include_bytes!("../assets/publish/app.js");
const APP_CSS: &[u8] = include_bytes!("../assets/publish/app.css");
const VENDOR: [(&str, &[u8]); 5] = [
    (
        "maplibre-gl.mjs",
        include_bytes!("../assets/publish/vendor/maplibre-gl.mjs"),
    ),
    (
        "maplibre-gl-worker.mjs",
        include_bytes!("../assets/publish/vendor/maplibre-gl-worker.mjs"),
    ),
    (
        "maplibre-gl.css",
        include_bytes!("../assets/publish/vendor/maplibre-gl.css"),
    ),
    (
        "pmtiles.js",
        include_bytes!("../assets/publish/vendor/pmtiles.js"),
    ),
    (
        "LICENSE",
        include_bytes!("../assets/publish/vendor/LICENSE"),
    ),
];

/// What to publish.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// Layer id.
    pub layer: String,
    /// Indicator id (`id@N` for a version of an uploaded dataset).
    pub indicator: String,
    /// The map's style, as for tiles and figures.
    pub style: StyleOptions,
    /// The page's title (default: the indicator's title).
    pub title: Option<String>,
    /// Lowest zoom of the archive.
    pub min_zoom: u8,
    /// Highest zoom of the archive (at most [`MAX_PUBLISH_ZOOM`]).
    pub max_zoom: u8,
    /// Replace a folder that exists and is not empty.
    pub force: bool,
    /// Keep every feature in every tile, however large (tippecanoe's `--no-tile-size-limit`).
    pub no_tile_size_limit: bool,
    /// Where the archive's simplified geometry comes from (the command line builds it one band
    /// at a time).
    pub bands: ArchiveBands,
}

/// A published bundle: the folder and its files (relative path, bytes).
#[derive(Clone, Debug)]
pub struct Published {
    /// The folder written.
    pub out: PathBuf,
    /// Every file, relative to the folder, with its size.
    pub files: Vec<(String, u64)>,
}

/// Files of a bundle before they are written: relative path and content.
struct Bundle {
    files: Vec<(String, Vec<u8>)>,
}

impl Bundle {
    /// Adds `content` as `{stem}-{hash}.{ext}` and returns that name.
    fn hashed(&mut self, stem: &str, ext: &str, content: Vec<u8>) -> String {
        let name = format!("{stem}-{}.{ext}", short_hash(&[&content]));
        self.files.push((name.clone(), content));
        name
    }
    fn plain(&mut self, name: &str, content: Vec<u8>) {
        self.files.push((name.to_string(), content));
    }
}

/// The first 12 hex digits of the SHA-256 of the parts, in order.
fn short_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())[..12].to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_bytes(v: &Value) -> Result<Vec<u8>, MapError> {
    serde_json::to_vec(v).map_err(|e| MapError::internal("writing JSON", e))
}

/// Writes the bundle of `opts` into the folder `out` (see the module documentation).
pub fn publish(loaded: &Loaded, opts: &PublishOptions, out: &Path) -> Result<Published, MapError> {
    publish_with(loaded, opts, out, &|_, _| {})
}

/// [`publish`], telling `progress` as the archive's tiles are encoded (most of the time).
pub fn publish_with(
    loaded: &Loaded,
    opts: &PublishOptions,
    out: &Path,
    progress: Progress,
) -> Result<Published, MapError> {
    let layer = loaded.layer(&opts.layer)?;
    // `id@N` pins version N of an uploaded dataset.
    let ind = loaded.indicator(layer, &opts.indicator)?;
    let top = MAX_PUBLISH_ZOOM.min(loaded.max_zoom);
    if opts.min_zoom > opts.max_zoom || opts.max_zoom > top {
        return Err(MapError::bad_request(
            format!(
                "zooms {}..{} are not a range a bundle can hold",
                opts.min_zoom, opts.max_zoom
            ),
            format!("--min-zoom <= --max-zoom <= {top}"),
        ));
    }
    check_target(out, opts.force)?;

    let style = crate::style::resolve(layer, ind, &opts.style)?;
    let credit = crate::legend::credit(layer, ind);
    let scope = crate::describe::nations_scope(layer, &style);
    let description = crate::describe::describe(layer, ind, &style, &|_| true, &scope).text;
    let legend_of_style = crate::legend::legend_for(layer, ind, &style)?;
    let legend_svg = legend_of_style.to_svg();
    let mut legend = serde_json::to_value(&legend_of_style)
        .map_err(|e| MapError::internal("writing the legend", e))?;
    legend["period"] = Value::from(style.showing.label());
    legend["credit"] = Value::from(credit.clone());
    legend["description"] = Value::from(description.clone());

    let mut b = Bundle { files: Vec::new() };

    // The tiles: the indicator's default period as an attribute (the fill comes from the style,
    // whatever period or change it shows).
    let mut pmtiles = Cursor::new(Vec::new());
    write_pmtiles_with(
        loaded,
        &layer.meta.id,
        &ArchiveOptions {
            indicators: vec![ind.meta.id.clone()],
            min_zoom: opts.min_zoom,
            max_zoom: opts.max_zoom,
            bbox: None,
            tile_size_limit: (!opts.no_tile_size_limit)
                .then_some(crate::vector_tiles::TILE_SIZE_LIMIT),
            bands: opts.bands,
            // The archive is kept in memory with the rest of the bundle anyway.
            spool: TileSpool::Memory,
        },
        &mut pmtiles,
        progress,
    )?;
    let tiles = b.hashed("tiles", "pmtiles", pmtiles.into_inner());

    // The sprite (the no-data hatch), both densities under one hashed base name.
    let (side1, png1) = sprite_png(1)?;
    let (side2, png2) = sprite_png(2)?;
    let sprite = format!("sprite-{}", short_hash(&[&png1, &png2]));
    b.plain(&format!("{sprite}.png"), png1);
    b.plain(&format!("{sprite}@2x.png"), png2);
    b.plain(
        &format!("{sprite}.json"),
        json_bytes(&sprite_index(side1, 1))?,
    );
    b.plain(
        &format!("{sprite}@2x.json"),
        json_bytes(&sprite_index(side2, 2))?,
    );

    let style_json = maplibre_style(
        layer,
        ind,
        &style,
        legend.clone(),
        &credit,
        &StyleUrls {
            tilejson: format!("pmtiles://{tiles}"),
            sprite: sprite.clone(),
        },
    );
    let style_file = b.hashed("style", "json", json_bytes(&style_json)?);
    let legend_file = b.hashed("legend", "json", json_bytes(&legend)?);
    let legend_svg_file = b.hashed("legend", "svg", legend_svg.into_bytes());

    let figure = |format| {
        crate::figure::render(
            &loaded.styles,
            layer,
            ind,
            &opts.style,
            &FigureOptions {
                title: opts.title.clone(),
                ..FigureOptions::default()
            },
            format,
        )
    };
    let png = b.hashed("map", "png", figure(Format::Png)?);
    let svg = b.hashed("map", "svg", figure(Format::Svg)?);

    let export = ExportOptions {
        indicators: Some(ind.meta.id.clone()),
        ..ExportOptions::default()
    };
    let csv = b.hashed("data", "csv", layer_csv(layer, &export)?.into_bytes());
    let geojson = b.hashed(
        "data",
        "geojson",
        layer_geojson(loaded, layer, &export)?.into_bytes(),
    );

    // Search and tooltips: every district with the value the map shows.
    let districts: Vec<Value> = layer
        .districts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let bbox = d
                .wgs84
                .bbox()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
            json!({
                "code": d.code,
                "name": d.name,
                "bbox": bbox,
                "value": style.values.get(i).copied().flatten(),
            })
        })
        .collect();
    let districts_file = b.hashed(
        "districts",
        "json",
        json_bytes(&json!({ "unit": style.unit, "showing": style.showing.label(), "districts": districts }))?,
    );

    let vendor_parts: Vec<&[u8]> = VENDOR.iter().map(|(_, c)| *c).collect();
    let vendor = format!("vendor-{}", short_hash(&vendor_parts));
    for (name, content) in VENDOR {
        b.plain(&format!("{vendor}/{name}"), content.to_vec());
    }
    let app_js = b.hashed("app", "js", APP_JS.to_vec());
    let app_css = b.hashed("app", "css", APP_CSS.to_vec());

    let title = opts.title.clone().unwrap_or_else(|| ind.meta.title.clone());
    let config = json!({
        "title": title,
        "layer": layer.meta.id,
        "indicator": ind.meta.id,
        "showing": style.showing.label(),
        "unit": style.unit,
        "bounds": layer_bounds(layer),
        "style": style_file,
        "districts": districts_file,
        "legend": legend_file,
        "description": description,
        "credit": credit,
        "downloads": {
            "Data (CSV)": csv,
            "Data (GeoJSON)": geojson,
            "Figure (PNG)": png,
            "Figure (SVG)": svg,
            "Legend (SVG)": legend_svg_file,
            "Vector tiles (PMTiles)": tiles,
            "About this map (JSON)": "metadata.json",
        },
    });
    let esc = choropleth::escape_xml;
    let index = format!(
        concat!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{title}</title>\n",
            "<meta name=\"description\" content=\"{desc}\">\n",
            "<link rel=\"stylesheet\" href=\"{vendor}/maplibre-gl.css\">\n",
            "<link rel=\"stylesheet\" href=\"{app_css}\">\n",
            "<script src=\"{vendor}/pmtiles.js\"></script>\n",
            "<script type=\"application/json\" id=\"placemap-bundle\">{config}</script>\n",
            "<script type=\"module\" src=\"{app_js}\" data-maplibre=\"{vendor}/maplibre-gl.mjs\"></script>\n",
            "</head><body>\n",
            "<main><div id=\"map\" role=\"img\" aria-label=\"{desc}\"></div></main>\n",
            "<aside id=\"panel\"><h1>{title}</h1><p id=\"description\">{desc}</p>\n",
            "<label for=\"search\">Find an area</label> <input id=\"search\" type=\"search\" list=\"areas\" autocomplete=\"off\">\n",
            "<datalist id=\"areas\"></datalist>\n",
            "<div id=\"legend\" aria-live=\"polite\"></div>\n",
            "<ul id=\"downloads\"></ul>\n",
            "<p id=\"credit\">{credit}</p></aside>\n",
            "<div id=\"tooltip\" role=\"status\" hidden></div>\n",
            "</body></html>\n"
        ),
        title = esc(&title),
        desc = esc(&description),
        credit = esc(&credit),
        vendor = vendor,
        app_css = app_css,
        app_js = app_js,
        config = config.to_string().replace('<', "\\u003c"),
    );
    b.plain("index.html", index.into_bytes());

    let files: Vec<Value> = b
        .files
        .iter()
        .map(|(p, c)| json!({ "path": p, "bytes": c.len(), "sha256": hex(&Sha256::digest(c)) }))
        .collect();
    let metadata = json!({
        "title": title,
        "description": description,
        "generator": format!("placemap {}", env!("CARGO_PKG_VERSION")),
        "data_version": loaded.data_version,
        "layer": {
            "id": layer.meta.id,
            "title": layer.meta.title,
            "vintage": layer.meta.vintage,
            "licence": layer.meta.provenance.licence,
            "attribution": layer.meta.provenance.attribution,
        },
        "indicator": crate::export::indicator_json(ind),
        "showing": style.showing.label(),
        "style": style.key,
        "credit": credit,
        "files": files,
    });
    b.plain("metadata.json", json_bytes(&metadata)?);

    write_folder(out, &b.files)?;
    Ok(Published {
        out: out.to_path_buf(),
        files: b
            .files
            .iter()
            .map(|(p, c)| (p.clone(), c.len() as u64))
            .collect(),
    })
}

/// Refuses a target that exists and is not an empty folder (unless `force`), before any work.
fn check_target(out: &Path, force: bool) -> Result<(), MapError> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(MapError::bad_request(
                    format!("{} exists and is not empty", out.display()),
                    "choose a new folder, or add --force to replace this one",
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if out.is_file() => Err(MapError::bad_request(
            format!("{} is a file, not a folder", out.display()),
            "give a folder to write the bundle into",
        )),
        Err(e) => Err(MapError::bad_request(
            format!("cannot read {}: {e}", out.display()),
            "give a folder you can write to",
        )),
    }
}

/// Writes `files` into a new folder beside `out`, then renames it to `out` (replacing an old
/// one only once the new one is complete). On any failure the partial folder is removed.
fn write_folder(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), MapError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            MapError::bad_request(
                format!("{} names no folder", out.display()),
                "give a folder such as ./imd-map",
            )
        })?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.partial-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    let io = |what: &str, path: &Path, e: std::io::Error| {
        MapError::bad_request(
            format!("cannot {what} {}: {e}", path.display()),
            "give a folder in a place you can write to",
        )
    };
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io("create", &tmp, e))?;
    let written = (|| {
        for (path, content) in files {
            let target = tmp.join(path);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
            }
            std::fs::write(&target, content).map_err(|e| io("write", &target, e))?;
        }
        if out.exists() {
            std::fs::rename(out, &old).map_err(|e| io("move aside", out, e))?;
        }
        std::fs::rename(&tmp, out).map_err(|e| io("rename into place", out, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        if old.exists() && !out.exists() {
            let _ = std::fs::rename(&old, out);
        }
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
