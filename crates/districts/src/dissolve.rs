//! Deriving a layer by merging districts: the 2023 local authority districts are exact unions
//! of May 2021 ones, so LAD 2023 boundaries come from LAD 2021 and a lookup of the mergers.
//!
//! Three steps, each usable on its own:
//! - [`MergePlan`](crate::dissolve::MergePlan): a lookup CSV (old code, new code, new name) read and validated, with chains
//!   resolved; [`MergePlan::resolve`](crate::dissolve::MergePlan::resolve) applies it to one layer's codes ([`AbsentCodes`](crate::dissolve::AbsentCodes) says what
//!   to do with codes the layer does not have);
//! - [`dissolve`]: the exact union of one group's polygons (shared borders removed, outer
//!   boundary unchanged, no slivers; see [`edges`](crate::dissolve::edges) for how);
//! - [`derive_districts`](crate::dissolve::derive_districts): a whole layer, merged districts dissolved, the others copied.
//!
//! Independent of the catalogue and of start-up: callers pass codes, names and geometry.

pub mod edges;
pub mod plan;

use std::collections::HashMap;

use geo_types::MultiPolygon;
use rayon::prelude::*;

pub use edges::{DissolveOptions, DissolveStats, Dissolved, Snap, dissolve};
pub use plan::{
    AbsentCodes, MergeColumns, MergeError, MergeGroup, MergePlan, MergeRow, ResolvedPlan,
};

/// One district of the source layer, borrowed: geometry in any planar CRS, best the file's own
/// (e.g. British National Grid metres), where neighbours' shared vertices are as published.
/// WGS84 works too: reprojection maps equal vertices to equal vertices.
#[derive(Clone, Copy, Debug)]
pub struct SourceDistrict<'a> {
    /// GSS code (trimmed, upper case, as the loaders store it).
    pub code: &'a str,
    /// Name.
    pub name: &'a str,
    /// Boundary, in the CRS the derived districts should come out in.
    pub geometry: &'a MultiPolygon<f64>,
}

/// One district of the derived layer.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedDistrict {
    /// The new code for a merged district, else the source code.
    pub code: String,
    /// The new name for a merged district, else the source name.
    pub name: String,
    /// Dissolved (merged) or copied geometry, in the source CRS.
    pub geometry: MultiPolygon<f64>,
    /// Source codes it was made of, in lookup order; empty when copied unchanged.
    pub merged_from: Vec<String>,
}

/// The districts of a derived layer and what happened on the way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DerivedLayer {
    /// Source order, each merged district at the place of its first member.
    pub districts: Vec<DerivedDistrict>,
    /// One line per merged district (members, snapped vertices, dropped slivers) and per
    /// skipped row, for the start-up log and the layer's load notes.
    pub notes: Vec<String>,
}

