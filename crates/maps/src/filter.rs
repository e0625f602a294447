//! Selecting and ordering a layer's districts by their properties, for OGC API - Features
//! Part 3 (Filtering) and CQL2: the queryables of a layer (code, name, kept attributes,
//! indicator values by default period and by period), property equality (`?region_name=North
//! East`), CQL2 text filters, `sortby=` and `properties=`. HTTP-free: the OGC route only glues.
//!
//! Supported CQL2 (OGC 21-065r2): Basic CQL2 (comparisons `= <> < <= > >=`, `AND`, `OR`,
//! `NOT`, `IS [NOT] NULL`, boolean literals), advanced comparison operators (`[NOT] LIKE` with
//! `%` and `_`, `[NOT] BETWEEN`, `[NOT] IN`), property-property comparisons, and `S_INTERSECTS`
//! of the geometry with a `BBOX(...)` or any WKT literal (POINT ... GEOMETRYCOLLECTION), whose
//! coordinates are in `filter-crs`. Anything else (other spatial, temporal or array functions,
//! CASEI/ACCENTI, arithmetic) is refused with an error naming the construct.
//!
//! Hand-written rather than with the `cql2` crate (developmentseed, 0.6): that crate turns on
//! serde_json's `preserve_order` feature, which would reorder the members of every JSON
//! document the workspace writes (feature unification), and pulls in an SQL parser and a JSON
//! Schema validator we do not need; the text grammar of the classes above is small.

use std::cmp::Ordering;
use std::collections::HashMap;

use districts::layer::PeriodValues;
use districts::{Indicator, Layer};
use geo::{BoundingRect, CoordsIter, Intersects};
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon, Rect,
};
use serde_json::{Map, Value, json};

use crate::error::MapError;
use crate::options::Periods;
use crate::output_crs::OutputCrs;

/// The name of the geometry queryable (what `S_INTERSECTS` takes).
pub const GEOMETRY: &str = "geometry";

/// The type of a queryable's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// Text: codes, names, attributes, categories.
    String,
    /// Numbers: indicator values.
    Number,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Number => "a number",
        }
    }
}

#[derive(Clone, Debug)]
enum Source {
    Code,
    Name,
    Attribute(String),
    Value { indicator: usize, period: usize },
}

/// A property that filters and `sortby` may name.
#[derive(Clone, Debug)]
pub struct Queryable {
    /// The property name, as in the features' properties.
    pub name: String,
    /// The type of its values.
    pub kind: Type,
    /// A human title.
    pub title: String,
    /// Unit, period and source where known.
    pub description: Option<String>,
    source: Source,
}

/// The queryables of one layer, and the value of each for each district.
#[derive(Debug)]
pub struct Queryables<'a> {
    layer: &'a Layer,
    list: Vec<Queryable>,
    by_name: HashMap<String, usize>,
}

/// The property key of an indicator's period in `periods=all` exports: `{id}_{label}` with `/`
/// and `-` of the label as `_` (`gcse_eng_maths_2020_21`).
pub fn period_key(indicator: &Indicator, label: &str) -> String {
    format!("{}_{}", indicator.meta.id, label.replace(['/', '-'], "_"))
}

/// Attribute names of a layer's districts: the catalogue's, then any a district carries besides
/// (a merged layer's `merged_from`).
fn attribute_names(layer: &Layer) -> Vec<String> {
    let mut names = layer.meta.attributes.clone();
    if let Some(d) = layer.districts.first() {
        for (k, _) in &d.attributes {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    names
}

impl<'a> Queryables<'a> {
    /// The queryables of `layer`: `code`, `name`, its attributes, each indicator by its id (the
    /// default period) and by `{id}_{period}` for every period.
    pub fn of(layer: &'a Layer) -> Queryables<'a> {
        let mut list = vec![
            Queryable {
                name: "code".into(),
                kind: Type::String,
                title: "GSS code".into(),
                description: Some("the feature id".into()),
                source: Source::Code,
            },
            Queryable {
                name: "name".into(),
                kind: Type::String,
                title: "District name".into(),
                description: None,
                source: Source::Name,
            },
        ];
        for a in attribute_names(layer) {
            list.push(Queryable {
                name: a.clone(),
                kind: Type::String,
                title: a.clone(),
                description: Some("boundary file attribute".into()),
                source: Source::Attribute(a),
            });
        }
        for (k, ind) in layer.indicators.iter().enumerate() {
            let kind = if ind.meta.categorical {
                Type::String
            } else {
                Type::Number
            };
            let unit = if ind.meta.unit.is_empty() {
                String::new()
            } else {
                format!(" ({})", ind.meta.unit)
            };
            if let Some(p) = ind
                .periods
                .iter()
                .position(|p| p.label == ind.default_period)
            {
                list.push(Queryable {
                    name: ind.meta.id.clone(),
                    kind,
                    title: ind.meta.title.clone(),
                    description: Some(format!("{}{unit}, default period", ind.default_period)),
                    source: Source::Value {
                        indicator: k,
                        period: p,
                    },
                });
            }
            for (p, period) in ind.periods.iter().enumerate() {
                list.push(Queryable {
                    name: period_key(ind, &period.label),
                    kind,
                    title: format!("{} {}", ind.meta.title, period.label),
                    description: Some(format!("{}{unit}", period.label)),
                    source: Source::Value {
                        indicator: k,
                        period: p,
                    },
                });
            }
        }
        let mut by_name = HashMap::new();
        for (n, q) in list.iter().enumerate() {
            by_name.entry(q.name.clone()).or_insert(n);
        }
        Queryables {
            layer,
            list,
            by_name,
        }
    }

    /// Every queryable (besides the geometry), in schema order.
    pub fn list(&self) -> &[Queryable] {
        &self.list
    }

    /// The position of the queryable with this name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// A 400 naming an unknown property and the valid ones.
    fn unknown(&self, what: &str, name: &str) -> MapError {
        MapError::bad_request(
            format!(
                "{what}: {name:?} is not a queryable property of layer {}",
                self.layer.meta.id
            ),
            self.hint(),
        )
    }

    fn hint(&self) -> String {
        let names: Vec<&str> = self.list.iter().map(|q| q.name.as_str()).collect();
        let shown = names.len().min(40);
        let more = if names.len() > shown {
            format!(" and {} more", names.len() - shown)
        } else {
            String::new()
        };
        format!(
            "queryables (see the collection's /queryables): {}{more}",
            names[..shown].join(", ")
        )
    }

    /// The value of queryable `q` for district `i`.
    fn value(&self, q: usize, i: usize) -> Val<'a> {
        let layer = self.layer;
        let d = &layer.districts[i];
        match &self.list[q].source {
            Source::Code => Val::Str(&d.code),
            Source::Name => Val::Str(&d.name),
            Source::Attribute(k) => d
                .attributes
                .iter()
                .find(|(key, _)| key == k)
                .map_or(Val::Null, |(_, v)| Val::Str(v)),
            Source::Value { indicator, period } => {
                match &layer.indicators[*indicator].periods[*period].values {
                    PeriodValues::Numeric(v) => v[i].map_or(Val::Null, Val::Num),
                    PeriodValues::Categorical(v) => v[i].as_deref().map_or(Val::Null, Val::Str),
                }
            }
        }
    }

    /// The queryables as a JSON Schema (2020-12) document, as OGC API - Features Part 3 serves
    /// at `/collections/{id}/queryables`; `id` is that document's URL.
    pub fn schema(&self, id: &str) -> Value {
        let mut props = Map::new();
        props.insert(
            GEOMETRY.into(),
            json!({
                "title": "Boundary",
                "format": "geometry-multipolygon",
                "x-ogc-role": "primary-geometry",
            }),
        );
        for q in &self.list {
            let mut p = json!({
                "title": q.title,
                "type": match q.kind { Type::String => "string", Type::Number => "number" },
            });
            if let Some(d) = &q.description {
                p["description"] = Value::from(d.clone());
            }
            if matches!(q.source, Source::Code) {
                p["x-ogc-role"] = Value::from("id");
            }
            props.insert(q.name.clone(), p);
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": id,
            "type": "object",
            "title": self.layer.meta.title,
            "description": "Properties of the districts that filter= (CQL2 text), property=value and sortby= may name; an indicator's id is its default period, id_period each period.",
            "properties": props,
            "additionalProperties": false,
        })
    }
}

/// A value during evaluation, borrowed from the layer or the filter.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Val<'v> {
    Null,
    Num(f64),
    Str(&'v str),
    Bool(bool),
}

/// A literal of a filter.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Num(f64),
    Str(String),
    Bool(bool),
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Prop(usize),
    Lit(Lit),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed filter, its property names resolved against one layer's [`Queryables`].
#[derive(Clone, Debug, PartialEq)]
pub struct Filter(Expr);

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Const(bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Cmp, Operand),
    Like {
        operand: Operand,
        pattern: Vec<char>,
        negated: bool,
    },
    Between {
        operand: Operand,
        low: Operand,
        high: Operand,
        negated: bool,
    },
    In {
        operand: Operand,
        list: Vec<Operand>,
        negated: bool,
    },
    IsNull {
        operand: Operand,
        negated: bool,
    },
    Intersects(Box<Area>),
}

