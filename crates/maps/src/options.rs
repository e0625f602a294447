//! Typed options of map operations, shared by both edges: the server deserialises them from a
//! query string (`deny_unknown_fields`, every value arriving as text), the CLI flattens them into
//! its commands (`clap::Args`, feature `clap`). One struct per concern, so the list of valid
//! options is the struct itself, never a hand-kept list.

use std::fmt;
use std::str::FromStr;

use serde::de::value::Error as ValueError;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::MapError;

/// How a map is styled: the options every styled output (tiles, TileJSON, legends, figures,
/// published bundles) accepts. Equal options give equal styles (the style cache's key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct StyleOptions {
    /// A second indicator for a bivariate (3 x 3) map against this one.
    #[cfg_attr(feature = "clap", arg(long))]
    pub bivariate: Option<String>,
    /// Period of the second indicator of a bivariate map.
    #[cfg_attr(feature = "clap", arg(long))]
    pub bivariate_year: Option<String>,
    /// Classification: quantile, equal, jenks, stddev, manual.
    #[cfg_attr(feature = "clap", arg(long))]
    pub scheme: Option<String>,
    /// Number of classes (2..9).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub k: Option<usize>,
    /// Manual class upper bounds, comma-separated.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub breaks: Option<String>,
    /// Palette (ColorBrewer name, viridis, cividis...).
    #[cfg_attr(feature = "clap", arg(long))]
    pub palette: Option<String>,
    /// Reverse the palette.
    #[serde(default, deserialize_with = "flag")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub reverse: bool,
    /// Districts to outline and label (GSS codes, comma-separated).
    #[cfg_attr(feature = "clap", arg(long))]
    pub highlight: Option<String>,
    /// Period (year) to map.
    #[cfg_attr(feature = "clap", arg(long))]
    pub year: Option<String>,
    /// Change between two periods, FROM..TO.
    #[cfg_attr(feature = "clap", arg(long))]
    pub change: Option<String>,
    /// How change is measured: diff (default) or pct.
    #[cfg_attr(feature = "clap", arg(long))]
    pub change_kind: Option<String>,
    /// Midpoint of a diverging palette (a number or `median`).
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub midpoint: Option<String>,
    /// How tiles and MapLibre styles draw districts without a value: `hatch` (default), `none`
    /// (transparent, for overlays; Mapnik draws nothing for them) or a colour `#rrggbb`.
    /// Figures and legends keep the hatch, which prints in any colour scheme.
    #[cfg_attr(feature = "clap", arg(long))]
    pub nodata: Option<String>,
}

/// How a static figure is framed, besides its style.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct FigureOptions {
    /// Title (default: the indicator's title).
    #[cfg_attr(feature = "clap", arg(long))]
    pub title: Option<String>,
    /// Subtitle (default: extent, layer and period).
    #[cfg_attr(feature = "clap", arg(long))]
    pub subtitle: Option<String>,
    /// Width in px (default 1000).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub width: Option<u32>,
    /// Height in px (default 1100).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub height: Option<u32>,
    /// Scale for print (2 or 3 for 300 dpi figures).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub scale: Option<f32>,
    /// An English region or a nation, by name or slug in any case ("North East", `north-east`,
    /// `scotland`), on any layer; default all of England.
    #[cfg_attr(feature = "clap", arg(long))]
    pub region: Option<String>,
    /// A bounding box minLon,minLat,maxLon,maxLat.
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub bbox: Option<Bbox>,
    /// A list of district codes to map.
    #[cfg_attr(feature = "clap", arg(long))]
    pub districts: Option<String>,
    /// The London inset (default on; the CLI says `--no-inset`).
    #[serde(default, deserialize_with = "opt_flag")]
    #[cfg_attr(feature = "clap", arg(skip))]
    pub inset: Option<bool>,
    /// Which districts the classes divide: `shown` (default: the districts the figure shows,
    /// its region, box or list, so its legend has no empty class) or `all` (the whole layer,
    /// as the tiles do, to compare several figures on one scale).
    #[cfg_attr(feature = "clap", arg(long))]
    pub domain: Option<String>,
}

