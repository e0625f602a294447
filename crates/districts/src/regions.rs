//! Which English region (and which nation) each district is in, so `region=` means the same on
//! every layer: from the layer's own `region_name` attribute, else the catalogue's lookups
//! (any lookup with a `RGN..NM` column, keyed by LSOA, MSOA or LAD code), else by location (the
//! region of the reference layer's district containing the district's interior point). Nations
//! come from the first letter of the GSS code (E, W, S, N).

use std::collections::HashMap;

use geo::InteriorPoint;

use crate::codes::normalise_code;
use crate::indicators::LookupTable;
use crate::model::District;

/// The four nations by the first letter of a GSS code.
pub const NATIONS: [(char, &str); 4] = [
    ('E', "England"),
    ('W', "Wales"),
    ('S', "Scotland"),
    ('N', "Northern Ireland"),
];

/// The nation of a GSS code, from its first letter (`E06000001` -> England).
///
/// ```
/// assert_eq!(districts::regions::nation_of("s12000033"), Some("Scotland"));
/// assert_eq!(districts::regions::nation_of("K02000001"), None);
/// ```
pub fn nation_of(code: &str) -> Option<&'static str> {
    let first = code.trim().chars().next()?.to_ascii_uppercase();
    NATIONS.iter().find(|(c, _)| *c == first).map(|(_, n)| *n)
}

/// The nation `query` names (by name or slug, any case).
fn nation_named(query: &str) -> Option<&'static str> {
    let q = slug(query);
    NATIONS.iter().find(|(_, n)| slug(n) == q).map(|(_, n)| *n)
}

/// A name as a URL slug: lower case, every run of other characters one `-`.
///
/// ```
/// assert_eq!(districts::regions::slug("Yorkshire and The Humber"), "yorkshire-and-the-humber");
/// assert_eq!(districts::regions::slug(" North  East "), "north-east");
/// ```
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A region name not known on a layer, with the names that are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown region {query:?} on layer {layer}")]
pub struct UnknownRegion {
    /// What was asked.
    pub query: String,
    /// The layer asked.
    pub layer: String,
    /// Valid names with their slugs, regions first, then nations.
    pub valid: Vec<String>,
}

impl UnknownRegion {
    /// "valid regions: North East (north-east), ..., England (england)".
    pub fn hint(&self) -> String {
        format!(
            "valid regions (name or slug, any case): {}",
            self.valid.join(", ")
        )
    }
}

/// The region of every district of one layer, aligned with its districts.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    /// Index into `names` per district; `None` outside England and Wales or where unknown.
    of: Vec<Option<u16>>,
    /// Region names, canonical (the lookups' spelling where they know the region).
    names: Vec<String>,
    /// Other spellings (e.g. `East` for `East of England`), as (alias, canonical).
    aliases: Vec<(String, String)>,
    /// Districts placed by location: (code, name, region, reference district).
    pub by_location: Vec<(String, String, String, String)>,
}

impl Regions {
    /// Regions from one label per district (e.g. the `region_name` attribute).
    pub fn from_labels(labels: &[Option<&str>]) -> Regions {
        let mut r = Regions::default();
        let of = labels.iter().map(|l| l.and_then(|l| r.intern(l))).collect();
        r.of = of;
        r
    }

    /// Regions from the districts' own `region_name` attribute (none when they lack it).
    pub fn from_attribute(districts: &[District]) -> Regions {
        let labels: Vec<Option<&str>> = districts.iter().map(region_attribute).collect();
        Regions::from_labels(&labels)
    }

