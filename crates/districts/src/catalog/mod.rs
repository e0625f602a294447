//! The catalogue (`boundaries/catalog.toml`): which data file is which layer, which columns are
//! which indicators, their vintage, units, direction and the credit their licence requires.
//!
//! Two stages, as in ripgrep's lowargs -> hiargs: the raw TOML as written ([`RawCatalog`](crate::catalog::RawCatalog)),
//! then [`Catalog`](crate::catalog::Catalog) resolved and validated against a data directory: every file exists, every
//! id is unique, every indicator's layers exist, every column it names is in the file's header,
//! and every layer's default indicator applies to it. Nothing downstream reads the TOML again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::indicators::{self, TableError};

/// Whether a higher value of an indicator is better, worse or neither (sets palette direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher values are better (pay, attainment): the "bad" end of a palette is the low end.
    HigherIsBetter,
    /// Higher values are worse (deprivation score, claimant rate).
    HigherIsWorse,
    /// No value judgement (population, ranks where direction is stated in the title).
    Neutral,
}

/// Metadata of a boundary layer, as the catalogue states it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerMeta {
    /// Layer id used in URLs and the CLI: `lad19`, `lad19_bgc`, `lad21`, `lsoa11`, `msoa11`.
    pub id: String,
    /// Human title, e.g. `Local authority districts (December 2019)`.
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
    /// Publisher of the boundaries, e.g. `ONS Open Geography Portal`.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Known defects worth knowing when reading maps of this layer (invalid rings, slivers...).
    #[serde(default)]
    pub notes: Option<String>,
}

/// Metadata of one indicator, as the catalogue states it. Layers keep this next to the values.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndicatorMeta {
    /// snake_case id: `imd_score`, `median_weekly_pay`, ...
    pub id: String,
    /// Title for legends and pickers.
    pub title: String,
    /// Unit as shown in legends: `score`, `£ per week`, `%`, `rank`.
    pub unit: String,
    /// Whether higher is better or worse (palette direction).
    pub direction: Direction,
    /// Publisher and dataset, e.g. `MHCLG, English indices of deprivation 2019`.
    pub source: String,
    /// Licence, e.g. `OGL-3.0`.
    pub licence: String,
    /// Credit line required by the licence.
    pub attribution: String,
    /// Data file it comes from (inside the data directory).
    pub file: String,
    /// Whether values are categories (e.g. area classification names) rather than numbers.
    #[serde(default)]
    pub categorical: bool,
    /// Id of the catalogue source (table) it comes from.
    #[serde(default)]
    pub source_id: String,
    /// Period shown by default when the catalogue names one (else the latest is used).
    #[serde(default)]
    pub default_period: Option<String>,
    /// What the periods mean (e.g. "academic years; no 2019/20 or 2020/21 assessments").
    #[serde(default)]
    pub periods_note: Option<String>,
    /// Longer description or caveats, shown with the legend.
    #[serde(default)]
    pub description: Option<String>,
    /// Default map style suggested by the catalogue.
    #[serde(default)]
    pub style: Option<StyleHint>,
}

/// Default classification style of an indicator (the request may override every part).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleHint {
    /// Classification scheme: `quantile`, `equal`, `jenks`, `stddev`, `manual`.
    #[serde(default)]
    pub scheme: Option<String>,
    /// Number of classes.
    #[serde(default)]
    pub k: Option<usize>,
    /// ColorBrewer palette name, e.g. `YlOrRd`.
    #[serde(default)]
    pub palette: Option<String>,
    /// Class upper bounds for `scheme = "manual"`, e.g. IMD deciles in pairs.
    #[serde(default)]
    pub breaks: Option<Vec<f64>>,
}

/// Text encoding of a CSV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8, with or without a BOM (the default): `encoding = "utf-8"`.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// Windows-1252 (older ONS downloads with a `£`): `encoding = "windows-1252"`.
    #[serde(rename = "windows-1252")]
    Windows1252,
}

/// Layout of an indicator table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "layout")]
pub enum Layout {
    /// One row per code, one column per indicator (and period).
    Wide,
    /// One row per code, period (and indicator): values in a value column.
    Long {
        /// Column holding the period string (`2018-09-01/P1Y`, `202223`, `2021`).
        period_column: String,
        /// Default value column (an indicator may name its own).
        value_column: Option<String>,
    },
}

/// A `column = value` condition a row must meet (e.g. `gender = "Total"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// Column name as in the header (trimmed).
    pub column: String,
    /// Value the cell must equal (after trimming).
    pub value: String,
}

/// Where an indicator's values are in its table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ValueSpec {
    /// Wide file, one column per period: `(column, period label)`.
    Columns(Vec<(String, String)>),
    /// Wide file, the columns whose names match `prefix{period}suffix`; labels from the
    /// `{period}` part by [`indicators::period_label`].
    ColumnPattern(String),
    /// Long file: values in this column, periods from the source's period column.
    Long {
        /// Value column.
        value_column: String,
    },
}