/// What an export (GeoJSON, CSV) carries.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ExportOptions {
    /// Indicators to include (comma-separated; default all; empty for none).
    #[cfg_attr(feature = "clap", arg(long))]
    pub indicators: Option<String>,
    /// default (each indicator's default period), all (every period, as id_period) or a list.
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub periods: Option<Periods>,
    /// How the default period's columns are named: `period` (the default:
    /// `{indicator}_{period}` for an indicator with several periods, e.g.
    /// `median_weekly_pay_2021`) or `plain` (`{indicator}`).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub columns: Option<ColumnNames>,
    /// Only districts whose bounding box meets minLon,minLat,maxLon,maxLat.
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub bbox: Option<Bbox>,
    /// GeoJSON: the map's simplification for this zoom (smaller files).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub zoom: Option<u8>,
    /// GeoJSON: simplification tolerance in metres (instead of zoom).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub simplify: Option<f64>,
    /// GeoJSON: decimals of coordinates (default 6 for degrees, 2 for metres).
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub precision: Option<usize>,
    /// GeoJSON: CRS of the coordinates: CRS84 (default, longitude first), EPSG:4326 (latitude
    /// first), EPSG:27700 (British National Grid) or EPSG:3857, as a code or an OGC URI.
    #[serde(default, deserialize_with = "from_text")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub crs: Option<crate::output_crs::OutputCrs>,
}

/// `region=` on tiles and district lists: the map of one English region or nation (by name or
/// slug in any case), classed over its districts, the others left undrawn (see
/// [`crate::style::StyleCache::resolve_in_region`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionOptions {
    /// Region or nation, e.g. `North East`, `north-east`, `wales`.
    pub region: Option<String>,
}

/// Which version of an uploaded dataset a route uses: `version=N` pins the indicator named in
/// the route (or, in lists, every uploaded dataset's indicator) to version N, the same as
/// `@N` after its id; without it the latest version is used. Catalogue indicators have no
/// versions. (The CLI has no such flag: clap keeps `--version` for itself.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionOptions {
    /// Version number (1, 2, ...) of an uploaded dataset.
    #[serde(default, deserialize_with = "from_text")]
    pub version: Option<u32>,
}

/// `minLon,minLat,maxLon,maxLat` in degrees, checked for order and range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bbox(pub [f64; 4]);

const BBOX_HINT: &str =
    "bbox=minLon,minLat,maxLon,maxLat in degrees, e.g. bbox=-2.0,53.3,-1.2,53.9";

impl FromStr for Bbox {
    type Err = MapError;
    fn from_str(raw: &str) -> Result<Self, MapError> {
        let parts: Vec<&str> = raw.split(',').collect();
        if parts.len() != 4 {
            return Err(MapError::bad_request(
                format!("bbox={raw:?} needs 4 numbers, got {}", parts.len()),
                BBOX_HINT,
            ));
        }
        let mut v = [0.0; 4];
        for (slot, p) in v.iter_mut().zip(&parts) {
            *slot = p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    MapError::bad_request(format!("bbox value {p:?} is not a number"), BBOX_HINT)
                })?;
        }
        let [w, s, e, n] = v;
        if !(-180.0..=180.0).contains(&w)
            || !(-180.0..=180.0).contains(&e)
            || !(-90.0..=90.0).contains(&s)
            || !(-90.0..=90.0).contains(&n)
        {
            return Err(MapError::bad_request(
                format!("bbox={raw:?} is out of range for degrees"),
                BBOX_HINT,
            ));
        }
        if w > e || s > n {
            return Err(MapError::bad_request(
                format!("bbox={raw:?} has min greater than max"),
                BBOX_HINT,
            ));
        }
        Ok(Bbox(v))
    }
}

/// How an export names the column of an indicator's default period (`columns=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColumnNames {
    /// `{indicator}_{period}` for an indicator with several periods, so a column says which
    /// year it holds (`median_weekly_pay_2021`); an indicator with one period keeps its id.
    #[default]
    Period,
    /// `{indicator}`, whatever the period.
    Plain,
}

impl FromStr for ColumnNames {
    type Err = MapError;
    fn from_str(raw: &str) -> Result<Self, MapError> {
        match raw.trim() {
            "period" => Ok(ColumnNames::Period),
            "plain" => Ok(ColumnNames::Plain),
            other => Err(MapError::bad_request(
                format!("columns={other:?} is not a choice"),
                "columns=period ({indicator}_{period}, the default) or columns=plain ({indicator})",
            )),
        }
    }
}