/// Derives a layer: the districts named in `plan` are dissolved into their new districts (new
/// code and name), every other district is copied unchanged. `absent` decides what happens to
/// plan rows whose old code the source layer does not have (see [`AbsentCodes`]).
///
/// ```
/// use districts::dissolve::{
///     derive_districts, AbsentCodes, DissolveOptions, MergeColumns, MergePlan, SourceDistrict,
/// };
/// use geo_types::{polygon, MultiPolygon};
///
/// let west = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)]]);
/// let east = MultiPolygon(vec![polygon![(x: 1000.0, y: 0.0), (x: 2000.0, y: 0.0), (x: 2000.0, y: 1000.0), (x: 1000.0, y: 1000.0)]]);
/// let far = MultiPolygon(vec![polygon![(x: 5000.0, y: 0.0), (x: 6000.0, y: 0.0), (x: 6000.0, y: 1000.0), (x: 5000.0, y: 1000.0)]]);
/// let source = [
///     SourceDistrict { code: "E07000001", name: "West", geometry: &west },
///     SourceDistrict { code: "E07000002", name: "East", geometry: &east },
///     SourceDistrict { code: "E07000003", name: "Far", geometry: &far },
/// ];
/// let csv = "old_code,new_code,new_name\nE07000001,E06000099,Both\nE07000002,E06000099,Both\n";
/// let plan = MergePlan::from_reader(csv.as_bytes(), "inline", &MergeColumns::default())?;
///
/// let derived = derive_districts(&source, &plan, AbsentCodes::Strict, &DissolveOptions::default())?;
/// let codes: Vec<&str> = derived.districts.iter().map(|d| d.code.as_str()).collect();
/// assert_eq!(codes, ["E06000099", "E07000003"]);
/// let both = &derived.districts[0];
/// assert_eq!((both.name.as_str(), both.merged_from.len()), ("Both", 2));
/// // One rectangle: the shared border at x = 1000 is gone, the corners are the inputs'.
/// assert_eq!(both.geometry.0.len(), 1);
/// assert_eq!(both.geometry.0[0].exterior().0.len(), 7);
/// # Ok::<(), districts::dissolve::MergeError>(())
/// ```
pub fn derive_districts(
    source: &[SourceDistrict<'_>],
    plan: &MergePlan,
    absent: AbsentCodes,
    options: &DissolveOptions,
) -> Result<DerivedLayer, MergeError> {
    let resolved = plan.resolve(source.iter().map(|d| d.code), absent)?;
    // Positions of each code (normalised as the plan's are); a duplicated code is merged in
    // every copy.
    let mut positions: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, d) in source.iter().enumerate() {
        positions
            .entry(crate::codes::normalise_code(d.code))
            .or_default()
            .push(i);
    }
    let at = |code: &str| positions.get(code).map(Vec::as_slice).unwrap_or_default();
    // Group of each source district, if merged.
    let mut group_of: Vec<Option<usize>> = vec![None; source.len()];
    for (gi, group) in resolved.groups.iter().enumerate() {
        for member in &group.members {
            for &i in at(member) {
                group_of[i] = Some(gi);
            }
        }
    }
    let dissolved: Vec<Dissolved> = resolved
        .groups
        .par_iter()
        .map(|group| {
            let members: Vec<&MultiPolygon<f64>> = group
                .members
                .iter()
                .flat_map(|m| at(m).iter().map(|&i| source[i].geometry))
                .collect();
            dissolve(&members, options)
        })
        .collect();

    let mut notes: Vec<String> = resolved
        .skipped
        .iter()
        .map(|r| {
            let successor = std::iter::once(&r.new_code)
                .chain(r.via.iter().rev())
                .find(|c| !at(c).is_empty())
                .unwrap_or(&r.new_code);
            format!(
                "{}:{}: skipped {} -> {}: already merged, the layer has {successor}",
                plan.source(),
                r.line,
                r.old_code,
                r.new_code,
            )
        })
        .collect();
    let mut slots: Vec<Option<Dissolved>> = dissolved.into_iter().map(Some).collect();
    let mut districts = Vec::with_capacity(source.len());
    for (i, d) in source.iter().enumerate() {
        let Some(gi) = group_of[i] else {
            districts.push(DerivedDistrict {
                code: d.code.to_string(),
                name: d.name.to_string(),
                geometry: d.geometry.clone(),
                merged_from: Vec::new(),
            });
            continue;
        };
        // The first member takes the merged district's place; later members are inside it.
        let Some(done) = slots[gi].take() else {
            continue;
        };
        let group = &resolved.groups[gi];
        notes.push(note(group, &done.stats));
        districts.push(DerivedDistrict {
            code: group.code.clone(),
            name: group.name.clone(),
            geometry: done.geometry,
            merged_from: group.members.clone(),
        });
    }
    Ok(DerivedLayer { districts, notes })
}

/// The log line of one merged district.
fn note(group: &MergeGroup, s: &DissolveStats) -> String {
    let change = if s.input_area != 0.0 {
        (s.output_area - s.input_area) / s.input_area
    } else {
        0.0
    };
    format!(
        "{} {}: dissolved {}; {} vertices snapped, {} T-junctions split, {} shared edges \
         removed, {} slivers dropped, {} holes outside any part; area change {:.2e}",
        group.code,
        group.name,
        group.members.join(" + "),
        s.snapped_vertices,
        s.split_points,
        s.cancelled_edges,
        s.dropped_slivers,
        s.unplaced_holes,
        change
    )
}
