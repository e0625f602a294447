//! Spatial autocorrelation with row-standardised weights: global Moran's I with its
//! expectation, variance and z-value under normality plus a permutation pseudo p-value, and
//! local Moran (LISA) with conditional permutations, classified into the quadrants
//! high-high, low-low, high-low, low-high or not significant. The formulas and the p-value
//! folding follow PySAL's esda (`Moran`, `Moran_Local`), so results can be checked against it.
//!
//! Permutations are reproducible for a seed whatever the number of threads: each global
//! permutation and each area's local permutations draw from their own Xoshiro256++ stream
//! derived from `(seed, index)`.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;

use crate::aggregate::check_len;
use crate::contiguity::SpatialWeights;
use crate::error::AnalysisError;
use crate::table::{Cell, Table};

/// Default number of permutations, as esda.
pub const DEFAULT_PERMUTATIONS: usize = 999;

/// Global Moran's I and its inference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MoranGlobal {
    /// Areas.
    pub n: usize,
    /// Areas without neighbours (their rows of the weights are zero).
    pub islands: usize,
    /// Moran's I.
    pub i: f64,
    /// Expectation under no autocorrelation, `-1 / (n - 1)`.
    pub expected: f64,
    /// Variance under the normality assumption.
    pub variance_normal: f64,
    /// `(I - E[I]) / sqrt(variance_normal)`.
    pub z_normal: f64,
    /// Two-sided p-value of `z_normal`.
    pub p_normal: f64,
    /// Permutations run (0: none).
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Pseudo p-value `(min(larger, perms - larger) + 1) / (perms + 1)` (esda's `p_sim`).
    pub p_sim: Option<f64>,
    /// Mean of I over the permutations.
    pub mean_sim: Option<f64>,
    /// Standard deviation of I over the permutations.
    pub sd_sim: Option<f64>,
    /// `(I - mean_sim) / sd_sim`.
    pub z_sim: Option<f64>,
}

impl MoranGlobal {
    /// Table form: one row of every field.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&[
            "n",
            "islands",
            "moran_i",
            "expected_i",
            "variance_normal",
            "z_normal",
            "p_normal",
            "permutations",
            "seed",
            "p_sim",
            "mean_sim",
            "sd_sim",
            "z_sim",
        ]);
        t.push(vec![
            Cell::from(self.n),
            Cell::from(self.islands),
            Cell::from(self.i),
            Cell::from(self.expected),
            Cell::from(self.variance_normal),
            Cell::from(self.z_normal),
            Cell::from(self.p_normal),
            Cell::from(self.permutations),
            Cell::Int(i64::try_from(self.seed).unwrap_or(i64::MAX)),
            Cell::from(self.p_sim),
            Cell::from(self.mean_sim),
            Cell::from(self.sd_sim),
            Cell::from(self.z_sim),
        ]);
        t
    }
}

/// The LISA category of an area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LisaClass {
    /// High value among high neighbours, significant.
    HighHigh,
    /// Low value among low neighbours, significant.
    LowLow,
    /// High value among low neighbours, significant.
    HighLow,
    /// Low value among high neighbours, significant.
    LowHigh,
    /// Not significant at the chosen level.
    NotSignificant,
    /// No neighbours, so no local statistic.
    NoNeighbours,
}

impl LisaClass {
    /// Label for tables and legends.
    pub fn label(&self) -> &'static str {
        match self {
            LisaClass::HighHigh => "high-high",
            LisaClass::LowLow => "low-low",
            LisaClass::HighLow => "high-low",
            LisaClass::LowHigh => "low-high",
            LisaClass::NotSignificant => "not significant",
            LisaClass::NoNeighbours => "no neighbours",
        }
    }
}

/// Local Moran of one area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalMoranArea {
    /// Area code.
    pub code: String,
    /// The value as given.
    pub value: f64,
    /// Standardised value `(y - mean) / sd` (population sd).
    pub z: f64,
    /// Spatial lag of `z` (mean of the neighbours' z).
    pub lag: f64,
    /// Local Moran's I_i = `(n - 1) z_i lag_i / sum(z^2)` (esda's `Is`).
    pub local_i: f64,
    /// esda's quadrant `q`: 1 high-high, 2 low-high, 3 low-low, 4 high-low.
    pub quadrant: u8,
    /// Conditional-permutation pseudo p-value; `None` without neighbours or permutations.
    pub p_sim: Option<f64>,
    /// Category at the significance level.
    pub class: LisaClass,
}