impl Periods {
    /// The periods with `columns=` applied: `plain` names the default period's columns by the
    /// indicator's id alone; with `periods=all` or a list every column needs its period, so
    /// `plain` is refused there.
    ///
    /// ```
    /// use maps::options::{ColumnNames, Periods};
    /// assert_eq!(Periods::Default.named(Some(ColumnNames::Plain)).unwrap(), Periods::DefaultPlain);
    /// assert_eq!(Periods::Default.named(None).unwrap(), Periods::Default);
    /// assert!(Periods::All.named(Some(ColumnNames::Plain)).is_err());
    /// ```
    pub fn named(self, columns: Option<ColumnNames>) -> Result<Periods, MapError> {
        match (self, columns.unwrap_or_default()) {
            (p, ColumnNames::Period) => Ok(p),
            (Periods::Default | Periods::DefaultPlain, ColumnNames::Plain) => {
                Ok(Periods::DefaultPlain)
            }
            (_, ColumnNames::Plain) => Err(MapError::bad_request(
                "columns=plain names the default period's columns only",
                "with periods=all or a list every column is named {indicator}_{period}; leave out columns=",
            )),
        }
    }
}

impl ExportOptions {
    /// The periods asked for (`periods=`), named as `columns=` says.
    pub fn periods_named(&self) -> Result<Periods, MapError> {
        self.periods.clone().unwrap_or_default().named(self.columns)
    }
}

/// Which periods of each indicator an export carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Periods {
    /// The default period, as `{id}_{period}` when the indicator has several periods
    /// (`median_weekly_pay_2021`), as `{id}` when it has one.
    #[default]
    Default,
    /// The default period, as `{id}` (`columns=plain`).
    DefaultPlain,
    /// Every period, as `{id}_{label}` with `/` and `-` of the label as `_`
    /// (`median_weekly_pay_2021`, `gcse_eng_maths_2020_21`): a wide table for GIS users.
    All,
    /// These periods of each indicator that has them (a label, or a year that starts exactly
    /// one label: `2020` for `2020/21`), as `{id}_{label}`.
    Listed(Vec<String>),
}

impl FromStr for Periods {
    type Err = MapError;
    fn from_str(raw: &str) -> Result<Self, MapError> {
        match raw.trim() {
            "default" => Ok(Periods::Default),
            "all" => Ok(Periods::All),
            other => {
                let list = parse_list(other);
                if list.is_empty() {
                    return Err(MapError::bad_request(
                        format!("periods={other:?} is not a choice"),
                        "periods=default (each indicator's default period, as its id), periods=all (every period, as id_period) or a list such as periods=2015,2021",
                    ));
                }
                Ok(Periods::Listed(list))
            }
        }
    }
}

/// A comma-separated list, trimmed, empty items dropped.
pub fn parse_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A set of options an edge can read from `name=value` pairs (a query string).
pub trait OptionSet: Sized {
    /// Every option name of the set.
    fn names() -> Vec<&'static str>;
    /// The set from those pairs whose name is one of [`OptionSet::names`].
    fn from_pairs(pairs: &[(String, String)]) -> Result<Self, MapError>;
}

macro_rules! option_set {
    ($($t:ty),*) => {$(
        impl OptionSet for $t {
            fn names() -> Vec<&'static str> {
                field_names::<$t>().to_vec()
            }
            fn from_pairs(pairs: &[(String, String)]) -> Result<Self, MapError> {
                deserialize_pairs(pairs)
            }
        }
    )*};
}
option_set!(
    StyleOptions,
    FigureOptions,
    ExportOptions,
    VersionOptions,
    RegionOptions
);

impl<A: OptionSet, B: OptionSet> OptionSet for (A, B) {
    fn names() -> Vec<&'static str> {
        let mut n = A::names();
        n.extend(B::names());
        n
    }
    fn from_pairs(pairs: &[(String, String)]) -> Result<Self, MapError> {
        Ok((A::from_pairs(pairs)?, B::from_pairs(pairs)?))
    }
}