/// A geometry literal in WGS84, with its envelope for a quick rejection.
#[derive(Clone, Debug, PartialEq)]
struct Area {
    geometry: Geometry<f64>,
    envelope: Option<Rect<f64>>,
}

impl Area {
    fn new(geometry: Geometry<f64>) -> Area {
        let envelope = geometry.bounding_rect();
        Area { geometry, envelope }
    }
}

/// Kleene logic: `None` is "unknown" (a comparison with a missing value).
fn not3(v: Option<bool>) -> Option<bool> {
    v.map(|b| !b)
}

impl Filter {
    /// Whether district `i` is selected (the filter is true, not false or unknown).
    pub fn matches(&self, qs: &Queryables<'_>, i: usize) -> bool {
        eval(&self.0, qs, i) == Some(true)
    }

    /// All of `filters` (`None` when empty).
    pub fn all(filters: Vec<Filter>) -> Option<Filter> {
        match filters.len() {
            0 => None,
            1 => filters.into_iter().next(),
            _ => Some(Filter(Expr::And(
                filters.into_iter().map(|f| f.0).collect(),
            ))),
        }
    }
}

fn operand<'v>(o: &'v Operand, qs: &Queryables<'v>, i: usize) -> Val<'v> {
    match o {
        Operand::Prop(q) => qs.value(*q, i),
        Operand::Lit(Lit::Num(n)) => Val::Num(*n),
        Operand::Lit(Lit::Str(s)) => Val::Str(s),
        Operand::Lit(Lit::Bool(b)) => Val::Bool(*b),
    }
}

fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(&y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

fn compare(a: Val<'_>, op: Cmp, b: Val<'_>) -> Option<bool> {
    let o = order(a, b)?;
    Some(match op {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    })
}

/// SQL LIKE: `%` any run, `_` one character, `\` escapes the next.
fn like(text: &str, pattern: &[char]) -> bool {
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match pattern.get(pi) {
            Some('%') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('\\') => pattern.get(pi + 1).filter(|&&c| c == t[ti]).map(|_| 2),
            Some('_') => Some(1),
            Some(&c) if c == t[ti] => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(n), _) => {
                pi += n;
                ti += 1;
            }
            (None, Some((sp, st))) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[pi.min(pattern.len())..].iter().all(|&c| c == '%')
}

fn eval(e: &Expr, qs: &Queryables<'_>, i: usize) -> Option<bool> {
    match e {
        Expr::Const(b) => Some(*b),
        Expr::And(list) => {
            let mut result = Some(true);
            for x in list {
                match eval(x, qs, i) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Expr::Or(list) => {
            let mut result = Some(false);
            for x in list {
                match eval(x, qs, i) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Expr::Not(x) => not3(eval(x, qs, i)),
        Expr::Compare(a, op, b) => compare(operand(a, qs, i), *op, operand(b, qs, i)),
        Expr::Like {
            operand: o,
            pattern,
            negated,
        } => {
            let r = match operand(o, qs, i) {
                Val::Str(s) => Some(like(s, pattern)),
                _ => None,
            };
            if *negated { not3(r) } else { r }
        }
        Expr::Between {
            operand: o,
            low,
            high,
            negated,
        } => {
            let v = operand(o, qs, i);
            let r = match (
                compare(v, Cmp::Ge, operand(low, qs, i)),
                compare(v, Cmp::Le, operand(high, qs, i)),
            ) {
                (Some(a), Some(b)) => Some(a && b),
                _ => None,
            };
            if *negated { not3(r) } else { r }
        }
        Expr::In {
            operand: o,
            list,
            negated,
        } => {
            let v = operand(o, qs, i);
            let mut r = Some(false);
            for x in list {
                match compare(v, Cmp::Eq, operand(x, qs, i)) {
                    Some(true) => {
                        r = Some(true);
                        break;
                    }
                    None => r = None,
                    Some(false) => {}
                }
            }
            if *negated { not3(r) } else { r }
        }
        Expr::IsNull {
            operand: o,
            negated,
        } => Some((operand(o, qs, i) == Val::Null) != *negated),
        Expr::Intersects(area) => {
            let d = &qs.layer.districts[i].wgs84.0;
            if let (Some(a), Some(b)) = (area.envelope, d.bounding_rect())
                && !a.intersects(&b)
            {
                return Some(false);
            }
            Some(d.intersects(&area.geometry))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CQL2 text

const CQL2_HINT: &str = "CQL2 text (filter-lang=cql2-text): comparisons = <> < <= > >=, AND, OR, \
     NOT, [NOT] LIKE '%pattern_', [NOT] BETWEEN a AND b, [NOT] IN (...), IS [NOT] NULL, TRUE, \
     FALSE and S_INTERSECTS(geometry, BBOX(w,s,e,n) or WKT such as POLYGON((...))); strings in \
     'single quotes', property names as listed at the collection's /queryables, e.g. \
     filter=region_name = 'North East' AND imd_score > 30";

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Open,
    Close,
    Comma,
    Cmp(Cmp),
    Other(String),
}

fn bad(at: usize, msg: impl std::fmt::Display) -> MapError {
    MapError::bad_request(format!("filter, at character {at}: {msg}"), CQL2_HINT)
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, MapError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let after_operand = matches!(
            out.last(),
            Some((Tok::Num(_) | Tok::Str(_) | Tok::Quoted(_) | Tok::Close, _))
        ) || matches!(out.last(), Some((Tok::Word(w), _)) if !is_keyword(w));
        let starts_number = c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            || ((c == '-' || c == '+')
                && !after_operand
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || *n == '.'));
        if starts_number {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || ((chars[i] == 'e' || chars[i] == 'E')
                        && chars
                            .get(i + 1)
                            .is_some_and(|n| n.is_ascii_digit() || *n == '-' || *n == '+'))
                    || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n = s
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| bad(at, format!("{s:?} is not a number")))?;
            out.push((Tok::Num(n), at));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | ':'))
            {
                i += 1;
            }
            out.push((Tok::Word(chars[start..i].iter().collect()), at));
            continue;
        }
        if c == '\'' || c == '"' {
            // '' (or "") inside is the quote itself.
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(bad(
                            at,
                            if c == '\'' {
                                "a string is not closed with '"
                            } else {
                                "a quoted property name is not closed with \""
                            },
                        ));
                    }
                    Some(&q) if q == c => {
                        if chars.get(i + 1) == Some(&c) {
                            s.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&o) => {
                        s.push(o);
                        i += 1;
                    }
                }
            }
            out.push((
                if c == '\'' {
                    Tok::Str(s)
                } else {
                    Tok::Quoted(s)
                },
                at,
            ));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (_, "<>") => (Tok::Cmp(Cmp::Ne), 2),
            (_, "<=") => (Tok::Cmp(Cmp::Le), 2),
            (_, ">=") => (Tok::Cmp(Cmp::Ge), 2),
            (_, "!=") => (Tok::Other("!=".into()), 2),
            (_, "||") => (Tok::Other("||".into()), 2),
            ('=', _) => (Tok::Cmp(Cmp::Eq), 1),
            ('<', _) => (Tok::Cmp(Cmp::Lt), 1),
            ('>', _) => (Tok::Cmp(Cmp::Gt), 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            (',', _) => (Tok::Comma, 1),
            (o, _) => (Tok::Other(o.to_string()), 1),
        };
        out.push((tok, at));
        i += len;
    }
    Ok(out)
}

const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE",
];

fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => w.clone(),
        Tok::Quoted(q) => format!("\"{q}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.to_string(),
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::Comma => ",".into(),
        Tok::Cmp(c) => match c {
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
        .into(),
        Tok::Other(o) => o.clone(),
    }
}

/// A CQL2 text filter read against `qs`, geometry literals in `crs`.
///
/// ```
/// # fn doc(layer: &districts::Layer) -> Result<(), maps::MapError> {
/// use maps::filter::{Queryables, parse_cql2_text};
/// use maps::output_crs::OutputCrs;
/// let qs = Queryables::of(layer);
/// let f = parse_cql2_text("name LIKE 'Hart%' AND S_INTERSECTS(geometry, BBOX(-1.3,54.6,-1.1,54.8))", &qs, OutputCrs::Crs84)?;
/// let hits: Vec<usize> = (0..layer.districts.len()).filter(|&i| f.matches(&qs, i)).collect();
/// assert!(hits.len() <= layer.districts.len());
/// # Ok(()) }
/// ```
pub fn parse_cql2_text(
    text: &str,
    qs: &Queryables<'_>,
    crs: OutputCrs,
) -> Result<Filter, MapError> {
    if text.trim().is_empty() {
        return Err(MapError::bad_request("filter is empty", CQL2_HINT));
    }
    let toks = tokenize(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        qs,
        crs,
        end: text.chars().count() + 1,
    };
    let e = p.or()?;
    if let Some((t, at)) = p.toks.get(p.pos) {
        return Err(bad(
            *at,
            format!("unexpected {:?} after a complete condition", describe(t)),
        ));
    }
    Ok(Filter(e))
}

struct Parser<'q, 'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    qs: &'q Queryables<'a>,
    crs: OutputCrs,
    end: usize,
}

