//! Correlation of two indicators over the same districts: Pearson on the values, Spearman on
//! their ranks (average ranks for ties, as scipy). Only districts with both values count.

use serde::Serialize;

use crate::aggregate::check_len;
use crate::error::AnalysisError;
use crate::table::{Cell, Table};

/// Which correlation coefficient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationMethod {
    /// Linear (product-moment) correlation.
    Pearson,
    /// Pearson correlation of the ranks, ties given their average rank.
    Spearman,
}

/// A correlation coefficient with the number of pairs it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Correlation {
    /// The coefficient's kind.
    pub method: CorrelationMethod,
    /// The coefficient, -1..1.
    pub r: f64,
    /// Pairs used (both values present and finite).
    pub n: usize,
    /// Districts left out because one or both values were missing.
    pub excluded: usize,
}

impl Correlation {
    /// Table form: `method, r, n, excluded`.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&["method", "r", "n", "excluded"]);
        let m = match self.method {
            CorrelationMethod::Pearson => "pearson",
            CorrelationMethod::Spearman => "spearman",
        };
        t.push(vec![
            Cell::from(m),
            Cell::from(self.r),
            Cell::from(self.n),
            Cell::from(self.excluded),
        ]);
        t
    }
}

/// Average ranks (1-based) of `v`, ties sharing the mean of the ranks they span.
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        while end + 1 < idx.len() && v[idx[end + 1]] == v[idx[start]] {
            end += 1;
        }
        let avg = (start + end) as f64 / 2.0 + 1.0;
        for &i in &idx[start..=end] {
            ranks[i] = avg;
        }
        start = end + 1;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> Result<f64, AnalysisError> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(AnalysisError::Undefined {
            statistic: "correlation",
            reason: "one of the indicators is constant".into(),
        });
    }
    Ok(sxy / (sxx.sqrt() * syy.sqrt()))
}

/// Correlation of `x` and `y` (aligned by district) over the districts where both are present.
/// Needs at least 3 pairs and some variation in each.
///
/// ```
/// use analysis::{correlate, CorrelationMethod};
/// let x = [Some(1.0), Some(2.0), Some(3.0), Some(4.0), None];
/// let y = [Some(1.0), Some(4.0), Some(9.0), Some(16.0), Some(5.0)];
/// let s = correlate(&x, &y, CorrelationMethod::Spearman).unwrap();
/// assert!((s.r - 1.0).abs() < 1e-12);
/// assert_eq!((s.n, s.excluded), (4, 1));
/// let p = correlate(&x, &y, CorrelationMethod::Pearson).unwrap();
/// assert!(p.r > 0.98 && p.r < 1.0);
/// ```
pub fn correlate(
    x: &[Option<f64>],
    y: &[Option<f64>],
    method: CorrelationMethod,
) -> Result<Correlation, AnalysisError> {
    check_len("y", x.len(), y.len())?;
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| a.zip(*b))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .unzip();
    if xs.len() < 3 {
        return Err(AnalysisError::TooFewValues {
            statistic: "correlation",
            needed: 3,
            got: xs.len(),
        });
    }
    let r = match method {
        CorrelationMethod::Pearson => pearson(&xs, &ys)?,
        CorrelationMethod::Spearman => pearson(&average_ranks(&xs), &average_ranks(&ys))?,
    };
    Ok(Correlation {
        method,
        r,
        n: xs.len(),
        excluded: x.len() - xs.len(),
    })
}