/// How a categorical indicator turns the cell into a category label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CategorySpec {
    /// Lookup table (a `[[lookup]]` id) mapping category codes to names; `None` keeps the cell.
    pub names_lookup: Option<String>,
    /// Column of that lookup holding the name.
    pub names_column: Option<String>,
    /// Derive a coarser code from the cell: keep the first `prefix` characters...
    pub code_prefix: Option<usize>,
    /// ...and append this (e.g. `6a2r` -> prefix 2 + `r` -> `6ar`).
    pub code_suffix: String,
}

/// One indicator of a source, resolved.
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorSpec {
    /// snake_case id, unique in the catalogue.
    pub id: String,
    /// Title for legends.
    pub title: String,
    /// Unit shown in legends.
    pub unit: String,
    /// Palette direction.
    pub direction: Direction,
    /// Where the values are.
    pub values: ValueSpec,
    /// Row conditions, in addition to the source's.
    pub filters: Vec<Filter>,
    /// Period shown by default.
    pub default_period: Option<String>,
    /// What the periods mean.
    pub periods_note: Option<String>,
    /// Longer description or caveats.
    pub description: Option<String>,
    /// Categorical indicator: how to label categories.
    pub categories: Option<CategorySpec>,
    /// Suggested default style.
    pub style: Option<StyleHint>,
}

impl IndicatorSpec {
    /// Whether values are category labels rather than numbers.
    pub fn categorical(&self) -> bool {
        self.categories.is_some()
    }

    /// The metadata a joined layer keeps for this indicator, with the source's credits.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
    /// # let cat = concat!(env!("CARGO_MANIFEST_DIR"), "/../../boundaries/catalog.toml");
    /// # if !std::path::Path::new(dir).exists() { return; }
    /// let catalog = districts::catalog::Catalog::load(cat.as_ref(), dir.as_ref()).unwrap();
    /// let (source, spec) = catalog.indicator("imd_score").unwrap();
    /// let meta = spec.to_meta(source);
    /// assert_eq!(meta.file, "imd2019_lad_summaries_file10.csv");
    /// assert!(meta.attribution.contains("English Indices of Deprivation 2019"));
    /// ```
    pub fn to_meta(&self, source: &SourceSpec) -> IndicatorMeta {
        IndicatorMeta {
            id: self.id.clone(),
            title: self.title.clone(),
            unit: self.unit.clone(),
            direction: self.direction,
            source: format!("{}, {}", source.publisher, source.title),
            licence: source.licence.clone(),
            attribution: source.attribution.clone(),
            file: source.file.clone(),
            categorical: self.categorical(),
            source_id: source.id.clone(),
            default_period: self.default_period.clone(),
            periods_note: self.periods_note.clone(),
            description: self.description.clone(),
            style: self.style.clone(),
        }
    }
}

/// One indicator table (a data file), resolved.
#[derive(Clone, Debug, Serialize)]
pub struct SourceSpec {
    /// Source id, unique in the catalogue.
    pub id: String,
    /// Dataset title.
    pub title: String,
    /// File name inside the data directory.
    pub file: String,
    /// Absolute (data directory joined) path to the file.
    pub path: PathBuf,
    /// Publisher, e.g. `ONS`.
    pub publisher: String,
    /// Licence, e.g. `OGL-3.0`.
    pub licence: String,
    /// Credit lines required by the licence.
    pub attribution: String,
    /// Text encoding.
    pub encoding: TextEncoding,
    /// Wide or long.
    pub layout: Layout,
    /// Column holding the GSS code.
    pub code_column: String,
    /// Column holding the area name, if any (used in join reports).
    pub name_column: Option<String>,
    /// Row conditions applying to every indicator of the source.
    pub filters: Vec<Filter>,
    /// Layers its indicators apply to.
    pub layers: Vec<String>,
    /// Provenance notes, caveats.
    pub notes: Option<String>,
    /// The indicators read from this file.
    pub indicators: Vec<IndicatorSpec>,
}