/// Longest edge, in metres, of a geometry literal given in a projected CRS before its vertices
/// are taken to WGS84 (a straight edge in metres is not one in degrees).
const DENSIFY_METRES: f64 = 1000.0;

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, a)| *a)
    }
    fn peek_word(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn eat_word(&mut self, k: &str) -> bool {
        if self.peek_word(k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), MapError> {
        if self.peek() == Some(t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }
    fn unexpected(&self, wanted: &str) -> MapError {
        match self.toks.get(self.pos) {
            Some((t, at)) => bad(*at, format!("expected {wanted}, found {:?}", describe(t))),
            None => bad(self.end, format!("expected {wanted}, but the filter ends")),
        }
    }

    fn or(&mut self) -> Result<Expr, MapError> {
        let mut list = vec![self.and()?];
        while self.eat_word("OR") {
            list.push(self.and()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::Or(list)
        })
    }

    fn and(&mut self) -> Result<Expr, MapError> {
        let mut list = vec![self.factor()?];
        while self.eat_word("AND") {
            list.push(self.factor()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::And(list)
        })
    }

    fn factor(&mut self) -> Result<Expr, MapError> {
        if self.eat_word("NOT") {
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(&Tok::Close, "')'")?;
            return Ok(e);
        }
        // A boolean literal standing alone.
        for (k, v) in [("TRUE", true), ("FALSE", false)] {
            if self.peek_word(k) {
                let next = self.toks.get(self.pos + 1).map(|(t, _)| t);
                let stands_alone = match next {
                    None | Some(Tok::Close) => true,
                    Some(Tok::Word(w)) => {
                        w.eq_ignore_ascii_case("AND") || w.eq_ignore_ascii_case("OR")
                    }
                    _ => false,
                };
                if stands_alone {
                    self.pos += 1;
                    return Ok(Expr::Const(v));
                }
            }
        }
        if let Some(Tok::Word(w)) = self.peek()
            && self.toks.get(self.pos + 1).map(|(t, _)| t) == Some(&Tok::Open)
        {
            let upper = w.to_ascii_uppercase();
            if upper == "S_INTERSECTS" {
                return self.spatial();
            }
            return Err(self.unsupported_function(&upper));
        }
        self.predicate()
    }

    fn unsupported_function(&self, upper: &str) -> MapError {
        let at = self.at();
        let what = if upper.starts_with("S_") {
            format!("the spatial function {upper} is not supported: only S_INTERSECTS")
        } else if upper.starts_with("T_") {
            format!(
                "the temporal function {upper} is not supported: districts have no temporal \
                 properties (use the indicator's period in the property name, e.g. imd_score_2019)"
            )
        } else if upper.starts_with("A_") {
            format!("the array function {upper} is not supported: no property is an array")
        } else if matches!(upper, "DATE" | "TIMESTAMP" | "INTERVAL") {
            format!("temporal literals ({upper}) are not supported")
        } else if matches!(upper, "CASEI" | "ACCENTI") {
            format!(
                "{upper} (case- and accent-insensitive comparison) is not supported; compare \
                 exactly or with LIKE"
            )
        } else {
            format!("the function {upper} is not supported")
        };
        bad(at, what)
    }

    fn spatial(&mut self) -> Result<Expr, MapError> {
        self.pos += 2; // S_INTERSECTS (
        let first_at = self.at();
        let a = self.spatial_arg()?;
        self.expect(&Tok::Comma, "',' between the two arguments of S_INTERSECTS")?;
        let b = self.spatial_arg()?;
        self.expect(&Tok::Close, "')' closing S_INTERSECTS")?;
        match (a, b) {
            (None, Some(g)) | (Some(g), None) => Ok(Expr::Intersects(Box::new(Area::new(g)))),
            _ => Err(bad(
                first_at,
                format!(
                    "S_INTERSECTS needs the property {GEOMETRY} on one side and a geometry \
                     literal (BBOX or WKT) on the other"
                ),
            )),
        }
    }

    /// `None` for the geometry property, else a literal taken to WGS84.
    fn spatial_arg(&mut self) -> Result<Option<Geometry<f64>>, MapError> {
        let at = self.at();
        match self.peek().cloned() {
            Some(Tok::Word(w) | Tok::Quoted(w)) if w.eq_ignore_ascii_case(GEOMETRY) => {
                self.pos += 1;
                Ok(None)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                self.geometry_literal(&w.to_ascii_uppercase(), at).map(Some)
            }
            _ => Err(self.unexpected("the property geometry or a geometry literal")),
        }
    }

    fn number(&mut self) -> Result<f64, MapError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.unexpected("a number")),
        }
    }

    /// `x y` (a third number, z, is read and dropped).
    fn position(&mut self) -> Result<Coord<f64>, MapError> {
        let x = self.number()?;
        let y = self.number()?;
        if matches!(self.peek(), Some(Tok::Num(_))) {
            self.pos += 1;
        }
        Ok(Coord { x, y })
    }

    /// `( x y, x y, ... )`.
    fn positions(&mut self) -> Result<Vec<Coord<f64>>, MapError> {
        self.expect(&Tok::Open, "'('")?;
        let mut v = vec![self.position()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            v.push(self.position()?);
        }
        self.expect(&Tok::Close, "')'")?;
        Ok(v)
    }

    /// `( item, item, ... )` of a sub-parser.
    fn list_of<T>(
        &mut self,
        item: &mut dyn FnMut(&mut Self) -> Result<T, MapError>,
    ) -> Result<Vec<T>, MapError> {
        self.expect(&Tok::Open, "'('")?;
        let mut v = vec![item(self)?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            v.push(item(self)?);
        }
        self.expect(&Tok::Close, "')'")?;
        Ok(v)
    }

    fn polygon(&mut self) -> Result<Polygon<f64>, MapError> {
        let at = self.at();
        let rings = self.list_of(&mut |p| p.positions())?;
        let mut rings = rings.into_iter().map(LineString);
        let exterior = rings
            .next()
            .ok_or_else(|| bad(at, "a polygon needs a ring"))?;
        if exterior.0.len() < 4 || exterior.0.first() != exterior.0.last() {
            return Err(bad(
                at,
                "a polygon ring needs at least 4 positions, the last equal to the first",
            ));
        }
        Ok(Polygon::new(exterior, rings.collect()))
    }

    /// A geometry literal in `filter-crs`, taken to WGS84.
    fn geometry_literal(&mut self, kind: &str, at: usize) -> Result<Geometry<f64>, MapError> {
        if kind == "BBOX" {
            let at = self.at();
            let v = self.list_of(&mut |p| p.number())?;
            let b: [f64; 4] = match v.as_slice() {
                [w, s, e, n] | [w, s, _, e, n, _] => [*w, *s, *e, *n],
                _ => return Err(bad(at, "BBOX takes 4 numbers (or 6 with heights)")),
            };
            return bbox_area(b, self.crs);
        }
        let g = self.wkt(kind, at)?;
        to_wgs84(g, self.crs)
    }

    /// A WKT geometry as written (no conversion).
    fn wkt(&mut self, kind: &str, at: usize) -> Result<Geometry<f64>, MapError> {
        Ok(match kind {
            "POINT" => Geometry::Point(Point(self.positions().and_then(|v| {
                if v.len() == 1 {
                    Ok(v[0])
                } else {
                    Err(bad(at, "POINT takes one position"))
                }
            })?)),
            "MULTIPOINT" => {
                // MULTIPOINT((1 2),(3 4)) or MULTIPOINT(1 2, 3 4).
                let points = self.list_of(&mut |p| {
                    if p.peek() == Some(&Tok::Open) {
                        p.pos += 1;
                        let c = p.position()?;
                        p.expect(&Tok::Close, "')'")?;
                        Ok(c)
                    } else {
                        p.position()
                    }
                })?;
                Geometry::MultiPoint(MultiPoint(points.into_iter().map(Point).collect()))
            }
            "LINESTRING" => Geometry::LineString(LineString(self.positions()?)),
            "MULTILINESTRING" => Geometry::MultiLineString(MultiLineString(
                self.list_of(&mut |p| p.positions().map(LineString))?,
            )),
            "POLYGON" => Geometry::Polygon(self.polygon()?),
            "MULTIPOLYGON" => {
                Geometry::MultiPolygon(MultiPolygon(self.list_of(&mut |p| p.polygon())?))
            }
            "GEOMETRYCOLLECTION" => {
                let parts = self.list_of(&mut |p| {
                    let at = p.at();
                    match p.peek().cloned() {
                        Some(Tok::Word(w)) => {
                            p.pos += 1;
                            p.wkt(&w.to_ascii_uppercase(), at)
                        }
                        _ => Err(p.unexpected("a WKT geometry")),
                    }
                })?;
                Geometry::GeometryCollection(GeometryCollection(parts))
            }
            other => {
                return Err(bad(
                    at,
                    format!(
                        "{other:?} is not a geometry literal: use BBOX(...), POINT, MULTIPOINT, \
                         LINESTRING, MULTILINESTRING, POLYGON, MULTIPOLYGON or GEOMETRYCOLLECTION"
                    ),
                ));
            }
        })
    }

    fn predicate(&mut self) -> Result<Expr, MapError> {
        let at = self.at();
        let left = self.scalar()?;
        let negated = self.eat_word("NOT");
        if self.eat_word("LIKE") {
            self.expect_kind(&left, Type::String, "LIKE", at)?;
            let pattern = match self.peek().cloned() {
                Some(Tok::Str(s)) => {
                    self.pos += 1;
                    s.chars().collect()
                }
                _ => return Err(self.unexpected("a 'quoted' pattern after LIKE")),
            };
            return Ok(Expr::Like {
                operand: left,
                pattern,
                negated,
            });
        }
        if self.eat_word("BETWEEN") {
            let low = self.scalar()?;
            if !self.eat_word("AND") {
                return Err(self.unexpected("AND in BETWEEN ... AND ..."));
            }
            let high = self.scalar()?;
            for o in [&left, &low, &high] {
                self.expect_kind(o, Type::Number, "BETWEEN", at)?;
            }
            return Ok(Expr::Between {
                operand: left,
                low,
                high,
                negated,
            });
        }
        if self.eat_word("IN") {
            let list = self.list_of(&mut |p| p.scalar())?;
            for o in &list {
                self.same_kind(&left, o, "IN", at)?;
            }
            return Ok(Expr::In {
                operand: left,
                list,
                negated,
            });
        }
        if negated {
            return Err(self.unexpected("LIKE, BETWEEN or IN after NOT"));
        }
        if self.eat_word("IS") {
            let negated = self.eat_word("NOT");
            if !self.eat_word("NULL") {
                return Err(self.unexpected("NULL after IS"));
            }
            return Ok(Expr::IsNull {
                operand: left,
                negated,
            });
        }
        let op = match self.peek() {
            Some(Tok::Cmp(c)) => *c,
            Some(Tok::Other(o)) if matches!(o.as_str(), "+" | "-" | "*" | "/" | "%" | "^") => {
                return Err(bad(self.at(), format!("arithmetic ({o}) is not supported")));
            }
            Some(Tok::Other(o)) if o == "!=" => {
                return Err(bad(self.at(), "!= is not CQL2: use <>"));
            }
            _ => {
                return Err(
                    self.unexpected("a comparison (= <> < <= > >=), LIKE, BETWEEN, IN or IS NULL")
                );
            }
        };
        self.pos += 1;
        let right = self.scalar()?;
        self.same_kind(&left, &right, "a comparison", at)?;
        Ok(Expr::Compare(left, op, right))
    }

    fn scalar(&mut self) -> Result<Operand, MapError> {
        let at = self.at();
        let o = match self.peek().cloned() {
            Some(Tok::Num(n)) => Operand::Lit(Lit::Num(n)),
            Some(Tok::Str(s)) => Operand::Lit(Lit::Str(s)),
            Some(Tok::Quoted(name)) => self.property(&name, at)?,
            Some(Tok::Word(w)) => {
                if self.toks.get(self.pos + 1).map(|(t, _)| t) == Some(&Tok::Open) {
                    return Err(self.unsupported_function(&w.to_ascii_uppercase()));
                }
                if w.eq_ignore_ascii_case("TRUE") {
                    Operand::Lit(Lit::Bool(true))
                } else if w.eq_ignore_ascii_case("FALSE") {
                    Operand::Lit(Lit::Bool(false))
                } else if is_keyword(&w) {
                    return Err(self.unexpected("a property name or a value"));
                } else {
                    self.property(&w, at)?
                }
            }
            _ => return Err(self.unexpected("a property name or a value")),
        };
        self.pos += 1;
        Ok(o)
    }

    fn property(&self, name: &str, at: usize) -> Result<Operand, MapError> {
        if name.eq_ignore_ascii_case(GEOMETRY) {
            return Err(bad(
                at,
                "the geometry can only be tested with S_INTERSECTS(geometry, ...)",
            ));
        }
        self.qs.find(name).map(Operand::Prop).ok_or_else(|| {
            let e = self.qs.unknown("filter", name);
            MapError::bad_request(
                format!("{} (at character {at})", e.message()),
                e.hint().unwrap_or_default().to_string(),
            )
        })
    }

    fn kind_of(&self, o: &Operand) -> Option<Type> {
        match o {
            Operand::Prop(q) => Some(self.qs.list[*q].kind),
            Operand::Lit(Lit::Num(_)) => Some(Type::Number),
            Operand::Lit(Lit::Str(_)) => Some(Type::String),
            Operand::Lit(Lit::Bool(_)) => None,
        }
    }

    fn name_of(&self, o: &Operand) -> String {
        match o {
            Operand::Prop(q) => self.qs.list[*q].name.clone(),
            Operand::Lit(Lit::Num(n)) => n.to_string(),
            Operand::Lit(Lit::Str(s)) => format!("'{s}'"),
            Operand::Lit(Lit::Bool(b)) => b.to_string().to_ascii_uppercase(),
        }
    }

    fn describe_kind(&self, o: &Operand) -> &'static str {
        self.kind_of(o).map_or("a boolean", Type::name)
    }

    fn expect_kind(&self, o: &Operand, want: Type, what: &str, at: usize) -> Result<(), MapError> {
        if self.kind_of(o) == Some(want) {
            Ok(())
        } else {
            Err(bad(
                at,
                format!(
                    "{what} needs {}, but {} is {}",
                    want.name(),
                    self.name_of(o),
                    self.describe_kind(o)
                ),
            ))
        }
    }

    fn same_kind(&self, a: &Operand, b: &Operand, what: &str, at: usize) -> Result<(), MapError> {
        if self.kind_of(a) == self.kind_of(b) {
            Ok(())
        } else {
            Err(bad(
                at,
                format!(
                    "{what} of {} ({}) with {} ({}): the types differ",
                    self.name_of(a),
                    self.describe_kind(a),
                    self.name_of(b),
                    self.describe_kind(b)
                ),
            ))
        }
    }
}