/// Local Moran (LISA) of every area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalMoran {
    /// Permutations per area.
    pub permutations: usize,
    /// Seed.
    pub seed: u64,
    /// Significance level used for the classes (`p_sim <= alpha`).
    pub alpha: f64,
    /// One entry per area, in the weights' order.
    pub areas: Vec<LocalMoranArea>,
}

impl LocalMoran {
    /// Table form: `code, value, z, lag, local_i, quadrant, p_sim, class`.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&[
            "code", "value", "z", "lag", "local_i", "quadrant", "p_sim", "class",
        ]);
        for a in &self.areas {
            t.push(vec![
                Cell::from(a.code.as_str()),
                Cell::from(a.value),
                Cell::from(a.z),
                Cell::from(a.lag),
                Cell::from(a.local_i),
                Cell::from(a.quadrant as usize),
                Cell::from(a.p_sim),
                Cell::from(a.class.label()),
            ]);
        }
        t
    }

    /// Number of areas in each class.
    pub fn class_counts(&self) -> Vec<(LisaClass, usize)> {
        [
            LisaClass::HighHigh,
            LisaClass::LowLow,
            LisaClass::HighLow,
            LisaClass::LowHigh,
            LisaClass::NotSignificant,
            LisaClass::NoNeighbours,
        ]
        .into_iter()
        .map(|c| (c, self.areas.iter().filter(|a| a.class == c).count()))
        .collect()
    }
}