    fn intern(&mut self, name: &str) -> Option<u16> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return u16::try_from(i).ok();
        }
        self.names.push(name.to_string());
        u16::try_from(self.names.len() - 1).ok()
    }

    /// The region of district `i` (an English region, or `Wales`), if known.
    pub fn region(&self, i: usize) -> Option<&str> {
        self.of
            .get(i)
            .copied()
            .flatten()
            .and_then(|k| self.names.get(usize::from(k)))
            .map(String::as_str)
    }

    /// The region of district `i`, else its nation (Scotland and Northern Ireland have no
    /// English-style regions): the label `group_by=region` uses.
    pub fn region_or_nation<'a>(&'a self, i: usize, code: &str) -> Option<&'a str> {
        self.region(i).or_else(|| nation_of(code))
    }

    /// Whether every English district has a region.
    pub fn is_complete(&self, districts: &[District]) -> bool {
        districts
            .iter()
            .enumerate()
            .all(|(i, d)| nation_of(&d.code) != Some("England") || self.region(i).is_some())
    }

    /// Every name `region=` takes on this layer, with its slug: the regions present, then the
    /// nations present.
    pub fn choices(&self, districts: &[District]) -> Vec<String> {
        self.names_present(districts)
            .iter()
            .map(|r| format!("{r} ({})", slug(r)))
            .collect()
    }

    /// The regions present on this layer (sorted), then the nations present that are not
    /// regions themselves: every name `region=` takes.
    pub fn names_present(&self, districts: &[District]) -> Vec<String> {
        let mut regions: Vec<&str> = (0..districts.len())
            .filter_map(|i| self.region(i))
            .collect();
        regions.sort_unstable();
        regions.dedup();
        let mut out: Vec<String> = regions.iter().map(|r| (*r).to_string()).collect();
        for (_, nation) in NATIONS {
            if !regions.contains(&nation)
                && districts.iter().any(|d| nation_of(&d.code) == Some(nation))
            {
                out.push(nation.to_string());
            }
        }
        out
    }

    /// The name of the region or nation `query` names (by name, alias or slug in any case), as
    /// the data write it: `north-east` gives `North East`. `None` when it names none.
    ///
    /// ```
    /// use districts::regions::Regions;
    /// let r = Regions::from_labels(&[Some("North East")]);
    /// assert_eq!(r.name_of("NORTH-EAST").as_deref(), Some("North East"));
    /// assert_eq!(r.name_of("scotland").as_deref(), Some("Scotland"));
    /// assert_eq!(r.name_of("Atlantis"), None);
    /// ```
    pub fn name_of(&self, query: &str) -> Option<String> {
        self.position(query)
            .and_then(|k| self.names.get(k).cloned())
            .or_else(|| nation_named(query).map(str::to_string))
    }

    /// Index in `names` of the region `query` names (by name, slug or alias, any case).
    fn position(&self, query: &str) -> Option<usize> {
        let q = slug(query);
        let canonical = self
            .aliases
            .iter()
            .find(|(a, _)| slug(a) == q)
            .map(|(_, c)| c.as_str());
        self.names
            .iter()
            .position(|n| slug(n) == q || Some(n.as_str()) == canonical)
    }

    /// Which districts are in `query`: a region or a nation, by name or slug in any case
    /// (`North East`, `north-east`, `NORTH EAST`, `scotland`).
    ///
    /// ```
    /// use districts::regions::Regions;
    /// let r = Regions::from_labels(&[Some("North East"), Some("London"), None]);
    /// let empty = geo_types::MultiPolygon::<f64>(vec![]);
    /// let ds = ["E06000001", "E09000001", "S12000033"].map(|c| districts::District {
    ///     code: c.into(), name: c.into(), wgs84: districts::Wgs84(empty.clone()),
    ///     mercator: districts::Mercator(empty.clone()), attributes: vec![],
    /// });
    /// assert_eq!(r.select(&ds, "north-east", "lad19").unwrap(), vec![true, false, false]);
    /// assert_eq!(r.select(&ds, "Scotland", "lad19").unwrap(), vec![false, false, true]);
    /// assert_eq!(r.select(&ds, "ENGLAND", "lad19").unwrap(), vec![true, true, false]);
    /// assert!(r.select(&ds, "Wales", "lad19").is_err());
    /// ```
    pub fn select(
        &self,
        districts: &[District],
        query: &str,
        layer: &str,
    ) -> Result<Vec<bool>, UnknownRegion> {
        let chosen: Vec<bool> = match self.position(query) {
            Some(k) => {
                let k = u16::try_from(k).ok();
                self.of.iter().map(|r| r.is_some() && *r == k).collect()
            }
            None => match nation_named(query) {
                Some(nation) => districts
                    .iter()
                    .map(|d| nation_of(&d.code) == Some(nation))
                    .collect(),
                None => Vec::new(),
            },
        };
        if chosen.iter().any(|c| *c) {
            return Ok(chosen);
        }
        Err(UnknownRegion {
            query: query.to_string(),
            layer: layer.to_string(),
            valid: self.choices(districts),
        })
    }
}