/// A lookup table (not an indicator): e.g. LSOA -> MSOA -> LAD, or category code -> name.
#[derive(Clone, Debug, Serialize)]
pub struct LookupSpec {
    /// Lookup id.
    pub id: String,
    /// Title.
    pub title: String,
    /// File name inside the data directory.
    pub file: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Publisher.
    pub publisher: String,
    /// Licence.
    pub licence: String,
    /// Credit lines.
    pub attribution: String,
    /// Text encoding.
    pub encoding: TextEncoding,
    /// Column holding the key (e.g. `LSOA11CD`).
    pub key_column: String,
    /// Columns carried for each key.
    pub columns: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// A point data set (e.g. rail stations) for spatial joins.
#[derive(Clone, Debug, Serialize)]
pub struct PointsSpec {
    /// Points id.
    pub id: String,
    /// Title.
    pub title: String,
    /// File name inside the data directory.
    pub file: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Publisher.
    pub publisher: String,
    /// Licence.
    pub licence: String,
    /// Credit lines.
    pub attribution: String,
    /// Column of the point id.
    pub id_column: String,
    /// Column of the point name.
    pub name_column: String,
    /// Column of x (easting or longitude).
    pub x_column: String,
    /// Column of y (northing or latitude).
    pub y_column: String,
    /// CRS of x/y, e.g. `EPSG:27700`.
    pub crs: String,
    /// Notes.
    pub notes: Option<String>,
}

/// The resolved, validated catalogue.
#[derive(Clone, Debug, Serialize)]
pub struct Catalog {
    /// Path of the catalogue file.
    pub path: PathBuf,
    /// Data directory the files were resolved against.
    pub data_dir: PathBuf,
    /// Boundary layers.
    pub layers: Vec<LayerMeta>,
    /// Indicator tables.
    pub sources: Vec<SourceSpec>,
    /// Lookup tables.
    pub lookups: Vec<LookupSpec>,
    /// Point data sets.
    pub points: Vec<PointsSpec>,
    /// Derived indicators, in the order they are computed.
    pub derived: Vec<DerivedEntry>,
}

/// How a `[[derived]]` indicator is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivedMethod {
    /// An aggregation of another layer's areas (e.g. LSOAs) to this layer's districts.
    Aggregate,
    /// Local Moran (LISA) cluster classes of one of this layer's indicators.
    Lisa,
}

/// A `[[derived]]` entry: an indicator computed at start-up (an aggregation of small areas, or
/// LISA clusters), so that it tiles, exports and looks up like a table's. The catalogue checks
/// the ids, layers and indicator references; the analysis crate parses the statistic, class and
/// key (it owns that grammar, shared with `placemap aggregate` and `/stats/aggregate`).
/// Entries are computed in order, so one may use an earlier one (e.g. LISA of an aggregate).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedEntry {
    /// Indicator id on `layer`; unique among all indicator ids of the catalogue.
    pub id: String,
    /// The layer that gets the indicator.
    pub layer: String,
    /// Title for legends and maps.
    pub title: String,
    /// Unit for legends.
    pub unit: String,
    /// Whether higher is better or worse.
    pub direction: Direction,
    /// What it is, in words (exclusion counts are appended when it is computed).
    pub description: String,
    /// `aggregate` or `lisa`.
    pub method: DerivedMethod,
    /// The indicator aggregated (of `from`) or clustered (of `layer`).
    pub indicator: String,
    /// Its period (default: the indicator's default period).
    #[serde(default)]
    pub period: Option<String>,
    /// aggregate: the layer whose areas are aggregated.
    #[serde(default)]
    pub from: Option<String>,
    /// aggregate: `mean | weighted-mean | sum | median | min | max | share`.
    #[serde(default)]
    pub how: Option<String>,
    /// aggregate with `how = "share"`: the class counted, e.g. `=1`, `<=3284`, `1..3`.
    #[serde(default)]
    pub class: Option<String>,
    /// aggregate: indicator of `from` used as weights (`weighted-mean`).
    #[serde(default)]
    pub weights: Option<String>,
    /// aggregate: `lookup` (default) or `spatial`.
    #[serde(default)]
    pub via: Option<String>,
    /// aggregate via lookup: `lad19cd` (attribute of `from`) or `TABLE.COLUMN` (lookup column).
    #[serde(default)]
    pub key: Option<String>,
    /// lisa: only English districts (codes E...).
    #[serde(default)]
    pub england_only: Option<bool>,
    /// lisa: permutations for the pseudo p-values (default 999).
    #[serde(default)]
    pub permutations: Option<usize>,
    /// lisa: seed of the permutations (default 42).
    #[serde(default)]
    pub seed: Option<u64>,
    /// lisa: significance level of the classes (default 0.05).
    #[serde(default)]
    pub alpha: Option<f64>,
    /// lisa: link islands to their k nearest districts.
    #[serde(default)]
    pub knn: Option<usize>,
}