/// Splits every segment of a line longer than `max` into equal parts.
fn densify(line: &[Coord<f64>], max: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::with_capacity(line.len());
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        out.push(a);
        let len = (b.x - a.x).hypot(b.y - a.y);
        let parts = (len / max).ceil();
        if parts > 1.0 && parts < 10_000.0 {
            // Whole and small: `parts` is at most 10,000.
            let n = parts as usize;
            for k in 1..n {
                let t = k as f64 / parts;
                out.push(Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                });
            }
        }
    }
    if let Some(last) = line.last() {
        out.push(*last);
    }
    out
}

/// A geometry literal given in `crs` (its axis order), taken to WGS84 longitude/latitude; the
/// edges of one in metres are densified first so they stay (nearly) straight in metres.
fn to_wgs84(g: Geometry<f64>, crs: OutputCrs) -> Result<Geometry<f64>, MapError> {
    if crs == OutputCrs::Crs84 {
        // Still range-checked.
        let mut err = None;
        for c in g.coords_iter() {
            if let Err(e) = crs.to_wgs84(c.x, c.y) {
                err = Some(e);
                break;
            }
        }
        return match err {
            Some(e) => Err(e),
            None => Ok(g),
        };
    }
    let line = |l: &LineString<f64>| -> Result<LineString<f64>, MapError> {
        let pts = if crs.is_geographic() {
            l.0.clone()
        } else {
            densify(&l.0, DENSIFY_METRES)
        };
        pts.into_iter()
            .map(|c| crs.to_wgs84(c.x, c.y).map(|(x, y)| Coord { x, y }))
            .collect::<Result<Vec<_>, _>>()
            .map(LineString)
    };
    let point = |p: &Point<f64>| crs.to_wgs84(p.x(), p.y()).map(|(x, y)| Point::new(x, y));
    let polygon = |p: &Polygon<f64>| -> Result<Polygon<f64>, MapError> {
        Ok(Polygon::new(
            line(p.exterior())?,
            p.interiors().iter().map(line).collect::<Result<_, _>>()?,
        ))
    };
    Ok(match &g {
        Geometry::Point(p) => Geometry::Point(point(p)?),
        Geometry::MultiPoint(m) => {
            Geometry::MultiPoint(MultiPoint(m.0.iter().map(point).collect::<Result<_, _>>()?))
        }
        Geometry::LineString(l) => Geometry::LineString(line(l)?),
        Geometry::MultiLineString(m) => Geometry::MultiLineString(MultiLineString(
            m.0.iter().map(line).collect::<Result<_, _>>()?,
        )),
        Geometry::Polygon(p) => Geometry::Polygon(polygon(p)?),
        Geometry::MultiPolygon(m) => Geometry::MultiPolygon(MultiPolygon(
            m.0.iter().map(polygon).collect::<Result<_, _>>()?,
        )),
        Geometry::GeometryCollection(c) => Geometry::GeometryCollection(GeometryCollection(
            c.0.iter()
                .map(|g| to_wgs84(g.clone(), crs))
                .collect::<Result<_, _>>()?,
        )),
        Geometry::Rect(r) => return to_wgs84(Geometry::Polygon(r.to_polygon()), crs),
        Geometry::Line(l) => {
            return to_wgs84(Geometry::LineString(LineString(vec![l.start, l.end])), crs);
        }
        Geometry::Triangle(t) => return to_wgs84(Geometry::Polygon(t.to_polygon()), crs),
    })
}

