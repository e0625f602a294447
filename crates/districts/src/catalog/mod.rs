//! The catalogue (`boundaries/catalog.toml`): which data file is which layer, which columns are
//! which indicators, their vintage, units, direction and the credit their licence requires.
//!
//! Two stages, as in ripgrep's lowargs -> hiargs: the raw TOML as written ([`RawCatalog`](crate::catalog::RawCatalog)),
//! then [`Catalog`](crate::catalog::Catalog) resolved and validated against a data directory: every file exists, every
//! id is unique, every indicator's layers exist, every column it names is in the file's header,
//! and every layer's default indicator applies to it. Nothing downstream reads the TOML again.
//!
//! Layout: the resolved types are here; `raw` holds the TOML as written, `resolve` turns it
//! into these types (the only place that reads files), `error` says what is wrong.

/// The catalogue as written in TOML, before validation.
mod raw;

/// Raw to resolved: validation against the data directory.
mod resolve;

/// What is wrong with a catalogue.
mod error;

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::csv_text::TextEncoding;
pub use error::CatalogError;
pub use raw::{
    RawCatalog, RawColumn, RawCombine, RawIndicator, RawLayer, RawLayout, RawLookup, RawPoints,
    RawSource,
};

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

/// Where a data set comes from and the credit its licence requires: shared by layers, tables,
/// lookups, point sets and the indicators read from tables. Flattened when serialised, so JSON
/// keeps the flat `publisher`, `licence`, `attribution` and `notes` keys of the TOML.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Publisher, e.g. `ONS` or `ONS Open Geography Portal` (always given for tables, lookups
    /// and point sets; a layer may leave it out).
    #[serde(default)]
    pub publisher: Option<String>,
    /// Licence, e.g. `OGL-3.0`.
    pub licence: String,
    /// Credit line(s) required by the licence, shown with maps of the data.
    pub attribution: String,
    /// Provenance notes, caveats, known defects.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Metadata of a boundary layer, as the catalogue states it (parsed as [`RawLayer`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// Publisher, licence, credit line(s) that must be shown with maps of this layer, and known
    /// defects worth knowing when reading them (invalid rings, slivers...).
    #[serde(flatten)]
    pub provenance: Provenance,
    /// Further attributes to keep on each district (e.g. `region_name`).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Indicator shown when none is named.
    #[serde(default)]
    pub default_indicator: Option<String>,
    /// For a layer made by merging another: from which layer, through which lookup. Its `file` is
    /// then the lookup table and `code_field`/`name_field` its new-code and new-name columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeSpec>,
    /// Codes of districts whose source geometry is invalid: repaired at load, reported in the
    /// layer's load notes. Only these are repaired, so start-up does not check every polygon.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_geometries: Vec<String>,
}

/// How a derived boundary layer is made: the districts of layer `from` merged by a lookup table
/// (old code -> new code and name), e.g. LAD 2021 -> LAD 2023, or districts -> combined
/// authorities. Districts not in the lookup are copied.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeSpec {
    /// The layer whose districts are merged (declared earlier in the catalogue).
    pub from: String,
    /// The lookup table in the data directory.
    pub lookup: String,
    /// Column of the old (member) codes.
    #[serde(default = "default_old_code")]
    pub old_code: String,
    /// Column of the new codes.
    #[serde(default = "default_new_code")]
    pub new_code: String,
    /// Column of the new names.
    #[serde(default = "default_new_name")]
    pub new_name: String,
}

fn default_old_code() -> String {
    "old_code".into()
}
fn default_new_code() -> String {
    "new_code".into()
}
fn default_new_name() -> String {
    "new_name".into()
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
    /// Provenance of its source: licence, the credit line it requires, publisher, notes.
    #[serde(flatten)]
    pub provenance: Provenance,
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
    /// The scale of an ordinal indicator (deciles, quintiles): a map of it has one class per
    /// value, labelled, instead of classes computed from the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<OrdinalScale>,
}

/// Largest number of values an ordinal scale may have: a map gives each value its own colour,
/// and palettes have at most 11 (ColorBrewer's diverging schemes stop there).
pub const MAX_ORDINAL_VALUES: i64 = 11;

/// The scale of an ordinal indicator, as the catalogue declares it:
/// `ordinal = { from = 1, to = 10, each = "decile", first = "most deprived 10%", last = "least deprived 10%" }`.
/// Its values are the whole numbers `from..=to`, each a class of its own on a map.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdinalScale {
    /// Lowest value.
    pub from: i64,
    /// Highest value.
    pub to: i64,
    /// What one value is called (`decile`, `quintile`): the legend's scheme reads "One class
    /// per decile".
    pub each: String,
    /// What the lowest value means, shown after it: `1 (most deprived 10%)`.
    #[serde(default)]
    pub first: Option<String>,
    /// What the highest value means, shown after it: `10 (least deprived 10%)`.
    #[serde(default)]
    pub last: Option<String>,
}