/// Reads an option set from `name=value` pairs, refusing names it does not know (400 listing
/// the valid ones) and naming the option whose value is bad.
///
/// ```
/// use maps::options::{StyleOptions, read_options};
/// let pairs = vec![("k".to_string(), "7".to_string()), ("reverse".into(), "true".into())];
/// let s: StyleOptions = read_options(&pairs).unwrap();
/// assert_eq!((s.k, s.reverse), (Some(7), true));
/// let bad = vec![("colour".to_string(), "red".to_string())];
/// assert!(read_options::<StyleOptions>(&bad).unwrap_err().hint().unwrap().contains("palette"));
/// ```
pub fn read_options<T: OptionSet>(pairs: &[(String, String)]) -> Result<T, MapError> {
    let known = T::names();
    let mut unknown: Vec<&str> = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !known.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        return Err(MapError::bad_request(
            format!("unknown option(s): {}", unknown.join(", ")),
            format!("valid options: {}", known.join(", ")),
        ));
    }
    T::from_pairs(pairs)
}

fn deserialize_pairs<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, MapError> {
    let names = field_names::<T>();
    let mine: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .cloned()
        .collect();
    // Through the form-encoding crate, whose deserializer reads `Option` fields from text (serde's
    // own value deserializers do not).
    let decode = |pairs: &[(String, String)]| -> Result<T, serde_urlencoded::de::Error> {
        let text = serde_urlencoded::to_string(pairs)
            .map_err(|e| <serde_urlencoded::de::Error as de::Error>::custom(e.to_string()))?;
        serde_urlencoded::from_str(&text)
    };
    decode(&mine).map_err(|e| {
        // Name the culprit: the first pair that fails on its own.
        for (k, v) in &mine {
            if let Err(e1) = decode(&[(k.clone(), v.clone())]) {
                return MapError::bad_request(
                    format!("{k}={v:?}: {e1}"),
                    format!("valid options: {}", names.join(", ")),
                );
            }
        }
        MapError::bad_request(
            e.to_string(),
            format!("valid options: {}", names.join(", ")),
        )
    })
}

/// The field names of a struct deriving `Deserialize`, read from what its derived code asks the
/// deserializer for. (serde_aux's `serde_introspect` does the same but pulls in chrono.)
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Introspect<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Introspect<'_> {
        type Error = ValueError;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ValueError> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, ValueError> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// A value given as text (a query string has nothing else), parsed with `FromStr`.
fn from_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let s = String::deserialize(d)?;
    s.trim()
        .parse::<T>()
        .map(Some)
        .map_err(|e| de::Error::custom(format!("not a valid value ({e})")))
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// `true|false|1|0|yes|no`; an empty value (`?reverse`) means true.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = String::deserialize(d)?;
    parse_flag(&s).ok_or_else(|| de::Error::custom("not true or false"))
}

fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    flag(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_come_from_the_structs() {
        assert!(StyleOptions::names().contains(&"midpoint"));
        assert!(<(StyleOptions, FigureOptions)>::names().contains(&"inset"));
        assert_eq!(ExportOptions::names().len(), 8);
        assert!(ExportOptions::names().contains(&"columns"));
        assert_eq!(RegionOptions::names(), ["region"]);
    }

    #[test]
    fn bad_values_name_the_option() {
        let e = read_options::<StyleOptions>(&pairs(&[("k", "five")])).unwrap_err();
        assert!(e.message().starts_with("k=\"five\""), "{e}");
        let e = read_options::<FigureOptions>(&pairs(&[("bbox", "-1,53,-2,54")])).unwrap_err();
        assert!(e.message().contains("min greater than max"), "{e}");
        let (s, f) =
            read_options::<(StyleOptions, FigureOptions)>(&pairs(&[("k", "3"), ("inset", "no")]))
                .unwrap();
        assert_eq!((s.k, f.inset), (Some(3), Some(false)));
    }

    #[test]
    fn bbox_checks_order_and_range() {
        assert!("-2,53,-1,54".parse::<Bbox>().is_ok());
        assert!("-1,53,-2,54".parse::<Bbox>().is_err());
        assert!("-2,53,-1".parse::<Bbox>().is_err());
        assert!("-2,53,-1,954".parse::<Bbox>().is_err());
        assert!("a,53,-1,54".parse::<Bbox>().is_err());
    }
}