/// The area of a `bbox=` (or CQL2 `BBOX`) given in `crs`, in WGS84: `[min x, min y, max x, max
/// y]` in the CRS's axis order (for EPSG:4326 `minLat,minLon,maxLat,maxLon`). A box in metres
/// becomes the polygon of its (densified) outline.
///
/// ```
/// use maps::filter::bbox_area;
/// use maps::output_crs::OutputCrs;
/// use geo::BoundingRect;
/// let g = bbox_area([54.6, -1.3, 54.8, -1.1], OutputCrs::Epsg4326).unwrap();
/// let r = g.bounding_rect().unwrap();
/// assert_eq!((r.min().x, r.min().y, r.max().x, r.max().y), (-1.3, 54.6, -1.1, 54.8));
/// assert!(bbox_area([450_000.0, 520_000.0, 440_000.0, 530_000.0], OutputCrs::Bng27700).is_err());
/// ```
pub fn bbox_area(b: [f64; 4], crs: OutputCrs) -> Result<Geometry<f64>, MapError> {
    let [x0, y0, x1, y1] = b;
    if !b.iter().all(|v| v.is_finite()) || x0 > x1 || y0 > y1 {
        return Err(MapError::bad_request(
            format!(
                "bbox {b:?} in {} has min greater than max",
                crs.short_name()
            ),
            "bbox=minX,minY,maxX,maxY in the axis order of bbox-crs (CRS84: lon,lat; \
             EPSG:4326: lat,lon; EPSG:27700: easting,northing)",
        ));
    }
    if crs.is_geographic() {
        let (a, bb) = (crs.to_wgs84(x0, y0)?, crs.to_wgs84(x1, y1)?);
        return Ok(Geometry::Rect(Rect::new(
            Coord { x: a.0, y: a.1 },
            Coord { x: bb.0, y: bb.1 },
        )));
    }
    let rect = Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
    to_wgs84(Geometry::Polygon(rect.to_polygon()), crs)
}

