//! Layers: districts of one boundary file with their joined indicators and their index, built
//! once at start-up and read-only afterwards (shared behind an `Arc` by the server).

use std::collections::HashMap;

use crate::catalog::{IndicatorMeta, LayerMeta};
use crate::geometry::{Mercator, Wgs84};
use crate::index::DistrictIndex;
use crate::join::JoinReport;

/// One district (or small area) of a layer.
#[derive(Clone, Debug)]
pub struct District {
    /// GSS code as published (trimmed, upper case), e.g. `E06000001`.
    pub code: String,
    /// Name as published, e.g. `Hartlepool`.
    pub name: String,
    /// Boundary in WGS84, kept for GeoJSON output and lookups.
    pub wgs84: Wgs84,
    /// Boundary in Web Mercator, for rendering.
    pub mercator: Mercator,
    /// Further attributes the catalogue asks to keep (e.g. `region_name`, `lad19cd`).
    pub attributes: Vec<(String, String)>,
}

/// Values of one indicator for one period, aligned with [`Layer::districts`].
#[derive(Clone, Debug)]
pub struct Period {
    /// Period label as shown to users: `2021`, `2020/21`.
    pub label: String,
    /// The values by district position; `None` is "no data" (suppressed, missing or unmatched).
    pub values: PeriodValues,
}

/// Numeric values, or category labels for a classification (e.g. the area classification).
#[derive(Clone, Debug)]
pub enum PeriodValues {
    Numeric(Vec<Option<f64>>),
    Categorical(Vec<Option<String>>),
}

/// An indicator joined to a layer: metadata, every published period, the join report.
#[derive(Clone, Debug)]
pub struct Indicator {
    pub meta: IndicatorMeta,
    /// Periods in chronological order.
    pub periods: Vec<Period>,
    /// The label of the period shown by default (from the catalogue, else the latest).
    pub default_period: String,
    /// How the table's codes met the layer's codes.
    pub report: JoinReport,
}

impl Indicator {
    /// The period with this label.
    pub fn period(&self, label: &str) -> Option<&Period> {
        self.periods.iter().find(|p| p.label == label)
    }
}

/// A boundary layer with its districts, indicators and spatial index.
#[derive(Debug)]
pub struct Layer {
    pub meta: LayerMeta,
    pub districts: Vec<District>,
    pub indicators: Vec<Indicator>,
    pub index: DistrictIndex,
    /// What loading noticed and handled (repaired rings, dropped slivers...), for the log and report.
    pub load_notes: Vec<String>,
    by_code: HashMap<String, usize>,
}

impl Layer {
    /// Assembles a layer; codes are looked up through a map built here once.
    pub fn new(
        meta: LayerMeta,
        districts: Vec<District>,
        indicators: Vec<Indicator>,
        index: DistrictIndex,
        load_notes: Vec<String>,
    ) -> Self {
        let by_code = districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.clone(), i))
            .collect();
        Layer {
            meta,
            districts,
            indicators,
            index,
            load_notes,
            by_code,
        }
    }

    /// Position of the district with this code (trimmed, case-insensitive).
    pub fn position(&self, code: &str) -> Option<usize> {
        self.by_code
            .get(&crate::join::normalise_code(code))
            .copied()
    }

    /// The district with this code.
    pub fn district(&self, code: &str) -> Option<&District> {
        self.position(code).map(|i| &self.districts[i])
    }

    /// The indicator with this id.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.meta.id == id)
    }

    /// Adds an indicator computed after loading (e.g. an aggregation), replacing one with the same id.
    pub fn add_indicator(&mut self, indicator: Indicator) {
        self.indicators.retain(|i| i.meta.id != indicator.meta.id);
        self.indicators.push(indicator);
    }
}

/// Every layer in the catalogue, loaded.
#[derive(Debug, Default)]
pub struct Atlas {
    pub layers: Vec<Layer>,
}

impl Atlas {
    /// The layer with this id.
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.meta.id == id)
    }
    /// Ids of all layers, for hints in errors.
    pub fn layer_ids(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.meta.id.as_str()).collect()
    }
}