fn region_attribute(d: &District) -> Option<&str> {
    d.attributes
        .iter()
        .find(|(k, _)| k == "region_name")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// District codes (LSOA, MSOA, LAD...) to region names, from every lookup table with a
/// `RGN..NM` column: each row's key and each other `..CD` code column name the row's region.
#[derive(Clone, Debug, Default)]
pub struct RegionLookup {
    /// Normalised code -> index into `names` (a dozen regions for ~100,000 codes: one small
    /// integer per code instead of a copy of the name).
    by_code: HashMap<String, u16>,
    names: Vec<String>,
    /// Which lookups it was read from.
    pub sources: Vec<String>,
}

impl RegionLookup {
    /// Reads the region columns of `lookups`.
    pub fn from_lookups(lookups: &[LookupTable]) -> RegionLookup {
        let mut out = RegionLookup::default();
        // Codes repeat on most rows (a district's code on each of its LSOAs): looked up as
        // they are (normalised into one buffer when they need it) and copied only when new.
        let mut buf = String::new();
        for t in lookups {
            let Some(ri) = t
                .columns
                .iter()
                .position(|c| c.starts_with("RGN") && c.ends_with("NM"))
            else {
                continue;
            };
            let code_cols: Vec<usize> = t
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.ends_with("CD") && !c.starts_with("RGN") && !c.starts_with("CTRY")
                })
                .map(|(i, _)| i)
                .collect();
            for (key, row) in &t.rows {
                let Some(region) = row.get(ri).filter(|r| !r.trim().is_empty()) else {
                    continue;
                };
                let Some(region) = out.intern(region) else {
                    continue;
                };
                if !out.by_code.contains_key(key.as_str()) {
                    out.by_code.insert(key.clone(), region);
                }
                for &ci in &code_cols {
                    let Some(c) = row.get(ci).filter(|c| !c.trim().is_empty()) else {
                        continue;
                    };
                    let code = if is_normalised(c) {
                        c.as_str()
                    } else {
                        crate::codes::normalise_code_into(c, &mut buf);
                        buf.as_str()
                    };
                    if !out.by_code.contains_key(code) {
                        out.by_code.insert(code.to_string(), region);
                    }
                }
            }
            out.sources.push(format!("{} ({})", t.id, t.columns[ri]));
        }
        out
    }

    fn intern(&mut self, name: &str) -> Option<u16> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return u16::try_from(i).ok();
        }
        self.names.push(name.to_string());
        u16::try_from(self.names.len() - 1).ok()
    }

    /// The region of a code, if a lookup names it.
    pub fn get(&self, code: &str) -> Option<&str> {
        // Layer codes are stored normalised: look them up as they are, normalising (one
        // allocation) only a code that is not.
        let found = if is_normalised(code) {
            self.by_code.get(code)
        } else {
            self.by_code.get(&normalise_code(code))
        };
        found.and_then(|&i| self.names.get(usize::from(i)).map(String::as_str))
    }
}

/// Whether [`normalise_code`] would leave `code` unchanged.
fn is_normalised(code: &str) -> bool {
    code.trim().len() == code.len() && !code.bytes().any(|b| b.is_ascii_lowercase())
}

