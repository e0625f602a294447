//! The geography: score every loaded layer (derived ones included) by the share of a code
//! column's distinct codes it knows, and pick the best column and layer.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::codes::{gss, kind, kind_name};
use crate::error::{DatasetError, Result};
use crate::read::Grid;

/// A layer's codes, as detection and the join need them.
#[derive(Clone, Debug, Default)]
pub struct KnownLayer {
    /// Layer id.
    pub id: String,
    /// Layer title, for reports.
    pub title: String,
    /// Code -> district position.
    pub positions: HashMap<String, usize>,
    /// Codes and names in district order.
    pub codes: Vec<String>,
    /// District names, aligned with `codes`.
    pub names: Vec<String>,
    /// Kinds of code the layer holds (`E06`...).
    pub kinds: BTreeSet<String>,
    /// Key of joins made against these codes ([`crate::stored_join::layer_key`]), computed
    /// on first use.
    join_key: std::sync::OnceLock<Option<String>>,
}

impl KnownLayer {
    /// From codes and names in district order.
    pub fn new(id: &str, title: &str, codes: Vec<String>, names: Vec<String>) -> Self {
        let positions = codes
            .iter()
            .enumerate()
            .rev()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let kinds = codes.iter().map(|c| kind(c).to_string()).collect();
        KnownLayer {
            id: id.into(),
            title: title.into(),
            positions,
            codes,
            names,
            kinds,
            join_key: std::sync::OnceLock::new(),
        }
    }

    /// The key a stored join must carry to be used on this layer (`None` when the running
    /// program cannot be identified: joins are then always made again).
    pub fn join_key(&self) -> Option<&str> {
        self.join_key
            .get_or_init(|| crate::stored_join::layer_key(self))
            .as_deref()
    }

    /// The nations (first letters) the layer covers.
    pub fn nations(&self) -> BTreeSet<char> {
        self.kinds.iter().filter_map(|k| k.chars().next()).collect()
    }
}

/// How well one layer knows a code column.
#[derive(Clone, Debug, Serialize)]
pub struct LayerScore {
    /// The layer scored.
    pub layer: String,
    /// Distinct codes of the column the layer knows.
    pub known: usize,
    /// `known` / distinct codes in the column.
    pub share: f64,
    /// `known` / districts of the layer.
    pub coverage: f64,
}

/// Chooses the code column and the layer: best share, then best coverage of the layer.
/// Returns the column and every layer's score for it, best first.
pub fn choose(
    grid: &Grid,
    candidates: &[(usize, usize)],
    layers: &[KnownLayer],
    force_layer: Option<&str>,
) -> Result<(usize, Vec<LayerScore>)> {
    let layers: Vec<&KnownLayer> = match force_layer {
        Some(id) => {
            let l = layers.iter().find(|l| l.id == id).ok_or_else(|| {
                DatasetError::bad(
                    format!("unknown layer {id:?}"),
                    format!(
                        "layers: {}",
                        layers
                            .iter()
                            .map(|l| l.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            vec![l]
        }
        None => layers.iter().collect(),
    };
    let mut best: Option<(usize, Vec<LayerScore>)> = None;
    let mut all_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for &(col, _) in candidates {
        let codes: HashSet<String> = grid
            .rows
            .iter()
            .filter_map(|r| r.cells.get(col).and_then(|c| gss(c)))
            .collect();
        for c in &codes {
            *all_kinds.entry(kind(c).to_string()).or_default() += 1;
        }
        let mut scores: Vec<LayerScore> = layers
            .iter()
            .map(|l| {
                let known = codes
                    .iter()
                    .filter(|c| l.positions.contains_key(*c))
                    .count();
                LayerScore {
                    layer: l.id.clone(),
                    known,
                    share: known as f64 / codes.len().max(1) as f64,
                    coverage: known as f64 / l.codes.len().max(1) as f64,
                }
            })
            .collect();
        scores.sort_by(|a, b| {
            b.share
                .total_cmp(&a.share)
                .then(b.coverage.total_cmp(&a.coverage))
        });
        let better = match (&best, scores.first()) {
            (None, Some(_)) => true,
            (Some((_, b)), Some(s)) => b.first().is_some_and(|b| s.known > b.known),
            _ => false,
        };
        if better {
            best = Some((col, scores));
        }
    }
    match best {
        Some((col, scores)) if scores.first().is_some_and(|s| s.known > 0) => Ok((col, scores)),
        _ => {
            let kinds = all_kinds
                .iter()
                .map(|(k, n)| format!("{n} {} ({k})", kind_name(k)))
                .collect::<Vec<_>>()
                .join(", ");
            let held = layers
                .iter()
                .map(|l| {
                    format!(
                        "{} ({})",
                        l.id,
                        l.kinds.iter().cloned().collect::<Vec<_>>().join("/")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            Err(DatasetError::bad(
                format!("no loaded layer knows these codes: they are {kinds}"),
                format!(
                    "placemap has boundaries for: {held}. Map a table of those codes, or aggregate your table to districts first"
                ),
            ))
        }
    }
}