/// What is wrong with a catalogue. Every variant names the catalogue file; most name the entry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalogue file could not be read.
    #[error("cannot read catalogue {path}: {source}")]
    Io {
        /// Catalogue path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown/missing keys.
    #[error("catalogue {path} is not valid: {source}")]
    Parse {
        /// Catalogue path.
        path: PathBuf,
        /// Cause (with line and column).
        source: Box<toml::de::Error>,
    },
    /// An entry names a file that is not in the data directory.
    #[error("catalogue {catalog}: entry `{entry}` names {file}, which does not exist")]
    MissingFile {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Missing file (resolved path).
        file: PathBuf,
    },
    /// Two entries share an id.
    #[error("catalogue {catalog}: {kind} id `{id}` is used more than once")]
    DuplicateId {
        /// Catalogue path.
        catalog: PathBuf,
        /// `layer`, `source`, `indicator`, `lookup`, `points`.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A reference to a layer, indicator or lookup that does not exist.
    #[error(
        "catalogue {catalog}: entry `{entry}` refers to unknown {kind} `{id}` (known: {known})"
    )]
    UnknownReference {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// `layer`, `indicator`, `lookup`.
        kind: &'static str,
        /// The unknown id.
        id: String,
        /// The valid ids.
        known: String,
    },
    /// A column the entry names is not in the file's header.
    #[error(
        "catalogue {catalog}: entry `{entry}` names column `{column}`, which is not in {file} (header: {header})"
    )]
    MissingColumn {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Column named.
        column: String,
        /// Data file.
        file: PathBuf,
        /// The file's header, comma-separated.
        header: String,
    },
    /// The entry is inconsistent (e.g. a long source without a period column).
    #[error("catalogue {catalog}: entry `{entry}`: {message}")]
    Invalid {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The header of a data file could not be read.
    #[error("catalogue {catalog}: entry `{entry}`: {source}")]
    Table {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Cause.
        source: Box<TableError>,
    },
}

// ---------------------------------------------------------------------------------------------
// Raw stage: the TOML as written.

/// The catalogue as written in TOML, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// `[[layer]]` entries.
    #[serde(default)]
    pub layer: Vec<LayerMeta>,
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

// ---------------------------------------------------------------------------------------------
// Resolved stage.