/// The regions of a layer's districts: own attribute (spelt as the lookups spell it), else the
/// lookups, else by location in `reference` (a layer whose districts carry regions, with its
/// [`Regions`]). Returns the regions and a load note naming the districts placed by location.
pub fn assign(
    districts: &[District],
    lookup: &RegionLookup,
    reference: Option<(&crate::Layer, &Regions)>,
) -> (Regions, Option<String>) {
    // Spellings of the attribute that differ from the lookups' (lad19 `East` is the lookups'
    // `East of England`), learnt from the districts both name.
    let mut aliases: Vec<(String, String)> = Vec::new();
    let reference_districts = reference.map(|(l, _)| &l.districts[..]).unwrap_or_default();
    for d in districts.iter().chain(reference_districts) {
        if let (Some(own), Some(looked)) = (region_attribute(d), lookup.get(&d.code))
            && own.trim() != looked.trim()
            && !aliases.iter().any(|(a, _)| a == own.trim())
        {
            aliases.push((own.trim().to_string(), looked.trim().to_string()));
        }
    }
    // Labels borrow from the districts, the lookup, the aliases or the reference: no copy per
    // district (the 32,844 LSOAs are assigned at every start-up).
    fn spelt<'a>(aliases: &'a [(String, String)], s: &'a str) -> &'a str {
        let s = s.trim();
        aliases
            .iter()
            .find(|(a, _)| a == s)
            .map_or(s, |(_, c)| c.as_str())
    }
    let canonical = |s| spelt(&aliases, s);
    let mut labels: Vec<Option<&str>> = districts
        .iter()
        .map(|d| {
            region_attribute(d)
                .map(canonical)
                .or_else(|| lookup.get(&d.code))
        })
        .collect();
    let mut placed = Vec::new();
    if let Some((layer, regions)) = reference {
        for (d, label) in districts.iter().zip(labels.iter_mut()) {
            if label.is_some() || nation_of(&d.code) != Some("England") {
                continue;
            }
            let Some(p) = d.wgs84.0.interior_point() else {
                continue;
            };
            let Some(j) = layer.index.lookup(p.x(), p.y()) else {
                continue;
            };
            if let Some(r) = regions.region(j) {
                let r = canonical(r);
                let host = &layer.districts[j];
                placed.push((
                    d.code.clone(),
                    d.name.clone(),
                    r.to_string(),
                    format!("{} {}", host.code, host.name),
                ));
                *label = Some(r);
            }
        }
    }
    let mut regions = Regions::from_labels(&labels);
    // Both spellings select the region.
    for (alias, canon) in &aliases {
        if !regions.aliases.iter().any(|(a, _)| a == alias) {
            regions.aliases.push((alias.clone(), canon.clone()));
        }
    }
    let note = (!placed.is_empty()).then(|| {
        let list: Vec<String> = placed
            .iter()
            .map(|(c, n, r, host)| format!("{c} {n} -> {r} (its interior point is in {host})"))
            .collect();
        format!(
            "region by location for {} district(s) no region lookup names: {}",
            placed.len(),
            list.join("; ")
        )
    });
    regions.by_location = placed;
    (regions, note)
}

/// The region of every district of every layer of `atlas` ([`assign`]), with a load note on
/// each layer where some were placed by location. `reference` is a layer whose districts carry
/// a `region_name` attribute (the first such layer of the atlas when `None`).
pub fn assign_atlas(
    atlas: &mut crate::Atlas,
    lookups: &[LookupTable],
    reference: Option<crate::Layer>,
) {
    let started = std::time::Instant::now();
    let lookup = RegionLookup::from_lookups(lookups);
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "region lookup built"
    );
    let reference = reference.or_else(|| {
        atlas
            .layers
            .iter()
            .filter(|l| l.meta.attributes.iter().any(|a| a == "region_name"))
            .min_by_key(|l| l.districts.len())
            .cloned()
    });
    let reference = reference.map(|l| {
        let (r, _) = assign(&l.districts, &lookup, None);
        (l, r)
    });
    for layer in &mut atlas.layers {
        let started = std::time::Instant::now();
        let (regions, note) = assign(
            &layer.districts,
            &lookup,
            reference.as_ref().map(|(l, r)| (l, r)),
        );
        if let Some(note) = note {
            layer.load_notes.push(note);
        }
        layer.regions = std::sync::Arc::new(regions);
        tracing::debug!(layer = %layer.meta.id, ms = started.elapsed().as_secs_f64() * 1000.0, "regions assigned");
    }
}