impl OrdinalScale {
    /// The values of the scale, lowest first.
    ///
    /// ```
    /// let s = districts::catalog::OrdinalScale { from: 1, to: 5, each: "quintile".into(), first: None, last: None };
    /// assert_eq!(s.values(), vec![1, 2, 3, 4, 5]);
    /// ```
    pub fn values(&self) -> Vec<i64> {
        (self.from..=self.to).collect()
    }

    /// The legend label of `value`: the number, with what it means at either end.
    ///
    /// ```
    /// let s = districts::catalog::OrdinalScale { from: 1, to: 10, each: "decile".into(),
    ///     first: Some("most deprived 10%".into()), last: Some("least deprived 10%".into()) };
    /// assert_eq!(s.label(1), "1 (most deprived 10%)");
    /// assert_eq!(s.label(5), "5");
    /// assert_eq!(s.label(10), "10 (least deprived 10%)");
    /// ```
    pub fn label(&self, value: i64) -> String {
        let meaning = if value == self.from {
            self.first.as_deref()
        } else if value == self.to {
            self.last.as_deref()
        } else {
            None
        };
        match meaning {
            Some(m) => format!("{value} ({m})"),
            None => value.to_string(),
        }
    }

    /// Checks the scale: at least two values, at most [`MAX_ORDINAL_VALUES`], a name for them.
    pub fn check(&self) -> Result<(), String> {
        let n = self.to - self.from + 1;
        if !(2..=MAX_ORDINAL_VALUES).contains(&n) {
            return Err(format!(
                "ordinal from = {} to = {} has {n} values: a scale has 2 to {MAX_ORDINAL_VALUES}",
                self.from, self.to
            ));
        }
        if self.each.trim().is_empty() {
            return Err("ordinal needs `each`, the name of one value (e.g. \"decile\")".into());
        }
        Ok(())
    }
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
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum ValueSpec {
    /// Wide file, one column per period: `(column, period label)`.
    Columns(Vec<(String, String)>),
    /// Wide file, the columns whose names match `prefix{period}suffix`; labels from the
    /// `{period}` part by [`crate::csv_text::period_label`].
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
    /// The scale of an ordinal indicator (one class per value on a map).
    pub ordinal: Option<OrdinalScale>,
    /// How values published for former districts recombine into a merged district (`None`:
    /// never recombined).
    pub combine: Option<Combine>,
}

/// How an indicator's values for the former districts of a merged district recombine into its
/// value (catalogue `combine`). Recombination happens only when every part has a value (and a
/// weight) for the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "how")]
pub enum Combine {
    /// Counts: the merged value is the sum of the parts.
    Sum,
    /// Averages and rates: the mean of the parts weighted by their denominators, the values of
    /// the indicator `weights` (e.g. a population) for the same former districts.
    WeightedMean {
        /// Indicator id of the denominators (a table's or a `[[derived]]` one).
        weights: String,
    },
    /// Never recombined, with the reason shown to users (e.g. a median).
    Never {
        /// Why, e.g. "a median cannot be recombined from the former districts' medians".
        reason: String,
    },
}

impl IndicatorSpec {
    /// Whether values are category labels rather than numbers.
    pub fn categorical(&self) -> bool {
        self.categories.is_some()
    }