impl Catalog {
    /// Reads the catalogue at `path` and validates it against `data_dir`.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
    /// # let cat = concat!(env!("CARGO_MANIFEST_DIR"), "/../../boundaries/catalog.toml");
    /// # if !std::path::Path::new(dir).exists() { return; }
    /// use districts::catalog::Catalog;
    /// let catalog = Catalog::load(cat.as_ref(), dir.as_ref()).unwrap();
    /// assert!(catalog.layer("lad19").is_some());
    /// let ids: Vec<_> = catalog.indicators_for_layer("lad19").iter().map(|(_, i)| i.id.clone()).collect();
    /// assert!(ids.contains(&"imd_score".to_string()));
    /// ```
    pub fn load(path: &Path, data_dir: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let raw = RawCatalog::parse(&text).map_err(|source| CatalogError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Catalog::resolve(raw, path, data_dir)
    }

    /// Validates a parsed catalogue against `data_dir`; `catalog_path` is used in errors.
    pub fn resolve(
        raw: RawCatalog,
        catalog_path: &Path,
        data_dir: &Path,
    ) -> Result<Catalog, CatalogError> {
        let cx = Resolver {
            catalog: catalog_path.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        };
        // Ids: unique per kind, and indicator ids unique across the whole catalogue.
        cx.unique("layer", raw.layer.iter().map(|l| l.id.as_str()))?;
        cx.unique("source", raw.source.iter().map(|s| s.id.as_str()))?;
        cx.unique(
            "indicator",
            raw.source
                .iter()
                .flat_map(|s| s.indicator.iter().map(|i| i.id.as_str()))
                .chain(raw.derived.iter().map(|d| d.id.as_str())),
        )?;
        cx.unique("lookup", raw.lookup.iter().map(|l| l.id.as_str()))?;
        cx.unique("points", raw.points.iter().map(|p| p.id.as_str()))?;

        for layer in &raw.layer {
            cx.check_id(&layer.id)?;
            let path = cx.existing(&layer.id, &layer.file)?;
            if path.extension().and_then(|e| e.to_str()) == Some("shp") {
                // A shapefile is four files; the loader needs the geometry index, the attributes
                // and the CRS (`.prj`) as well.
                for ext in ["shx", "dbf", "prj"] {
                    let sibling = path.with_extension(ext);
                    if !sibling.is_file() {
                        return Err(CatalogError::MissingFile {
                            catalog: cx.catalog.clone(),
                            entry: layer.id.clone(),
                            file: sibling,
                        });
                    }
                }
            }
        }

        let lookups = raw
            .lookup
            .into_iter()
            .map(|l| cx.lookup(l))
            .collect::<Result<Vec<_>, _>>()?;
        let points = raw
            .points
            .into_iter()
            .map(|p| cx.points(p))
            .collect::<Result<Vec<_>, _>>()?;
        let layer_ids: Vec<&str> = raw.layer.iter().map(|l| l.id.as_str()).collect();
        let sources = raw
            .source
            .into_iter()
            .map(|s| cx.source(s, &layer_ids, &lookups))
            .collect::<Result<Vec<_>, _>>()?;

        let catalog = Catalog {
            path: cx.catalog.clone(),
            data_dir: cx.data_dir.clone(),
            layers: raw.layer,
            sources,
            lookups,
            points,
            derived: Vec::new(),
        };
        for (i, d) in raw.derived.iter().enumerate() {
            cx.derived(d, &catalog, &raw.derived[..i])?;
        }
        let catalog = Catalog {
            derived: raw.derived,
            ..catalog
        };
        for layer in &catalog.layers {
            if let Some(default) = &layer.default_indicator {
                let available = catalog.indicators_for_layer(&layer.id);
                if !available.iter().any(|(_, i)| &i.id == default) {
                    return Err(CatalogError::UnknownReference {
                        catalog: cx.catalog.clone(),
                        entry: layer.id.clone(),
                        kind: "indicator",
                        id: default.clone(),
                        known: join_ids(available.iter().map(|(_, i)| i.id.as_str())),
                    });
                }
            }
        }
        Ok(catalog)
    }

    /// The layers to load for `layer` so that its derived indicators among `indicators` (all
    /// with `None`) can be computed: `layer` itself, then the layers those aggregate from,
    /// following derived indicators built on other derived ones.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
    /// # let cat = concat!(env!("CARGO_MANIFEST_DIR"), "/../../boundaries/catalog.toml");
    /// # if !std::path::Path::new(dir).exists() { return; }
    /// let c = districts::catalog::Catalog::load(cat.as_ref(), dir.as_ref()).unwrap();
    /// assert_eq!(c.layers_for("lad19", Some(&["imd_score".into()])), ["lad19"]);
    /// assert_eq!(c.layers_for("lad19", Some(&["imd_rank_pop_weighted".into()])), ["lad19", "lsoa11"]);
    /// ```
    pub fn layers_for(&self, layer: &str, indicators: Option<&[String]>) -> Vec<String> {
        let mut layers = vec![layer.to_string()];
        let mut wanted: Vec<String> = match indicators {
            Some(ids) => ids.to_vec(),
            None => self
                .derived
                .iter()
                .filter(|d| d.layer == layer)
                .map(|d| d.id.clone())
                .collect(),
        };
        let mut seen: Vec<String> = Vec::new();
        while let Some(id) = wanted.pop() {
            if seen.contains(&id) {
                continue;
            }
            let Some(d) = self.derived.iter().find(|d| d.id == id && d.layer == layer) else {
                continue;
            };
            match &d.from {
                Some(from) => {
                    if !layers.contains(from) {
                        layers.push(from.clone());
                    }
                }
                // A LISA of this layer's indicator: that one may be derived too.
                None => wanted.push(d.indicator.clone()),
            }
            seen.push(id);
        }
        layers
    }

    /// The layer with this id.
    pub fn layer(&self, id: &str) -> Option<&LayerMeta> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// The source (table) with this id.
    pub fn source(&self, id: &str) -> Option<&SourceSpec> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The lookup table with this id.
    pub fn lookup(&self, id: &str) -> Option<&LookupSpec> {
        self.lookups.iter().find(|l| l.id == id)
    }

    /// The indicator with this id and the source it comes from.
    pub fn indicator(&self, id: &str) -> Option<(&SourceSpec, &IndicatorSpec)> {
        self.sources
            .iter()
            .flat_map(|s| s.indicators.iter().map(move |i| (s, i)))
            .find(|(_, i)| i.id == id)
    }

    /// Every indicator that applies to this layer, in catalogue order.
    pub fn indicators_for_layer(&self, layer_id: &str) -> Vec<(&SourceSpec, &IndicatorSpec)> {
        self.sources
            .iter()
            .filter(|s| s.layers.iter().any(|l| l == layer_id))
            .flat_map(|s| s.indicators.iter().map(move |i| (s, i)))
            .collect()
    }

    /// Every source whose indicators apply to this layer.
    pub fn sources_for_layer(&self, layer_id: &str) -> Vec<&SourceSpec> {
        self.sources
            .iter()
            .filter(|s| s.layers.iter().any(|l| l == layer_id))
            .collect()
    }

    /// Every data file the catalogue refers to (layers, shapefile siblings, sources, lookups,
    /// points), as file names inside the data directory.
    pub fn referenced_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for layer in &self.layers {
            files.push(layer.file.clone());
            if let Some(stem) = layer.file.strip_suffix(".shp") {
                for ext in ["shx", "dbf", "prj"] {
                    files.push(format!("{stem}.{ext}"));
                }
            }
        }
        files.extend(self.sources.iter().map(|s| s.file.clone()));
        files.extend(self.lookups.iter().map(|s| s.file.clone()));
        files.extend(self.points.iter().map(|s| s.file.clone()));
        files
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = ids.collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// Context for resolving entries: where errors point to.
struct Resolver {
    catalog: PathBuf,
    data_dir: PathBuf,
}

impl Resolver {
    fn unique<'a>(
        &self,
        kind: &'static str,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<(), CatalogError> {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                return Err(CatalogError::DuplicateId {
                    catalog: self.catalog.clone(),
                    kind,
                    id: id.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Ids go into URLs: lower-case ASCII letters, digits and underscores.
    /// Checks a `[[derived]]` entry against the resolved tables and the entries before it.
    fn derived(
        &self,
        d: &DerivedEntry,
        catalog: &Catalog,
        earlier: &[DerivedEntry],
    ) -> Result<(), CatalogError> {
        self.check_id(&d.id)?;
        let layer_ids = || join_ids(catalog.layers.iter().map(|l| l.id.as_str()));
        let unknown =
            |kind: &'static str, id: &str, known: String| CatalogError::UnknownReference {
                catalog: self.catalog.clone(),
                entry: d.id.clone(),
                kind,
                id: id.to_string(),
                known,
            };
        if catalog.layer(&d.layer).is_none() {
            return Err(unknown("layer", &d.layer, layer_ids()));
        }
        // Indicators of a layer: its tables' and the derived entries before this one.
        let indicators_of = |layer: &str| -> Vec<&str> {
            catalog
                .indicators_for_layer(layer)
                .into_iter()
                .map(|(_, i)| i.id.as_str())
                .chain(
                    earlier
                        .iter()
                        .filter(|e| e.layer == layer)
                        .map(|e| e.id.as_str()),
                )
                .collect()
        };
        let only = |set: bool, option: &str, method: &str| {
            if set {
                Err(self.invalid(
                    &d.id,
                    format!("`{option}` applies to method = \"{method}\" only"),
                ))
            } else {
                Ok(())
            }
        };
        let (indicator_layer, refs) = match d.method {
            DerivedMethod::Aggregate => {
                let Some(from) = &d.from else {
                    return Err(self.invalid(
                        &d.id,
                        "method = \"aggregate\" needs `from`, the layer whose areas are aggregated"
                            .into(),
                    ));
                };
                if catalog.layer(from).is_none() {
                    return Err(unknown("layer", from, layer_ids()));
                }
                if from == &d.layer {
                    return Err(self.invalid(
                        &d.id,
                        format!("`from` must be another layer than `layer` ({from})"),
                    ));
                }
                if d.how.is_none() {
                    return Err(self.invalid(
                        &d.id,
                        "method = \"aggregate\" needs `how` (mean, weighted-mean, sum, median, min, max or share)".into(),
                    ));
                }
                for (set, option) in [
                    (d.england_only.is_some(), "england_only"),
                    (d.permutations.is_some(), "permutations"),
                    (d.seed.is_some(), "seed"),
                    (d.alpha.is_some(), "alpha"),
                    (d.knn.is_some(), "knn"),
                ] {
                    only(set, option, "lisa")?;
                }
                (
                    from.as_str(),
                    vec![&d.indicator]
                        .into_iter()
                        .chain(&d.weights)
                        .collect::<Vec<_>>(),
                )
            }
            DerivedMethod::Lisa => {
                for (set, option) in [
                    (d.from.is_some(), "from"),
                    (d.how.is_some(), "how"),
                    (d.class.is_some(), "class"),
                    (d.weights.is_some(), "weights"),
                    (d.via.is_some(), "via"),
                    (d.key.is_some(), "key"),
                ] {
                    only(set, option, "aggregate")?;
                }
                (d.layer.as_str(), vec![&d.indicator])
            }
        };
        let available = indicators_of(indicator_layer);
        for id in refs {
            if !available.contains(&id.as_str()) {
                return Err(unknown(
                    "indicator",
                    id,
                    join_ids(available.iter().copied()),
                ));
            }
        }
        Ok(())
    }

    fn check_id(&self, id: &str) -> Result<(), CatalogError> {
        let ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.invalid(id, "ids must be snake_case (a-z, 0-9, _)".into()))
        }
    }

    fn invalid(&self, entry: &str, message: String) -> CatalogError {
        CatalogError::Invalid {
            catalog: self.catalog.clone(),
            entry: entry.to_string(),
            message,
        }
    }

    fn existing(&self, entry: &str, file: &str) -> Result<PathBuf, CatalogError> {
        let path = self.data_dir.join(file);
        if path.is_file() {
            Ok(path)
        } else {
            Err(CatalogError::MissingFile {
                catalog: self.catalog.clone(),
                entry: entry.to_string(),
                file: path,
            })
        }
    }

    fn header(
        &self,
        entry: &str,
        path: &Path,
        encoding: TextEncoding,
    ) -> Result<Vec<String>, CatalogError> {
        indicators::read_header(path, encoding).map_err(|e| CatalogError::Table {
            catalog: self.catalog.clone(),
            entry: entry.to_string(),
            source: Box::new(e),
        })
    }

    fn need_column(
        &self,
        entry: &str,
        path: &Path,
        header: &[String],
        column: &str,
    ) -> Result<(), CatalogError> {
        if header.iter().any(|h| h == column) {
            Ok(())
        } else {
            Err(CatalogError::MissingColumn {
                catalog: self.catalog.clone(),
                entry: entry.to_string(),
                column: column.to_string(),
                file: path.to_path_buf(),
                header: header.join(", "),
            })
        }
    }

    fn lookup(&self, raw: RawLookup) -> Result<LookupSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, raw.encoding)?;
        self.need_column(&raw.id, &path, &header, &raw.key_column)?;
        for c in &raw.columns {
            self.need_column(&raw.id, &path, &header, c)?;
        }
        Ok(LookupSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            publisher: raw.publisher,
            licence: raw.licence,
            attribution: raw.attribution,
            encoding: raw.encoding,
            key_column: raw.key_column,
            columns: raw.columns,
            notes: raw.notes,
        })
    }

    fn points(&self, raw: RawPoints) -> Result<PointsSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, TextEncoding::Utf8)?;
        for c in [
            &raw.id_column,
            &raw.name_column,
            &raw.x_column,
            &raw.y_column,
        ] {
            self.need_column(&raw.id, &path, &header, c)?;
        }
        Ok(PointsSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            publisher: raw.publisher,
            licence: raw.licence,
            attribution: raw.attribution,
            id_column: raw.id_column,
            name_column: raw.name_column,
            x_column: raw.x_column,
            y_column: raw.y_column,
            crs: raw.crs,
            notes: raw.notes,
        })
    }

    fn source(
        &self,
        raw: RawSource,
        layer_ids: &[&str],
        lookups: &[LookupSpec],
    ) -> Result<SourceSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, raw.encoding)?;
        let need = |entry: &str, column: &str| self.need_column(entry, &path, &header, column);
        need(&raw.id, &raw.code_column)?;
        if let Some(c) = &raw.name_column {
            need(&raw.id, c)?;
        }
        for c in raw.filters.keys() {
            need(&raw.id, c)?;
        }
        if raw.layers.is_empty() {
            return Err(self.invalid(&raw.id, "`layers` is empty".into()));
        }
        for layer in &raw.layers {
            if !layer_ids.contains(&layer.as_str()) {
                return Err(CatalogError::UnknownReference {
                    catalog: self.catalog.clone(),
                    entry: raw.id.clone(),
                    kind: "layer",
                    id: layer.clone(),
                    known: layer_ids.join(", "),
                });
            }
        }
        let layout = match raw.layout {
            RawLayout::Wide => {
                if raw.period_column.is_some() || raw.value_column.is_some() {
                    return Err(self.invalid(
                        &raw.id,
                        "a wide source has no `period_column`/`value_column`; name columns per indicator".into(),
                    ));
                }
                Layout::Wide
            }
            RawLayout::Long => {
                let Some(period_column) = raw.period_column.clone() else {
                    return Err(self.invalid(&raw.id, "a long source needs `period_column`".into()));
                };
                need(&raw.id, &period_column)?;
                if let Some(v) = &raw.value_column {
                    need(&raw.id, v)?;
                }
                Layout::Long {
                    period_column,
                    value_column: raw.value_column.clone(),
                }
            }
        };
        if raw.indicator.is_empty() {
            return Err(self.invalid(&raw.id, "a source needs at least one indicator".into()));
        }
        let mut indicators = Vec::with_capacity(raw.indicator.len());
        for ri in raw.indicator {
            self.check_id(&ri.id)?;
            let values = match &layout {
                Layout::Wide => self.wide_values(&ri, raw.period.as_deref())?,
                Layout::Long { value_column, .. } => {
                    if ri.column.is_some() || !ri.columns.is_empty() || ri.column_pattern.is_some()
                    {
                        return Err(self.invalid(
                            &ri.id,
                            "a long source's indicator takes `value_column`, not `column`/`columns`/`column_pattern`".into(),
                        ));
                    }
                    let Some(v) = ri.value_column.clone().or_else(|| value_column.clone()) else {
                        return Err(self.invalid(
                            &ri.id,
                            "no `value_column` on the indicator or its source".into(),
                        ));
                    };
                    ValueSpec::Long { value_column: v }
                }
            };
            match &values {
                ValueSpec::Columns(cols) => {
                    for (c, _) in cols {
                        need(&ri.id, c)?;
                    }
                }
                ValueSpec::ColumnPattern(p) => {
                    let matched = indicators::match_pattern(p, &header);
                    if matched.is_empty() {
                        return Err(CatalogError::MissingColumn {
                            catalog: self.catalog.clone(),
                            entry: ri.id.clone(),
                            column: p.clone(),
                            file: path.clone(),
                            header: header.join(", "),
                        });
                    }
                }
                ValueSpec::Long { value_column } => need(&ri.id, value_column)?,
            }
            for c in ri.filters.keys() {
                need(&ri.id, c)?;
            }
            let categories = self.categories(&ri, lookups)?;
            indicators.push(IndicatorSpec {
                id: ri.id,
                title: ri.title,
                unit: ri.unit,
                direction: ri.direction,
                values,
                filters: to_filters(ri.filters),
                default_period: ri.default_period,
                periods_note: ri.periods_note,
                description: ri.description,
                categories,
                style: ri.style,
            });
        }
        Ok(SourceSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            publisher: raw.publisher,
            licence: raw.licence,
            attribution: raw.attribution,
            encoding: raw.encoding,
            layout,
            code_column: raw.code_column,
            name_column: raw.name_column,
            filters: to_filters(raw.filters),
            layers: raw.layers,
            notes: raw.notes,
            indicators,
        })
    }

    fn wide_values(
        &self,
        ri: &RawIndicator,
        source_period: Option<&str>,
    ) -> Result<ValueSpec, CatalogError> {
        if ri.value_column.is_some() {
            return Err(self.invalid(
                &ri.id,
                "a wide source's indicator takes `column`, `columns` or `column_pattern`, not `value_column`".into(),
            ));
        }
        let given = usize::from(ri.column.is_some())
            + usize::from(!ri.columns.is_empty())
            + usize::from(ri.column_pattern.is_some());
        if given != 1 {
            return Err(self.invalid(
                &ri.id,
                "give exactly one of `column`, `columns`, `column_pattern`".into(),
            ));
        }
        if let Some(column) = &ri.column {
            let Some(period) = ri.period.as_deref().or(source_period) else {
                return Err(self.invalid(
                    &ri.id,
                    "`column` needs a `period` label (on the indicator or its source)".into(),
                ));
            };
            return Ok(ValueSpec::Columns(vec![(
                column.clone(),
                period.to_string(),
            )]));
        }
        if let Some(pattern) = &ri.column_pattern {
            if pattern.matches("{period}").count() != 1 {
                return Err(self.invalid(
                    &ri.id,
                    format!("`column_pattern` must contain `{{period}}` once: `{pattern}`"),
                ));
            }
            return Ok(ValueSpec::ColumnPattern(pattern.clone()));
        }
        Ok(ValueSpec::Columns(
            ri.columns
                .iter()
                .map(|c| (c.column.clone(), c.period.clone()))
                .collect(),
        ))
    }

    fn categories(
        &self,
        ri: &RawIndicator,
        lookups: &[LookupSpec],
    ) -> Result<Option<CategorySpec>, CatalogError> {
        let uses_category_keys = ri.category_names.is_some()
            || ri.category_name_column.is_some()
            || ri.category_code_prefix.is_some()
            || ri.category_code_suffix.is_some();
        if !ri.categorical {
            if uses_category_keys {
                return Err(
                    self.invalid(&ri.id, "`category_*` keys need `categorical = true`".into())
                );
            }
            return Ok(None);
        }
        let names_column = match &ri.category_names {
            Some(lookup_id) => {
                let Some(lookup) = lookups.iter().find(|l| &l.id == lookup_id) else {
                    return Err(CatalogError::UnknownReference {
                        catalog: self.catalog.clone(),
                        entry: ri.id.clone(),
                        kind: "lookup",
                        id: lookup_id.clone(),
                        known: join_ids(lookups.iter().map(|l| l.id.as_str())),
                    });
                };
                let column = ri
                    .category_name_column
                    .clone()
                    .unwrap_or_else(|| "name".to_string());
                if !lookup.columns.contains(&column) {
                    return Err(self.invalid(
                        &ri.id,
                        format!(
                            "lookup `{}` does not carry column `{column}` (it carries: {})",
                            lookup.id,
                            lookup.columns.join(", ")
                        ),
                    ));
                }
                Some(column)
            }
            None => None,
        };
        Ok(Some(CategorySpec {
            names_lookup: ri.category_names.clone(),
            names_column,
            code_prefix: ri.category_code_prefix,
            code_suffix: ri.category_code_suffix.clone().unwrap_or_default(),
        }))
    }
}

fn to_filters(map: BTreeMap<String, String>) -> Vec<Filter> {
    map.into_iter()
        .map(|(column, value)| Filter { column, value })
        .collect()
}

/// Groups indicator ids by layer, for listings (`GET /layers`) and hints.
pub fn indicator_ids_by_layer(catalog: &Catalog) -> HashMap<String, Vec<String>> {
    catalog
        .layers
        .iter()
        .map(|l| {
            (
                l.id.clone(),
                catalog
                    .indicators_for_layer(&l.id)
                    .into_iter()
                    .map(|(_, i)| i.id.clone())
                    .collect(),
            )
        })
        .collect()
}