/// A filter from a `property=value` query option: equality, the value read as the property's
/// type (a number for indicators).
pub fn property_equals(qs: &Queryables<'_>, name: &str, value: &str) -> Result<Filter, MapError> {
    let q = qs
        .find(name)
        .ok_or_else(|| qs.unknown("property filter", name))?;
    let lit = match qs.list[q].kind {
        Type::String => Lit::Str(value.to_string()),
        Type::Number => Lit::Num(
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    MapError::bad_request(
                        format!("{name}={value:?}: {name} is a number"),
                        format!(
                            "e.g. {name}=25.5, or filter={name} > 25 for a range (filter-lang=cql2-text)"
                        ),
                    )
                })?,
        ),
    };
    Ok(Filter(Expr::Compare(
        Operand::Prop(q),
        Cmp::Eq,
        Operand::Lit(lit),
    )))
}

/// One key of `sortby=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    queryable: usize,
    descending: bool,
}

/// `sortby=+name,-imd_score`: queryables, `+` (or none) ascending, `-` descending.
pub fn parse_sortby(raw: &str, qs: &Queryables<'_>) -> Result<Vec<SortKey>, MapError> {
    let mut keys = Vec::new();
    for part in raw.split(',') {
        // A `+` in a URL arrives as a space.
        let p = part.trim();
        let (name, descending) = match p.strip_prefix('-') {
            Some(n) => (n, true),
            None => (p.strip_prefix('+').unwrap_or(p), false),
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(MapError::bad_request(
                format!("sortby={raw:?} has an empty key"),
                "sortby=name or sortby=-imd_score,+name (comma-separated queryables, - for descending)",
            ));
        }
        let queryable = qs.find(name).ok_or_else(|| qs.unknown("sortby", name))?;
        keys.push(SortKey {
            queryable,
            descending,
        });
    }
    Ok(keys)
}

