//! Raw stage: the catalogue TOML as written, before validation.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{DerivedEntry, Direction, MergeSpec, StyleHint, TextEncoding};

/// The catalogue as written in TOML, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// `[[layer]]` entries.
    #[serde(default)]
    pub layer: Vec<RawLayer>,
    /// `[[source]]` entries.
    #[serde(default)]
    pub source: Vec<RawSource>,
    /// `[[lookup]]` entries.
    #[serde(default)]
    pub lookup: Vec<RawLookup>,
    /// `[[points]]` entries.
    #[serde(default)]
    pub points: Vec<RawPoints>,
    /// `[[derived]]` entries.
    #[serde(default)]
    pub derived: Vec<DerivedEntry>,
}

/// A `[[layer]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    /// Layer id used in URLs and the CLI: `lad19`, `lad19_bgc`, `lad21`, `lsoa11`, `msoa11`.
    pub id: String,
    /// Human title, e.g. `Local authority districts (December 2019)`.
    pub title: String,
    /// File name inside the data directory (for a shapefile, the `.shp`); none for a layer made
    /// by merging another (`merge`).
    #[serde(default)]
    pub file: Option<String>,
    /// Property / DBF field holding the GSS code.
    #[serde(default)]
    pub code_field: Option<String>,
    /// Property / DBF field holding the name.
    #[serde(default)]
    pub name_field: Option<String>,
    /// A layer built from an earlier layer by merging its districts through a lookup table.
    #[serde(default)]
    pub merge: Option<MergeSpec>,
    /// CRS when the file cannot say it itself (e.g. `EPSG:3857` GeoJSON without `crs`).
    #[serde(default)]
    pub crs: Option<String>,
    /// Boundary vintage, e.g. `December 2019`.
    pub vintage: String,
    /// Licence, e.g. `OGL-3.0`.
    pub licence: String,
    /// Credit line(s) that must be shown with maps of this layer.
    pub attribution: String,
    /// Further attributes to keep on each district (e.g. `region_name`).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Indicator shown when none is named.
    #[serde(default)]
    pub default_indicator: Option<String>,
    /// Publisher of the boundaries, e.g. `ONS Open Geography Portal`.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Known defects worth knowing when reading maps of this layer (invalid rings, slivers...).
    #[serde(default)]
    pub notes: Option<String>,
    /// Codes of districts whose source geometry is not OGC-valid: repaired at load and reported
    /// in the layer's load notes (a test checks the list is complete).
    #[serde(default)]
    pub invalid_geometries: Vec<String>,
}

/// A `[[source]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Source id.
    pub id: String,
    /// Dataset title.
    pub title: String,
    /// File inside the data directory.
    pub file: String,
    /// Publisher.
    pub publisher: String,
    /// Licence.
    pub licence: String,
    /// Credit lines.
    pub attribution: String,
    /// `utf-8` (default) or `windows-1252`.
    #[serde(default)]
    pub encoding: TextEncoding,
    /// `wide` or `long`.
    pub layout: RawLayout,
    /// GSS code column.
    pub code_column: String,
    /// Name column.
    #[serde(default)]
    pub name_column: Option<String>,
    /// Long files: period column.
    #[serde(default)]
    pub period_column: Option<String>,
    /// Long files: default value column.
    #[serde(default)]
    pub value_column: Option<String>,
    /// Wide files: period label of single-column indicators.
    #[serde(default)]
    pub period: Option<String>,
    /// Row conditions for every indicator.
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    /// Layers the indicators apply to.
    pub layers: Vec<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// `[[source.indicator]]` entries.
    #[serde(default)]
    pub indicator: Vec<RawIndicator>,
}

/// `layout = "wide" | "long"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawLayout {
    /// One row per code.
    Wide,
    /// One row per code and period.
    Long,
}