    /// The metadata a joined layer keeps for this indicator, with the source's credits.
    ///
    /// ```
    /// # let dir = test_support::fixtures_dir();
    /// # let cat = dir.join("toy_catalog.toml");
    /// let catalog = districts::catalog::Catalog::load(&cat, &dir).unwrap();
    /// let (source, spec) = catalog.indicator("toy_score").unwrap();
    /// let meta = spec.to_meta(source);
    /// assert_eq!(meta.file, "toy_indicators.csv");
    /// assert!(meta.provenance.attribution.contains("placemap's tests"));
    /// ```
    pub fn to_meta(&self, source: &SourceSpec) -> IndicatorMeta {
        IndicatorMeta {
            id: self.id.clone(),
            title: self.title.clone(),
            unit: self.unit.clone(),
            direction: self.direction,
            source: format!(
                "{}, {}",
                source.provenance.publisher.as_deref().unwrap_or_default(),
                source.title
            ),
            provenance: source.provenance.clone(),
            file: source.file.clone(),
            categorical: self.categorical(),
            source_id: source.id.clone(),
            default_period: self.default_period.clone(),
            periods_note: self.periods_note.clone(),
            description: self.description.clone(),
            style: self.style.clone(),
            ordinal: self.ordinal.clone(),
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
    /// Publisher, licence, credit lines required by the licence, notes and caveats.
    #[serde(flatten)]
    pub provenance: Provenance,
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
    /// Publisher, licence, credit lines, notes.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// Text encoding.
    pub encoding: TextEncoding,
    /// Column holding the key (e.g. `LSOA11CD`).
    pub key_column: String,
    /// Columns carried for each key.
    pub columns: Vec<String>,
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
    /// Publisher, licence, credit lines, notes.
    #[serde(flatten)]
    pub provenance: Provenance,
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
    /// Where boundary layers are kept as loaded ([`crate::prepared`]); `None` (as
    /// [`Catalog::load`] leaves it) reads every layer from its source.
    pub prepared_dir: Option<PathBuf>,
}

/// How a `[[derived]]` indicator is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivedMethod {
    /// An aggregation of another layer's areas (e.g. LSOAs) to this layer's districts.
    Aggregate,
    /// Local Moran (LISA) cluster classes of one of this layer's indicators.
    Lisa,
    /// One indicator whose periods are taken from several indicators of this layer (e.g. IMD
    /// 2019 and IMD 2025 as periods `2019` and `2025`), so `change=` can compare them.
    Series,
}

/// One period of a `method = "series"` indicator: which indicator of the layer (and which of
/// its periods, default its default period) gives the values shown under `label`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesPart {
    /// The period label of the series, e.g. `2019`.
    pub label: String,
    /// An indicator of the series' layer (from a table or an earlier derived entry).
    pub indicator: String,
    /// Its period (default: the indicator's default period).
    #[serde(default)]
    pub period: Option<String>,
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
    /// `aggregate`, `lisa` or `series`.
    pub method: DerivedMethod,
    /// The indicator aggregated (of `from` or `from_table`) or clustered (of `layer`); not
    /// given for a series.
    #[serde(default)]
    pub indicator: String,
    /// Its period (default: the indicator's default period).
    #[serde(default)]
    pub period: Option<String>,
    /// aggregate: the layer whose areas are aggregated.
    #[serde(default)]
    pub from: Option<String>,
    /// aggregate: instead of a layer, a catalogued table whose rows are the small areas (all
    /// of them, with or without a boundary), e.g. `imd2025_lsoa21_file1`.
    #[serde(default)]
    pub from_table: Option<String>,
    /// aggregate from a table: the column of that table holding each row's target code, e.g.
    /// `Local Authority District code (2024)`.
    #[serde(default)]
    pub group_by: Option<String>,
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
    /// series: the periods, in order, each from an indicator of `layer`.
    #[serde(default)]
    pub periods: Vec<SeriesPart>,
}

impl Catalog {
    /// The layers to load for `layer` so that its derived indicators among `indicators` (all
    /// with `None`) can be computed: `layer` itself, then the layers those aggregate from,
    /// following derived indicators built on other derived ones.
    ///
    /// ```
    /// # let dir = test_support::fixtures_dir();
    /// # let cat = dir.join("toy_catalog.toml");
    /// let c = districts::catalog::Catalog::load(&cat, &dir).unwrap();
    /// assert_eq!(c.layers_for("toy", Some(&["toy_score".into()])), ["toy"]);
    /// assert_eq!(c.layers_for("toy_region", Some(&["toy_score_mean".into()])), ["toy_region", "toy"]);
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
            match (&d.method, &d.from) {
                (DerivedMethod::Aggregate, Some(from)) => {
                    if !layers.contains(from) {
                        layers.push(from.clone());
                    }
                }
                // From a table: read at start-up, no layer needed.
                (DerivedMethod::Aggregate, None) => {}
                // A LISA of this layer's indicator: that one may be derived too.
                (DerivedMethod::Lisa, _) => wanted.push(d.indicator.clone()),
                // A series of this layer's indicators, which may be derived too.
                (DerivedMethod::Series, _) => {
                    wanted.extend(d.periods.iter().map(|p| p.indicator.clone()));
                }
            }
            seen.push(id);
        }
        // Weights of the layer's recombined averages (e.g. a population derived on lad19).
        for (_, spec) in self.indicators_for_layer(layer) {
            let asked = indicators.is_none_or(|ids| ids.contains(&spec.id));
            if let (true, Some(Combine::WeightedMean { weights })) = (asked, &spec.combine)
                && let Some(d) = self.derived.iter().find(|d| &d.id == weights)
            {
                for l in std::iter::once(&d.layer).chain(d.from.as_ref()) {
                    if !layers.contains(l) {
                        layers.push(l.clone());
                    }
                }
            }
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
