//! Neighbours from geometry. Queen contiguity: two areas are neighbours when their boundaries
//! share at least one vertex (a border or a single corner), found by hashing exact vertex
//! coordinates, as libpysal's `Queen` does. ONS boundary files share exact vertices along
//! common borders, so no tolerance is used. Areas with no neighbour are islands; they can be
//! linked to their k nearest areas by centroid.

use std::collections::HashMap;

use geo::Centroid;
use geo_types::MultiPolygon;
use serde::Serialize;

use districts::codes::normalise_code;

use crate::aggregate::check_len;
use crate::error::AnalysisError;
use crate::table::{Cell, Table};

/// Neighbour lists of areas, aligned with `codes`; used with row-standardised weights
/// (each neighbour of area i weighs `1 / neighbours[i].len()`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatialWeights {
    /// Area codes.
    pub codes: Vec<String>,
    /// Positions of each area's neighbours, sorted.
    pub neighbours: Vec<Vec<usize>>,
    /// Areas with no contiguous neighbour (before any k-nearest links).
    pub islands: Vec<usize>,
    /// Links added by [`SpatialWeights::link_islands`] as `(island, neighbour)` pairs.
    pub knn_links: Vec<(usize, usize)>,
}

/// Queen contiguity neighbours of `geometries` (aligned with `codes`).
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// let sq = |x: f64, y: f64| MultiPolygon(vec![polygon![(x: x, y: y), (x: x + 1.0, y: y),
///     (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)]]);
/// // A and B share an edge, A and C a corner only, D stands alone.
/// let w = analysis::queen_contiguity(&["A", "B", "C", "D"],
///     &[sq(0.0, 0.0), sq(1.0, 0.0), sq(1.0, 1.0), sq(5.0, 5.0)]).unwrap();
/// assert_eq!(w.neighbours[0], vec![1, 2]);
/// assert_eq!(w.islands, vec![3]);
/// ```
pub fn queen_contiguity<S: AsRef<str>>(
    codes: &[S],
    geometries: &[MultiPolygon<f64>],
) -> Result<SpatialWeights, AnalysisError> {
    check_len("geometries", codes.len(), geometries.len())?;
    // Vertex -> areas that have it. `+ 0.0` folds -0.0 into 0.0 so equal coordinates hash
    // equally.
    let mut at: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, g) in geometries.iter().enumerate() {
        for poly in &g.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for c in &ring.0 {
                    let key = ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits());
                    let v = at.entry(key).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                }
            }
        }
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); codes.len()];
    for areas in at.values() {
        if areas.len() < 2 {
            continue;
        }
        for &a in areas {
            for &b in areas {
                if a != b {
                    neighbours[a].push(b);
                }
            }
        }
    }
    for n in &mut neighbours {
        n.sort_unstable();
        n.dedup();
    }
    let islands = (0..codes.len())
        .filter(|&i| neighbours[i].is_empty())
        .collect();
    Ok(SpatialWeights {
        codes: codes.iter().map(|c| normalise_code(c.as_ref())).collect(),
        neighbours,
        islands,
        knn_links: Vec::new(),
    })
}

/// Great-circle distance in km between two lon/lat points (haversine).
fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

