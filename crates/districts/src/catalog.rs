//! The catalogue (`boundaries/catalog.toml`): which data file is which layer, which columns are
//! which indicators, their vintage, units, direction and the credit their licence requires.
//!
//! Two stages, as in ripgrep's lowargs -> hiargs: the raw TOML as written, then [`Catalog`]
//! resolved and validated against a data directory.

use serde::{Deserialize, Serialize};

/// Whether a higher value of an indicator is better, worse or neither (sets palette direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    HigherIsWorse,
    Neutral,
}

/// Metadata of a boundary layer, as the catalogue states it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerMeta {
    /// Layer id used in URLs and the CLI: `lad19`, `lad19_bgc`, `lad21`, `lsoa11`, `msoa11`.
    pub id: String,
    pub title: String,
    /// File name inside the data directory (for a shapefile, the `.shp`).
    pub file: String,
    /// Property / DBF field holding the GSS code.
    pub code_field: String,
    /// Property / DBF field holding the name.
    pub name_field: String,
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
}

/// Metadata of one indicator, as the catalogue states it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndicatorMeta {
    /// snake_case id: `imd_score`, `median_weekly_pay`, ...
    pub id: String,
    pub title: String,
    /// Unit as shown in legends: `score`, `£ per week`, `%`, `rank`.
    pub unit: String,
    pub direction: Direction,
    /// Publisher and dataset, e.g. `MHCLG, English indices of deprivation 2019`.
    pub source: String,
    pub licence: String,
    /// Credit line required by the licence.
    pub attribution: String,
    /// Data file it comes from (inside the data directory).
    pub file: String,
    /// Whether values are categories (e.g. area classification names) rather than numbers.
    #[serde(default)]
    pub categorical: bool,
}