/// Orders districts by `keys` (missing values last either way), stably.
pub fn sort(qs: &Queryables<'_>, districts: &mut [usize], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    districts.sort_by(|&a, &b| {
        for k in keys {
            let (va, vb) = (qs.value(k.queryable, a), qs.value(k.queryable, b));
            let o = match (va, vb) {
                (Val::Null, Val::Null) => Ordering::Equal,
                (Val::Null, _) => Ordering::Greater,
                (_, Val::Null) => Ordering::Less,
                (Val::Num(x), Val::Num(y)) => {
                    let o = x.total_cmp(&y);
                    if k.descending { o.reverse() } else { o }
                }
                _ => {
                    let o = order(va, vb).unwrap_or(Ordering::Equal);
                    if k.descending { o.reverse() } else { o }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

/// The districts among `candidates` that `filter` selects, ordered by `keys`.
pub fn select(
    qs: &Queryables<'_>,
    candidates: Vec<usize>,
    filter: Option<&Filter>,
    keys: &[SortKey],
) -> Vec<usize> {
    let mut chosen: Vec<usize> = match filter {
        Some(f) => candidates
            .into_iter()
            .filter(|&i| f.matches(qs, i))
            .collect(),
        None => candidates,
    };
    sort(qs, &mut chosen, keys);
    chosen
}

/// The property names a feature response can carry with these indicators and periods: code,
/// name, attributes, indicator keys and their `_no_data_reason` companions.
pub fn property_names(layer: &Layer, inds: &[&Indicator], periods: &Periods) -> Vec<String> {
    let mut names = vec!["code".to_string(), "name".to_string()];
    names.extend(attribute_names(layer));
    for ind in inds {
        let keys: Vec<String> = crate::export::chosen_periods(ind, periods)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        for k in keys {
            names.push(format!("{k}_no_data_reason"));
            names.push(k);
        }
    }
    names
}

/// `properties=` checked against the names a response can carry ([`property_names`]).
pub fn parse_properties(raw: &str, allowed: &[String]) -> Result<Vec<String>, MapError> {
    let chosen = crate::options::parse_list(raw);
    for c in &chosen {
        if !allowed.contains(c) {
            let shown: Vec<&str> = allowed
                .iter()
                .filter(|a| !a.ends_with("_no_data_reason"))
                .take(40)
                .map(String::as_str)
                .collect();
            return Err(MapError::bad_request(
                format!("properties: {c:?} is not a property of these features"),
                format!(
                    "properties=code,name,... from: {} (with indicators= and periods= deciding which indicator keys exist)",
                    shown.join(", ")
                ),
            ));
        }
    }
    Ok(chosen)
}

/// The days a period label covers, `[start, end)` as `YYYYMMDD` numbers: `2021` is the calendar
/// year; `2020/21` an academic or financial year, taken as September to August (the labels do
/// not say which); `2018-20` the calendar years 2018 to 2020. `None` for other labels.
///
/// ```
/// use maps::filter::period_span;
/// assert_eq!(period_span("2021"), Some((2021_01_01, 2022_01_01)));
/// assert_eq!(period_span("2020/21"), Some((2020_09_01, 2021_09_01)));
/// assert_eq!(period_span("1999/00"), Some((1999_09_01, 2000_09_01)));
/// assert_eq!(period_span("2018-20"), Some((2018_01_01, 2021_01_01)));
/// assert_eq!(period_span("Q1"), None);
/// ```
pub fn period_span(label: &str) -> Option<(u32, u32)> {
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty();
    let year = |t: &str| -> Option<u32> { (t.len() == 4 && digits(t)).then(|| t.parse().ok())? };
    if let Some(y) = year(label) {
        return Some((y * 10_000 + 101, (y + 1) * 10_000 + 101));
    }
    let (a, rest) = label.split_at_checked(4)?;
    let y = year(a)?;
    let (sep, two) = (rest.get(..1)?, rest.get(1..)?);
    if two.len() != 2 || !digits(two) {
        return None;
    }
    let yy: u32 = two.parse().ok()?;
    let mut end = y - y % 100 + yy;
    if end < y {
        end += 100;
    }
    match sep {
        "/" if end == y + 1 => Some((y * 10_000 + 901, end * 10_000 + 901)),
        "-" if end > y => Some((y * 10_000 + 101, (end + 1) * 10_000 + 101)),
        _ => None,
    }
}

/// The days of an OGC `datetime` (an RFC 3339 instant, or an interval with `..` or empty for
/// an open end), as an inclusive `YYYYMMDD` range; the time of day is not looked at.
pub fn datetime_span(raw: &str) -> Result<(u32, u32), MapError> {
    let bad = || {
        MapError::bad_request(
            format!("datetime={raw:?} is not an RFC 3339 instant or interval"),
            "e.g. datetime=2019-09-26T00:00:00Z or datetime=2019-01-01T00:00:00Z/..",
        )
    };
    let day = |s: &str| -> Result<Option<u32>, MapError> {
        if s.is_empty() || s == ".." {
            return Ok(None);
        }
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
        match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d))
                if b.len() >= 10
                    && b[4] == b'-'
                    && b[7] == b'-'
                    && (1..=12).contains(&m)
                    && (1..=31).contains(&d)
                    && (b.len() == 10 || b[10] == b'T' || b[10] == b't') =>
            {
                Ok(Some(y * 10_000 + m * 100 + d))
            }
            _ => Err(bad()),
        }
    };
    let parts: Vec<&str> = raw.split('/').collect();
    let (a, b) = match parts.as_slice() {
        [one] => {
            let d = day(one)?.ok_or_else(bad)?;
            (Some(d), Some(d))
        }
        [a, b] => (day(a)?, day(b)?),
        _ => return Err(bad()),
    };
    match (a, b) {
        (None, None) => Err(bad()),
        (Some(a), Some(b)) if a > b => Err(MapError::bad_request(
            format!("datetime={raw:?} ends before it starts"),
            "datetime=START/END with START before END",
        )),
        (a, b) => Ok((a.unwrap_or(0), b.unwrap_or(u32::MAX))),
    }
}

/// For `datetime=`: the period of each indicator that the instant or interval `span` falls in
/// or meets (the latest when it meets several); indicators with none are left out, and it is a
/// 400 listing the periods when no indicator has one.
pub fn periods_at<'i>(
    inds: &[&'i Indicator],
    span: (u32, u32),
    raw: &str,
) -> Result<Vec<(&'i Indicator, usize)>, MapError> {
    let chosen: Vec<(&Indicator, usize)> = inds
        .iter()
        .filter_map(|ind| {
            ind.periods
                .iter()
                .rposition(|p| {
                    period_span(&p.label).is_some_and(|(s, e)| s <= span.1 && span.0 < e)
                })
                .map(|k| (*ind, k))
        })
        .collect();
    if chosen.is_empty() && !inds.is_empty() {
        let mut labels: Vec<&str> = inds
            .iter()
            .flat_map(|i| i.periods.iter().map(|p| p.label.as_str()))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        return Err(MapError::bad_request(
            format!("datetime={raw:?} falls in no period of the chosen indicators"),
            format!(
                "periods (2020/21 is September to August): {}",
                labels.join(", ")
            ),
        ));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let p = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(like("Hartlepool", &p("Hart%")));
        assert!(like("Hartlepool", &p("%pool")));
        assert!(like("Hartlepool", &p("H_rt%l")));
        assert!(!like("Hartlepool", &p("hart%")));
        assert!(like("50%", &p("50\\%")));
        assert!(!like("500", &p("50\\%")));
        assert!(like("", &p("%")));
        assert!(like("abcabc", &p("%a%c")));
        assert!(!like("abcab", &p("%a%c")));
    }

    #[test]
    fn tokens_and_signs() {
        let t = tokenize("x >= -1.5e2 AND y<>'it''s'").expect("tokens");
        let kinds: Vec<Tok> = t.into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Word("x".into()),
                Tok::Cmp(Cmp::Ge),
                Tok::Num(-150.0),
                Tok::Word("AND".into()),
                Tok::Word("y".into()),
                Tok::Cmp(Cmp::Ne),
                Tok::Str("it's".into()),
            ]
        );
        // After an operand a minus is arithmetic, not a sign.
        let t = tokenize("a -1").expect("tokens");
        assert_eq!(t[1].0, Tok::Other("-".into()));
        assert!(tokenize("name = 'open").is_err());
    }

    #[test]
    fn datetime_spans() {
        assert_eq!(
            datetime_span("2019-09-26T00:00:00Z").ok(),
            Some((20190926, 20190926))
        );
        assert_eq!(
            datetime_span("2019-01-01/..").ok(),
            Some((20190101, u32::MAX))
        );
        assert_eq!(datetime_span("../2019-01-01").ok(), Some((0, 20190101)));
        for bad in [
            "",
            "..",
            "../..",
            "2020-01-01/2019-01-01",
            "2019-13-01",
            "x/y",
            "a/b/c",
        ] {
            assert!(datetime_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn densify_keeps_ends_and_splits_long_edges() {
        let line = [Coord { x: 0.0, y: 0.0 }, Coord { x: 2500.0, y: 0.0 }];
        let d = densify(&line, 1000.0);
        assert_eq!(d.len(), 4);
        assert_eq!(d[0], line[0]);
        assert_eq!(d[3], line[1]);
    }
}