/// A `[[source.indicator]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndicator {
    /// Indicator id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Unit.
    pub unit: String,
    /// Direction.
    pub direction: Direction,
    /// Wide: one column (period label from `period`, else the source's `period`).
    #[serde(default)]
    pub column: Option<String>,
    /// Wide: period label of `column`.
    #[serde(default)]
    pub period: Option<String>,
    /// Wide: explicit columns with their period labels.
    #[serde(default)]
    pub columns: Vec<RawColumn>,
    /// Wide: a column name pattern with `{period}`.
    #[serde(default)]
    pub column_pattern: Option<String>,
    /// Long: value column (else the source's).
    #[serde(default)]
    pub value_column: Option<String>,
    /// Row conditions in addition to the source's.
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    /// Default period label.
    #[serde(default)]
    pub default_period: Option<String>,
    /// What the periods mean.
    #[serde(default)]
    pub periods_note: Option<String>,
    /// Longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether values are categories.
    #[serde(default)]
    pub categorical: bool,
    /// Categorical: lookup id of code -> name.
    #[serde(default)]
    pub category_names: Option<String>,
    /// Categorical: the lookup column holding names (default `name`).
    #[serde(default)]
    pub category_name_column: Option<String>,
    /// Categorical: derive a coarser code by keeping this many leading characters...
    #[serde(default)]
    pub category_code_prefix: Option<usize>,
    /// ...and appending this.
    #[serde(default)]
    pub category_code_suffix: Option<String>,
    /// Default style.
    #[serde(default)]
    pub style: Option<StyleHint>,
    /// Ordinal scale (deciles, quintiles): one class per value on a map.
    #[serde(default)]
    pub ordinal: Option<crate::catalog::OrdinalScale>,
    /// How values of former districts recombine into a merged one (see [`RawCombine`]).
    #[serde(default)]
    pub combine: Option<RawCombine>,
}

/// `combine = "sum"`, or `combine = { how = "weighted_mean", weights = "<indicator id>" }`, or
/// `combine = { how = "none", reason = "..." }` (never recombined, and why).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawCombine {
    /// `"sum"` (or `"none"`).
    Short(String),
    /// The table form.
    Full {
        /// `sum`, `weighted_mean` or `none`.
        how: String,
        /// `weighted_mean`: the indicator holding each former district's denominator.
        #[serde(default)]
        weights: Option<String>,
        /// `none`: why the values cannot be recombined.
        #[serde(default)]
        reason: Option<String>,
    },
}

/// `{ column = "...", period = "..." }` in a wide indicator's `columns`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    /// Column name.
    pub column: String,
    /// Period label.
    pub period: String,
}

/// A `[[lookup]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLookup {
    /// Lookup id.
    pub id: String,
    /// Title.
    pub title: String,
    /// File.
    pub file: String,
    /// Publisher.
    pub publisher: String,
    /// Licence.
    pub licence: String,
    /// Credit lines.
    pub attribution: String,
    /// Encoding.
    #[serde(default)]
    pub encoding: TextEncoding,
    /// Key column.
    pub key_column: String,
    /// Columns carried.
    pub columns: Vec<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// A `[[points]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoints {
    /// Points id.
    pub id: String,
    /// Title.
    pub title: String,
    /// File.
    pub file: String,
    /// Publisher.
    pub publisher: String,
    /// Licence.
    pub licence: String,
    /// Credit lines.
    pub attribution: String,
    /// Id column.
    pub id_column: String,
    /// Name column.
    pub name_column: String,
    /// x column.
    pub x_column: String,
    /// y column.
    pub y_column: String,
    /// CRS of x/y.
    pub crs: String,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

impl RawCatalog {
    /// Parses catalogue TOML (no validation against files).
    ///
    /// ```
    /// let raw = districts::catalog::RawCatalog::parse(r#"
    /// [[layer]]
    /// id = "lad19"
    /// title = "LAD 2019"
    /// file = "lad.geojson"
    /// code_field = "lad19cd"
    /// name_field = "lad19nm"
    /// vintage = "December 2019"
    /// licence = "OGL-3.0"
    /// attribution = "Source: Office for National Statistics"
    /// "#).unwrap();
    /// assert_eq!(raw.layer[0].id, "lad19");
    /// ```
    pub fn parse(text: &str) -> Result<RawCatalog, toml::de::Error> {
        toml::from_str(text)
    }
}