impl SpatialWeights {
    /// Number of areas.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no areas.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The weights restricted to the areas where `keep` is true (e.g. those with a value),
    /// renumbered; links to dropped areas disappear, and areas left without neighbours
    /// become islands.
    ///
    /// ```
    /// use geo_types::{polygon, MultiPolygon};
    /// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0),
    ///     (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
    /// let w = analysis::queen_contiguity(&["A", "B", "C"], &[sq(0.0), sq(1.0), sq(2.0)]).unwrap();
    /// let s = w.subset(&[true, false, true]).unwrap();
    /// assert_eq!(s.codes, vec!["A", "C"]);
    /// assert_eq!(s.islands, vec![0, 1]);
    /// ```
    pub fn subset(&self, keep: &[bool]) -> Result<SpatialWeights, AnalysisError> {
        check_len("keep", self.len(), keep.len())?;
        let mut new_pos = vec![None; self.len()];
        let mut next = 0;
        for (i, &k) in keep.iter().enumerate() {
            if k {
                new_pos[i] = Some(next);
                next += 1;
            }
        }
        let mut codes = Vec::with_capacity(next);
        let mut neighbours = Vec::with_capacity(next);
        for i in (0..self.len()).filter(|&i| keep[i]) {
            codes.push(self.codes[i].clone());
            neighbours.push(
                self.neighbours[i]
                    .iter()
                    .filter_map(|&j| new_pos[j])
                    .collect::<Vec<_>>(),
            );
        }
        let islands = (0..next).filter(|&i| neighbours[i].is_empty()).collect();
        let knn_links = self
            .knn_links
            .iter()
            .filter_map(|&(a, b)| new_pos[a].zip(new_pos[b]))
            .collect();
        Ok(SpatialWeights {
            codes,
            neighbours,
            islands,
            knn_links,
        })
    }

    /// Neighbour codes of the area with this code.
    pub fn neighbour_codes(&self, code: &str) -> Option<Vec<&str>> {
        let code = normalise_code(code);
        let i = self.codes.iter().position(|c| *c == code)?;
        Some(
            self.neighbours[i]
                .iter()
                .map(|&j| self.codes[j].as_str())
                .collect(),
        )
    }

    /// Links every island (area still without neighbours) to its `k` nearest areas by
    /// centroid (great-circle distance on lon/lat; ties by position), in both directions so
    /// the neighbour relation stays symmetric. Geometries must be the ones the weights came
    /// from. The islands stay listed in [`SpatialWeights::islands`].
    ///
    /// ```
    /// use geo_types::{polygon, MultiPolygon};
    /// let sq = |x: f64| MultiPolygon(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0),
    ///     (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
    /// let g = [sq(0.0), sq(1.0), sq(5.0)];
    /// let mut w = analysis::queen_contiguity(&["A", "B", "C"], &g).unwrap();
    /// w.link_islands(&g, 1).unwrap();
    /// assert_eq!(w.neighbours[2], vec![1]);
    /// assert_eq!(w.neighbours[1], vec![0, 2]);
    /// ```
    pub fn link_islands(
        &mut self,
        geometries: &[MultiPolygon<f64>],
        k: usize,
    ) -> Result<(), AnalysisError> {
        check_len("geometries", self.len(), geometries.len())?;
        if k == 0 {
            return Err(AnalysisError::InvalidParameter {
                name: "k",
                reason: "k must be at least 1".into(),
            });
        }
        let centroids: Vec<Option<(f64, f64)>> = geometries
            .iter()
            .map(|g| g.centroid().map(|p| (p.x(), p.y())))
            .collect();
        let lonely: Vec<usize> = (0..self.len())
            .filter(|&i| self.neighbours[i].is_empty())
            .collect();
        for i in lonely {
            let Some(ci) = centroids[i] else { continue };
            let mut d: Vec<(f64, usize)> = centroids
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .filter_map(|(j, c)| c.map(|c| (haversine_km(ci, c), j)))
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, j) in d.iter().take(k) {
                self.knn_links.push((i, j));
                for (a, b) in [(i, j), (j, i)] {
                    if let Err(pos) = self.neighbours[a].binary_search(&b) {
                        self.neighbours[a].insert(pos, b);
                    }
                }
            }
        }
        Ok(())
    }

    /// Table form: `code, neighbour_count, neighbours` (neighbour codes joined by spaces),
    /// islands with a count of 0 before any k-nearest links.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&["code", "neighbour_count", "neighbours", "island"]);
        for (i, n) in self.neighbours.iter().enumerate() {
            let list: Vec<&str> = n.iter().map(|&j| self.codes[j].as_str()).collect();
            t.push(vec![
                Cell::from(self.codes[i].as_str()),
                Cell::from(n.len()),
                Cell::from(list.join(" ")),
                Cell::from(self.islands.contains(&i)),
            ]);
        }
        t
    }
}