/// SplitMix64 finaliser: a well-mixed seed per `(seed, index)` stream.
fn stream_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Two-sided normal p-value.
fn two_sided_p(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

fn check_inputs(values: &[f64], w: &SpatialWeights) -> Result<(), AnalysisError> {
    check_len("values", w.len(), values.len())?;
    if values.len() < 3 {
        return Err(AnalysisError::TooFewValues {
            statistic: "Moran's I",
            needed: 3,
            got: values.len(),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(AnalysisError::Undefined {
            statistic: "Moran's I",
            reason: format!(
                "value of {} is not a finite number; drop areas without values with SpatialWeights::subset first",
                w.codes[i]
            ),
        });
    }
    Ok(())
}

/// Row-standardised spatial lag of `z`: the mean of each area's neighbours (0 for islands).
fn lag(z: &[f64], w: &SpatialWeights) -> Vec<f64> {
    w.neighbours
        .iter()
        .map(|n| {
            if n.is_empty() {
                0.0
            } else {
                n.iter().map(|&j| z[j]).sum::<f64>() / n.len() as f64
            }
        })
        .collect()
}

/// Global Moran's I of `values` (aligned with the weights' areas) with row-standardised
/// weights; `permutations` random permutations (0 for none) seeded by `seed`.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0),
///     (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
/// let g: Vec<_> = (0..6).map(|i| sq(i as f64)).collect();
/// let w = analysis::queen_contiguity(&["a", "b", "c", "d", "e", "f"], &g).unwrap();
/// let m = analysis::moran_global(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &w, 99, 7).unwrap();
/// assert!(m.i > 0.5 && m.expected == -0.2);
/// assert_eq!(m, analysis::moran_global(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &w, 99, 7).unwrap());
/// ```
pub fn moran_global(
    values: &[f64],
    w: &SpatialWeights,
    permutations: usize,
    seed: u64,
) -> Result<MoranGlobal, AnalysisError> {
    moran_global_cancellable(values, w, permutations, seed, &never)
}

/// Never asks to stop: what the plain functions pass.
fn never() -> bool {
    false
}

/// [`moran_global`] that stops with [`AnalysisError::Cancelled`] as soon as `cancelled()` is
/// true (checked before every permutation): 99,999 permutations over 32,844 LSOAs take about a
/// minute, and a server must not go on computing them for a client that has gone.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0),
///     (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
/// let g: Vec<_> = (0..6).map(|i| sq(i as f64)).collect();
/// let w = analysis::queen_contiguity(&["a", "b", "c", "d", "e", "f"], &g).unwrap();
/// let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let stop = analysis::moran::moran_global_cancellable(&v, &w, 99, 7, &|| true);
/// assert_eq!(stop, Err(analysis::AnalysisError::Cancelled));
/// assert!(analysis::moran::moran_global_cancellable(&v, &w, 99, 7, &|| false).is_ok());
/// ```
pub fn moran_global_cancellable(
    values: &[f64],
    w: &SpatialWeights,
    permutations: usize,
    seed: u64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<MoranGlobal, AnalysisError> {
    check_inputs(values, w)?;
    let n = values.len();
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let z: Vec<f64> = values.iter().map(|v| v - mean).collect();
    let z2ss: f64 = z.iter().map(|v| v * v).sum();
    if z2ss == 0.0 {
        return Err(AnalysisError::Undefined {
            statistic: "Moran's I",
            reason: "all values are equal".into(),
        });
    }
    let islands = w.neighbours.iter().filter(|n| n.is_empty()).count();
    // Row-standardised: every non-island row sums to 1.
    let s0 = (n - islands) as f64;
    if s0 == 0.0 {
        return Err(AnalysisError::Undefined {
            statistic: "Moran's I",
            reason: "no area has a neighbour".into(),
        });
    }
    let weight = |i: usize, j: usize| -> f64 {
        let ni = &w.neighbours[i];
        if ni.binary_search(&j).is_ok() {
            1.0 / ni.len() as f64
        } else {
            0.0
        }
    };
    // S1 = 1/2 sum_ij (w_ij + w_ji)^2 over every pair linked in either direction;
    // S2 = sum_i (row sum_i + column sum_i)^2.
    let mut s1 = 0.0;
    let mut col = vec![0.0; n];
    for (i, ni) in w.neighbours.iter().enumerate() {
        for &j in ni {
            let wij = 1.0 / ni.len() as f64;
            col[j] += wij;
            let wji = weight(j, i);
            // Pairs linked both ways are visited twice (i,j) and (j,i): the 1/2 undoes that;
            // one-way pairs are visited once, and (j,i) contributes the same square.
            s1 += if wji > 0.0 {
                (wij + wji).powi(2)
            } else {
                2.0 * wij.powi(2)
            };
        }
    }
    s1 *= 0.5;
    let s2: f64 = (0..n)
        .map(|i| {
            let row = if w.neighbours[i].is_empty() { 0.0 } else { 1.0 };
            (row + col[i]).powi(2)
        })
        .sum();

    let stat = |z: &[f64]| -> f64 {
        let l = lag(z, w);
        let num: f64 = z.iter().zip(&l).map(|(a, b)| a * b).sum();
        nf / s0 * num / z2ss
    };
    let i_obs = stat(&z);
    let expected = -1.0 / (nf - 1.0);
    let variance_normal = (nf * nf * s1 - nf * s2 + 3.0 * s0 * s0)
        / ((nf - 1.0) * (nf + 1.0) * s0 * s0)
        - expected * expected;
    let z_normal = (i_obs - expected) / variance_normal.sqrt();

    let (mut p_sim, mut mean_sim, mut sd_sim, mut z_sim) = (None, None, None, None);
    if permutations > 0 {
        // Collecting into a `Result` stops every worker once one permutation sees the flag.
        let sims: Vec<f64> = (0..permutations)
            .into_par_iter()
            .map_init(
                || z.clone(),
                |buf, p| {
                    if cancelled() {
                        return Err(AnalysisError::Cancelled);
                    }
                    let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, p as u64));
                    buf.copy_from_slice(&z);
                    buf.shuffle(&mut rng);
                    Ok(stat(buf))
                },
            )
            .collect::<Result<_, _>>()?;
        let larger = sims.iter().filter(|&&s| s >= i_obs).count();
        let larger = larger.min(permutations - larger);
        p_sim = Some((larger as f64 + 1.0) / (permutations as f64 + 1.0));
        let m = sims.iter().sum::<f64>() / permutations as f64;
        let sd = (sims.iter().map(|s| (s - m).powi(2)).sum::<f64>() / permutations as f64).sqrt();
        mean_sim = Some(m);
        sd_sim = Some(sd);
        z_sim = (sd > 0.0).then(|| (i_obs - m) / sd);
    }
    Ok(MoranGlobal {
        n,
        islands,
        i: i_obs,
        expected,
        variance_normal,
        z_normal,
        p_normal: two_sided_p(z_normal),
        permutations,
        seed,
        p_sim,
        mean_sim,
        sd_sim,
        z_sim,
    })
}

/// Local Moran (LISA) of `values` with row-standardised weights and `permutations`
/// conditional permutations per area (each area's value held fixed, its neighbours drawn
/// at random from the other areas), classified at significance `alpha` (e.g. 0.05).
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// use analysis::LisaClass;
/// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0),
///     (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
/// let g: Vec<_> = (0..8).map(|i| sq(i as f64)).collect();
/// let codes = ["a", "b", "c", "d", "e", "f", "g", "h"];
/// let w = analysis::queen_contiguity(&codes, &g).unwrap();
/// let v = [1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 9.0, 9.0];
/// let l = analysis::local_moran(&v, &w, 99, 1, 0.05).unwrap();
/// assert_eq!(l.areas[0].quadrant, 3); // low among low
/// assert!(matches!(l.areas[7].class, LisaClass::HighHigh | LisaClass::NotSignificant));
/// ```
pub fn local_moran(
    values: &[f64],
    w: &SpatialWeights,
    permutations: usize,
    seed: u64,
    alpha: f64,
) -> Result<LocalMoran, AnalysisError> {
    local_moran_cancellable(values, w, permutations, seed, alpha, &never)
}

/// How many local permutations run between two looks at the cancel flag (a look is an atomic
/// load and perhaps a clock read; a permutation draws a handful of neighbours).
const LOCAL_CHECK_EVERY: usize = 256;

/// [`local_moran`] that stops with [`AnalysisError::Cancelled`] soon after `cancelled()` turns
/// true (checked every 256 permutations of each area).
pub fn local_moran_cancellable(
    values: &[f64],
    w: &SpatialWeights,
    permutations: usize,
    seed: u64,
    alpha: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<LocalMoran, AnalysisError> {
    check_inputs(values, w)?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(AnalysisError::InvalidParameter {
            name: "alpha",
            reason: format!("significance level must be between 0 and 1, got {alpha}"),
        });
    }
    let n = values.len();
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf).sqrt();
    if sd == 0.0 {
        return Err(AnalysisError::Undefined {
            statistic: "local Moran",
            reason: "all values are equal".into(),
        });
    }
    let z: Vec<f64> = values.iter().map(|v| (v - mean) / sd).collect();
    let den: f64 = z.iter().map(|v| v * v).sum();
    let lags = lag(&z, w);
    let n_1 = nf - 1.0;
    let areas = (0..n)
        .into_par_iter()
        .map(|i| -> Result<LocalMoranArea, AnalysisError> {
            if cancelled() {
                return Err(AnalysisError::Cancelled);
            }
            let k = w.neighbours[i].len();
            let local_i = n_1 * z[i] * lags[i] / den;
            let quadrant = match (z[i] > 0.0, lags[i] > 0.0) {
                (true, true) => 1,
                (false, true) => 2,
                (false, false) => 3,
                (true, false) => 4,
            };
            let p_sim = if k > 0 && permutations > 0 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, i as u64));
                let mut larger = 0usize;
                for done in 0..permutations {
                    if done % LOCAL_CHECK_EVERY == LOCAL_CHECK_EVERY - 1 && cancelled() {
                        return Err(AnalysisError::Cancelled);
                    }
                    // k distinct areas other than i: draw from n - 1 and skip over i.
                    let sum: f64 = rand::seq::index::sample(&mut rng, n - 1, k)
                        .iter()
                        .map(|j| z[if j >= i { j + 1 } else { j }])
                        .sum();
                    if n_1 * z[i] * (sum / k as f64) / den >= local_i {
                        larger += 1;
                    }
                }
                let larger = larger.min(permutations - larger);
                Some((larger as f64 + 1.0) / (permutations as f64 + 1.0))
            } else {
                None
            };
            let class = match p_sim {
                None if k == 0 => LisaClass::NoNeighbours,
                Some(p) if p <= alpha => match quadrant {
                    1 => LisaClass::HighHigh,
                    2 => LisaClass::LowHigh,
                    3 => LisaClass::LowLow,
                    _ => LisaClass::HighLow,
                },
                _ => LisaClass::NotSignificant,
            };
            Ok(LocalMoranArea {
                code: w.codes[i].clone(),
                value: values[i],
                z: z[i],
                lag: lags[i],
                local_i,
                quadrant,
                p_sim,
                class,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(LocalMoran {
        permutations,
        seed,
        alpha,
        areas,
    })
}
