//! Spatial structure: global Moran's I and local Moran (LISA) clusters of an indicator.

use districts::Layer;
use serde::Serialize;

use super::{QueryError, england_only, numeric};
use crate::error::AnalysisError;
use crate::moran::{LisaClass, LocalMoran, MoranGlobal};
use crate::table::{Cell, Table};

/// Moran's I and LISA asked of one layer.
#[derive(Clone, Debug)]
pub struct ClusterRequest {
    /// Numeric indicator.
    pub indicator: String,
    /// Its period (default when `None`).
    pub period: Option<String>,
    /// Permutations for the pseudo p-values (esda's default is 999).
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Significance level of the LISA classes.
    pub alpha: f64,
    /// Only English districts.
    pub england_only: bool,
    /// Link islands (districts without a queen neighbour) to their k nearest districts.
    pub knn_islands: Option<usize>,
}

impl Default for ClusterRequest {
    fn default() -> Self {
        ClusterRequest {
            indicator: String::new(),
            period: None,
            permutations: crate::moran::DEFAULT_PERMUTATIONS,
            seed: 42,
            alpha: 0.05,
            england_only: false,
            knn_islands: None,
        }
    }
}

/// Global Moran's I and (if asked) LISA of one layer's indicator.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterOutput {
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// Period.
    pub period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Districts left out (no value, or outside England with `england_only`).
    pub excluded: usize,
    /// Codes of the districts without a queen neighbour among those used.
    pub islands: Vec<String>,
    /// Global Moran's I with its inference.
    pub global: MoranGlobal,
    /// Local Moran of every district used (when asked for).
    pub local: Option<LocalMoran>,
    /// Names aligned with `local.areas`.
    pub names: Vec<String>,
    /// Positions in the layer of the districts used, aligned with `local.areas`.
    #[serde(skip)]
    pub positions: Vec<usize>,
}

impl ClusterOutput {
    /// Number of districts per LISA class (empty without LISA).
    pub fn class_counts(&self) -> Vec<(LisaClass, usize)> {
        self.local
            .as_ref()
            .map(LocalMoran::class_counts)
            .unwrap_or_default()
    }

    /// LISA table with names: `code, name, value, z, lag, local_i, quadrant, p_sim, class`.
    pub fn lisa_table(&self) -> Table {
        let mut t = Table::new(&[
            "code", "name", "value", "z", "lag", "local_i", "quadrant", "p_sim", "class",
        ]);
        if let Some(l) = &self.local {
            for (a, n) in l.areas.iter().zip(&self.names) {
                t.push(vec![
                    Cell::from(a.code.as_str()),
                    Cell::from(n.as_str()),
                    Cell::from(a.value),
                    Cell::from(a.z),
                    Cell::from(a.lag),
                    Cell::from(a.local_i),
                    Cell::from(a.quadrant as usize),
                    Cell::from(a.p_sim),
                    Cell::from(a.class.label()),
                ]);
            }
        }
        t
    }
}

/// Global Moran's I (and LISA when `with_local`) of an indicator on `layer`, with queen
/// contiguity of the districts that have a value, row-standardised.
pub fn clusters_on_layer(
    layer: &Layer,
    req: &ClusterRequest,
    with_local: bool,
) -> Result<ClusterOutput, QueryError> {
    clusters_on_layer_cancellable(layer, req, with_local, &|| false)
}

/// [`clusters_on_layer`] that stops with [`AnalysisError::Cancelled`] soon after
/// `cancelled()` turns true (between stages and inside the permutation loops).
pub fn clusters_on_layer_cancellable(
    layer: &Layer,
    req: &ClusterRequest,
    with_local: bool,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<ClusterOutput, QueryError> {
    if !(req.alpha > 0.0 && req.alpha < 1.0) {
        return Err(QueryError::invalid(
            "alpha",
            format!("{} is not between 0 and 1", req.alpha),
            "alpha=0.05",
        ));
    }
    if req.permutations > 99_999 {
        return Err(QueryError::invalid(
            "permutations",
            format!("{} is too many", req.permutations),
            "permutations from 0 to 99999 (999 is usual)",
        ));
    }
    let (period, mut values) = numeric(layer, &req.indicator, req.period.as_deref())?;
    if req.england_only {
        values = england_only(layer, values);
    }
    let keep: Vec<bool> = values
        .iter()
        .map(|v| v.is_some_and(f64::is_finite))
        .collect();
    let positions: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    if positions.len() < 3 {
        return Err(AnalysisError::TooFewValues {
            statistic: "Moran's I",
            needed: 3,
            got: positions.len(),
        }
        .into());
    }
    let codes: Vec<String> = positions
        .iter()
        .map(|&i| layer.districts[i].code.clone())
        .collect();
    let geoms: Vec<_> = positions
        .iter()
        .map(|&i| layer.districts[i].wgs84.0.clone())
        .collect();
    let mut w = crate::contiguity::queen_contiguity(&codes, &geoms)?;
    let islands = w.islands.iter().map(|&i| codes[i].clone()).collect();
    if let Some(k) = req.knn_islands {
        w.link_islands(&geoms, k)?;
    }
    if cancelled() {
        return Err(AnalysisError::Cancelled.into());
    }
    let v: Vec<f64> = positions.iter().filter_map(|&i| values[i]).collect();
    let global =
        crate::moran::moran_global_cancellable(&v, &w, req.permutations, req.seed, cancelled)?;
    let local = if with_local {
        Some(crate::moran::local_moran_cancellable(
            &v,
            &w,
            req.permutations,
            req.seed,
            req.alpha,
            cancelled,
        )?)
    } else {
        None
    };
    Ok(ClusterOutput {
        layer: layer.meta.id.clone(),
        indicator: req.indicator.clone(),
        period,
        england_only: req.england_only,
        excluded: layer.districts.len() - positions.len(),
        islands,
        global,
        local,
        names: positions
            .iter()
            .map(|&i| layer.districts[i].name.clone())
            .collect(),
        positions,
    })
}
