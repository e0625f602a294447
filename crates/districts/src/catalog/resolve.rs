//! Resolved stage: the raw catalogue validated against a data directory (files exist, ids are
//! unique and snake_case, references resolve, named columns are in the files' headers).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::{
    Catalog, CatalogError, CategorySpec, Combine, DerivedEntry, DerivedMethod, Filter,
    IndicatorSpec, LayerMeta, Layout, LookupSpec, PointsSpec, Provenance, RawCatalog, RawCombine,
    RawIndicator, RawLayer, RawLayout, RawLookup, RawPoints, RawSource, SourceSpec, TextEncoding,
    ValueSpec,
};
use crate::csv_text;

impl Catalog {
    /// Reads the catalogue at `path` and validates it against `data_dir`.
    ///
    /// ```
    /// # let dir = test_support::fixtures_dir();
    /// # let cat = dir.join("toy_catalog.toml");
    /// use districts::catalog::Catalog;
    /// let catalog = Catalog::load(&cat, &dir).unwrap();
    /// assert!(catalog.layer("toy").is_some());
    /// let ids: Vec<_> = catalog.indicators_for_layer("toy").iter().map(|(_, i)| i.id.clone()).collect();
    /// assert!(ids.contains(&"toy_score".to_string()));
    /// ```
    pub fn load(path: &Path, data_dir: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let raw = RawCatalog::parse(&text).map_err(|source| CatalogError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Catalog::resolve(raw, path, data_dir)
    }

    /// Validates a parsed catalogue against `data_dir`; `catalog_path` is used in errors.
    pub fn resolve(
        raw: RawCatalog,
        catalog_path: &Path,
        data_dir: &Path,
    ) -> Result<Catalog, CatalogError> {
        let cx = Resolver {
            catalog: catalog_path.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        };
        // Nothing could be mapped or served: refuse here rather than start a server that
        // answers "ok" with no layers.
        if raw.layer.is_empty() {
            return Err(CatalogError::NoLayers {
                path: catalog_path.to_path_buf(),
            });
        }
        // Ids: unique per kind, and indicator ids unique across the whole catalogue.
        cx.unique("layer", raw.layer.iter().map(|l| l.id.as_str()))?;
        cx.unique("source", raw.source.iter().map(|s| s.id.as_str()))?;
        cx.unique(
            "indicator",
            raw.source
                .iter()
                .flat_map(|s| s.indicator.iter().map(|i| i.id.as_str()))
                .chain(raw.derived.iter().map(|d| d.id.as_str())),
        )?;
        cx.unique("lookup", raw.lookup.iter().map(|l| l.id.as_str()))?;
        cx.unique("points", raw.points.iter().map(|p| p.id.as_str()))?;

        for (i, layer) in raw.layer.iter().enumerate() {
            cx.check_id(&layer.id)?;
            let file = match (
                &layer.merge,
                &layer.file,
                &layer.code_field,
                &layer.name_field,
            ) {
                (Some(m), None, None, None) => {
                    if !raw.layer[..i]
                        .iter()
                        .any(|l| l.id == m.from && l.id != layer.id)
                    {
                        return Err(cx.invalid(
                            &layer.id,
                            format!(
                                "merge.from = {:?} is not a layer declared before it (declared: {})",
                                m.from,
                                join_ids(raw.layer[..i].iter().map(|l| l.id.as_str()))
                            ),
                        ));
                    }
                    &m.lookup
                }
                (None, Some(f), Some(_), Some(_)) => f,
                _ => {
                    return Err(cx.invalid(
                        &layer.id,
                        "a layer needs either file, code_field and name_field (a boundary file) or merge = { from, lookup } (districts of another layer merged), not both".into(),
                    ));
                }
            };
            let path = cx.existing(&layer.id, file)?;
            if path.extension().and_then(|e| e.to_str()) == Some("shp") {
                // A shapefile is four files; the loader needs the geometry index, the attributes
                // and the CRS (`.prj`) as well.
                for ext in ["shx", "dbf", "prj"] {
                    let sibling = path.with_extension(ext);
                    if !sibling.is_file() {
                        return Err(CatalogError::MissingFile {
                            catalog: cx.catalog.clone(),
                            entry: layer.id.clone(),
                            file: sibling,
                        });
                    }
                }
            }
        }

        let lookups = raw
            .lookup
            .into_iter()
            .map(|l| cx.lookup(l))
            .collect::<Result<Vec<_>, _>>()?;
        let points = raw
            .points
            .into_iter()
            .map(|p| cx.points(p))
            .collect::<Result<Vec<_>, _>>()?;
        let layer_ids: Vec<&str> = raw.layer.iter().map(|l| l.id.as_str()).collect();
        let sources = raw
            .source
            .into_iter()
            .map(|s| cx.source(s, &layer_ids, &lookups))
            .collect::<Result<Vec<_>, _>>()?;

        let catalog = Catalog {
            path: cx.catalog.clone(),
            data_dir: cx.data_dir.clone(),
            layers: raw.layer.into_iter().map(layer_meta).collect(),
            sources,
            lookups,
            points,
            derived: Vec::new(),
            prepared_dir: None,
        };
        for (i, d) in raw.derived.iter().enumerate() {
            cx.derived(d, &catalog, &raw.derived[..i])?;
        }
        let catalog = Catalog {
            derived: raw.derived,
            ..catalog
        };
        // A weighted recombination's weights must be an indicator of the catalogue.
        let all_ids = || {
            catalog
                .sources
                .iter()
                .flat_map(|s| s.indicators.iter().map(|i| i.id.as_str()))
                .chain(catalog.derived.iter().map(|d| d.id.as_str()))
        };
        for s in &catalog.sources {
            for i in &s.indicators {
                if let Some(Combine::WeightedMean { weights }) = &i.combine
                    && !all_ids().any(|id| id == weights)
                {
                    return Err(CatalogError::UnknownReference {
                        catalog: cx.catalog.clone(),
                        entry: i.id.clone(),
                        kind: "indicator",
                        id: weights.clone(),
                        known: join_ids(all_ids()),
                    });
                }
            }
        }
        for layer in &catalog.layers {
            if let Some(default) = &layer.default_indicator {
                let available = catalog.indicators_for_layer(&layer.id);
                if !available.iter().any(|(_, i)| &i.id == default) {
                    return Err(CatalogError::UnknownReference {
                        catalog: cx.catalog.clone(),
                        entry: layer.id.clone(),
                        kind: "indicator",
                        id: default.clone(),
                        known: join_ids(available.iter().map(|(_, i)| i.id.as_str())),
                    });
                }
            }
        }
        Ok(catalog)
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = ids.collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// Context for resolving entries: where errors point to.
struct Resolver {
    catalog: PathBuf,
    data_dir: PathBuf,
}

impl Resolver {
    fn unique<'a>(
        &self,
        kind: &'static str,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<(), CatalogError> {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                return Err(CatalogError::DuplicateId {
                    catalog: self.catalog.clone(),
                    kind,
                    id: id.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Resolves an indicator's `combine`; the weights' id is checked once every indicator is
    /// known (see [`Catalog::resolve`]).
    fn combine(
        &self,
        entry: &str,
        raw: Option<RawCombine>,
        categorical: bool,
    ) -> Result<Option<Combine>, CatalogError> {
        let Some(raw) = raw else { return Ok(None) };
        let (how, weights, reason) = match raw {
            RawCombine::Short(how) => (how, None, None),
            RawCombine::Full {
                how,
                weights,
                reason,
            } => (how, weights, reason),
        };
        let combine = match (how.as_str(), weights, reason) {
            ("sum", None, None) => Combine::Sum,
            ("weighted_mean", Some(weights), None) => Combine::WeightedMean { weights },
            ("none", None, reason) => Combine::Never {
                reason: reason
                    .unwrap_or_else(|| "the catalogue gives no way to recombine its values".into()),
            },
            ("weighted_mean", None, _) => {
                return Err(self.invalid(
                    entry,
                    "combine `weighted_mean` needs `weights` (the indicator holding each former district's denominator, e.g. its population); an average or rate is never recombined without weights".into(),
                ));
            }
            (h @ ("sum" | "weighted_mean" | "none"), _, _) => {
                return Err(self.invalid(
                    entry,
                    format!(
                        "combine `{h}` takes {}",
                        match h {
                            "sum" => "no other key",
                            "weighted_mean" => "only `weights`",
                            _ => "only `reason`",
                        }
                    ),
                ));
            }
            (other, _, _) => {
                return Err(self.invalid(
                    entry,
                    format!("unknown combine `{other}`; expected \"sum\", {{ how = \"weighted_mean\", weights = \"<indicator id>\" }} or {{ how = \"none\", reason = \"...\" }}"),
                ));
            }
        };
        if categorical && !matches!(combine, Combine::Never { .. }) {
            return Err(self.invalid(
                entry,
                "categories cannot be summed or averaged; a categorical indicator takes only combine = { how = \"none\" }".into(),
            ));
        }
        Ok(Some(combine))
    }

    /// Ids go into URLs: lower-case ASCII letters, digits and underscores.
    /// Checks a `[[derived]]` entry against the resolved tables and the entries before it.
    fn derived(
        &self,
        d: &DerivedEntry,
        catalog: &Catalog,
        earlier: &[DerivedEntry],
    ) -> Result<(), CatalogError> {
        self.check_id(&d.id)?;
        let layer_ids = || join_ids(catalog.layers.iter().map(|l| l.id.as_str()));
        let unknown =
            |kind: &'static str, id: &str, known: String| CatalogError::UnknownReference {
                catalog: self.catalog.clone(),
                entry: d.id.clone(),
                kind,
                id: id.to_string(),
                known,
            };
        if catalog.layer(&d.layer).is_none() {
            return Err(unknown("layer", &d.layer, layer_ids()));
        }
        // Indicators of a layer: its tables' and the derived entries before this one.
        let indicators_of = |layer: &str| -> Vec<&str> {
            catalog
                .indicators_for_layer(layer)
                .into_iter()
                .map(|(_, i)| i.id.as_str())
                .chain(
                    earlier
                        .iter()
                        .filter(|e| e.layer == layer)
                        .map(|e| e.id.as_str()),
                )
                .collect()
        };
        let only = |set: bool, option: &str, method: &str| {
            if set {
                Err(self.invalid(
                    &d.id,
                    format!("`{option}` applies to method = \"{method}\" only"),
                ))
            } else {
                Ok(())
            }
        };
        if d.method != DerivedMethod::Series && d.indicator.trim().is_empty() {
            return Err(self.invalid(
                &d.id,
                "`indicator` is needed: the indicator aggregated or clustered".into(),
            ));
        }
        if d.method != DerivedMethod::Series && !d.periods.is_empty() {
            only(true, "periods", "series")?;
        }
        let check_refs = |refs: &[&String], available: &[&str]| -> Result<(), CatalogError> {
            for id in refs {
                if !available.contains(&id.as_str()) {
                    return Err(unknown(
                        "indicator",
                        id,
                        join_ids(available.iter().copied()),
                    ));
                }
            }
            Ok(())
        };
        let lisa_options = [
            (d.england_only.is_some(), "england_only"),
            (d.permutations.is_some(), "permutations"),
            (d.seed.is_some(), "seed"),
            (d.alpha.is_some(), "alpha"),
            (d.knn.is_some(), "knn"),
        ];
        let aggregate_options = [
            (d.from.is_some(), "from"),
            (d.from_table.is_some(), "from_table"),
            (d.group_by.is_some(), "group_by"),
            (d.how.is_some(), "how"),
            (d.class.is_some(), "class"),
            (d.weights.is_some(), "weights"),
            (d.via.is_some(), "via"),
            (d.key.is_some(), "key"),
        ];
        match d.method {
            DerivedMethod::Aggregate => {
                for (set, option) in lisa_options {
                    only(set, option, "lisa")?;
                }
                if d.how.is_none() {
                    return Err(self.invalid(
                        &d.id,
                        "method = \"aggregate\" needs `how` (mean, weighted-mean, sum, median, min, max or share)".into(),
                    ));
                }
                let refs: Vec<&String> = std::iter::once(&d.indicator).chain(&d.weights).collect();
                match (&d.from, &d.from_table) {
                    (Some(from), None) => {
                        if catalog.layer(from).is_none() {
                            return Err(unknown("layer", from, layer_ids()));
                        }
                        if from == &d.layer {
                            return Err(self.invalid(
                                &d.id,
                                format!("`from` must be another layer than `layer` ({from})"),
                            ));
                        }
                        if d.group_by.is_some() {
                            return Err(self.invalid(
                                &d.id,
                                "`group_by` names a column of `from_table`; a layer's areas find their district by `key` or `via`".into(),
                            ));
                        }
                        let available = indicators_of(from);
                        check_refs(&refs, &available)?;
                    }
                    (None, Some(table)) => self.derived_from_table(d, catalog, table, &refs)?,
                    _ => {
                        return Err(self.invalid(
                            &d.id,
                            "method = \"aggregate\" needs `from` (a layer whose areas are aggregated) or `from_table` (a table whose rows are, with `group_by`), not both".into(),
                        ));
                    }
                }
            }
            DerivedMethod::Lisa => {
                for (set, option) in aggregate_options {
                    only(set, option, "aggregate")?;
                }
                check_refs(&[&d.indicator], &indicators_of(&d.layer))?;
            }
            DerivedMethod::Series => {
                for (set, option) in lisa_options {
                    only(set, option, "lisa")?;
                }
                for (set, option) in aggregate_options {
                    only(set, option, "aggregate")?;
                }
                if !d.indicator.is_empty() {
                    return Err(self.invalid(
                        &d.id,
                        "a series takes its indicators from `periods`, not `indicator`".into(),
                    ));
                }
                if d.periods.is_empty() {
                    return Err(self.invalid(
                        &d.id,
                        "method = \"series\" needs `periods = [{ label = \"2019\", indicator = \"...\" }, ...]`".into(),
                    ));
                }
                let mut labels = HashSet::new();
                for p in &d.periods {
                    if p.label.trim().is_empty() || !labels.insert(p.label.as_str()) {
                        return Err(self.invalid(
                            &d.id,
                            format!("period label {:?} is empty or repeated", p.label),
                        ));
                    }
                }
                let refs: Vec<&String> = d.periods.iter().map(|p| &p.indicator).collect();
                check_refs(&refs, &indicators_of(&d.layer))?;
            }
        }
        Ok(())
    }

    /// Checks an aggregate `from_table`: a catalogued table, with `group_by` one of its
    /// columns, whose indicators include the ones aggregated; `via` and `key` do not apply.
    fn derived_from_table(
        &self,
        d: &DerivedEntry,
        catalog: &Catalog,
        table: &str,
        refs: &[&String],
    ) -> Result<(), CatalogError> {
        let Some(source) = catalog.source(table) else {
            return Err(CatalogError::UnknownReference {
                catalog: self.catalog.clone(),
                entry: d.id.clone(),
                kind: "source",
                id: table.to_string(),
                known: join_ids(catalog.sources.iter().map(|s| s.id.as_str())),
            });
        };
        for (set, option) in [(d.via.is_some(), "via"), (d.key.is_some(), "key")] {
            if set {
                return Err(self.invalid(
                    &d.id,
                    format!("`{option}` applies to `from` (a layer); a table's rows find their district by `group_by`"),
                ));
            }
        }
        let Some(group_by) = &d.group_by else {
            return Err(self.invalid(
                &d.id,
                format!("`from_table` needs `group_by`, the column of {table} holding each row's district code"),
            ));
        };
        let header = self.header(&d.id, &source.path, source.encoding)?;
        self.need_column(&d.id, &source.path, &header, group_by)?;
        let available: Vec<&str> = source.indicators.iter().map(|i| i.id.as_str()).collect();
        for id in refs {
            if !available.contains(&id.as_str()) {
                return Err(CatalogError::UnknownReference {
                    catalog: self.catalog.clone(),
                    entry: d.id.clone(),
                    kind: "indicator",
                    id: (*id).clone(),
                    known: join_ids(available.iter().copied()),
                });
            }
        }
        Ok(())
    }

    fn check_id(&self, id: &str) -> Result<(), CatalogError> {
        let ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.invalid(id, "ids must be snake_case (a-z, 0-9, _)".into()))
        }
    }

    fn invalid(&self, entry: &str, message: String) -> CatalogError {
        CatalogError::Invalid {
            catalog: self.catalog.clone(),
            entry: entry.to_string(),
            message,
        }
    }

    fn existing(&self, entry: &str, file: &str) -> Result<PathBuf, CatalogError> {
        let path = self.data_dir.join(file);
        if path.is_file() {
            Ok(path)
        } else {
            Err(CatalogError::MissingFile {
                catalog: self.catalog.clone(),
                entry: entry.to_string(),
                file: path,
            })
        }
    }

    fn header(
        &self,
        entry: &str,
        path: &Path,
        encoding: TextEncoding,
    ) -> Result<Vec<String>, CatalogError> {
        csv_text::read_header(path, encoding).map_err(|e| CatalogError::Table {
            catalog: self.catalog.clone(),
            entry: entry.to_string(),
            source: Box::new(e),
        })
    }

    fn need_column(
        &self,
        entry: &str,
        path: &Path,
        header: &[String],
        column: &str,
    ) -> Result<(), CatalogError> {
        if header.iter().any(|h| h == column) {
            Ok(())
        } else {
            Err(CatalogError::MissingColumn {
                catalog: self.catalog.clone(),
                entry: entry.to_string(),
                column: column.to_string(),
                file: path.to_path_buf(),
                header: header.join(", "),
            })
        }
    }

    fn lookup(&self, raw: RawLookup) -> Result<LookupSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, raw.encoding)?;
        self.need_column(&raw.id, &path, &header, &raw.key_column)?;
        for c in &raw.columns {
            self.need_column(&raw.id, &path, &header, c)?;
        }
        Ok(LookupSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            provenance: Provenance {
                publisher: Some(raw.publisher),
                licence: raw.licence,
                attribution: raw.attribution,
                notes: raw.notes,
            },
            encoding: raw.encoding,
            key_column: raw.key_column,
            columns: raw.columns,
        })
    }

    fn points(&self, raw: RawPoints) -> Result<PointsSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, TextEncoding::Utf8)?;
        for c in [
            &raw.id_column,
            &raw.name_column,
            &raw.x_column,
            &raw.y_column,
        ] {
            self.need_column(&raw.id, &path, &header, c)?;
        }
        Ok(PointsSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            provenance: Provenance {
                publisher: Some(raw.publisher),
                licence: raw.licence,
                attribution: raw.attribution,
                notes: raw.notes,
            },
            id_column: raw.id_column,
            name_column: raw.name_column,
            x_column: raw.x_column,
            y_column: raw.y_column,
            crs: raw.crs,
        })
    }

    fn source(
        &self,
        raw: RawSource,
        layer_ids: &[&str],
        lookups: &[LookupSpec],
    ) -> Result<SourceSpec, CatalogError> {
        self.check_id(&raw.id)?;
        let path = self.existing(&raw.id, &raw.file)?;
        let header = self.header(&raw.id, &path, raw.encoding)?;
        let need = |entry: &str, column: &str| self.need_column(entry, &path, &header, column);
        need(&raw.id, &raw.code_column)?;
        if let Some(c) = &raw.name_column {
            need(&raw.id, c)?;
        }
        for c in raw.filters.keys() {
            need(&raw.id, c)?;
        }
        if raw.layers.is_empty() {
            return Err(self.invalid(&raw.id, "`layers` is empty".into()));
        }
        for layer in &raw.layers {
            if !layer_ids.contains(&layer.as_str()) {
                return Err(CatalogError::UnknownReference {
                    catalog: self.catalog.clone(),
                    entry: raw.id.clone(),
                    kind: "layer",
                    id: layer.clone(),
                    known: layer_ids.join(", "),
                });
            }
        }
        let layout = match raw.layout {
            RawLayout::Wide => {
                if raw.period_column.is_some() || raw.value_column.is_some() {
                    return Err(self.invalid(
                        &raw.id,
                        "a wide source has no `period_column`/`value_column`; name columns per indicator".into(),
                    ));
                }
                Layout::Wide
            }
            RawLayout::Long => {
                let Some(period_column) = raw.period_column.clone() else {
                    return Err(self.invalid(&raw.id, "a long source needs `period_column`".into()));
                };
                need(&raw.id, &period_column)?;
                if let Some(v) = &raw.value_column {
                    need(&raw.id, v)?;
                }
                Layout::Long {
                    period_column,
                    value_column: raw.value_column.clone(),
                }
            }
        };
        if raw.indicator.is_empty() {
            return Err(self.invalid(&raw.id, "a source needs at least one indicator".into()));
        }
        let mut indicators = Vec::with_capacity(raw.indicator.len());
        for ri in raw.indicator {
            self.check_id(&ri.id)?;
            let values = match &layout {
                Layout::Wide => self.wide_values(&ri, raw.period.as_deref())?,
                Layout::Long { value_column, .. } => {
                    if ri.column.is_some() || !ri.columns.is_empty() || ri.column_pattern.is_some()
                    {
                        return Err(self.invalid(
                            &ri.id,
                            "a long source's indicator takes `value_column`, not `column`/`columns`/`column_pattern`".into(),
                        ));
                    }
                    let Some(v) = ri.value_column.clone().or_else(|| value_column.clone()) else {
                        return Err(self.invalid(
                            &ri.id,
                            "no `value_column` on the indicator or its source".into(),
                        ));
                    };
                    ValueSpec::Long { value_column: v }
                }
            };
            match &values {
                ValueSpec::Columns(cols) => {
                    for (c, _) in cols {
                        need(&ri.id, c)?;
                    }
                }
                ValueSpec::ColumnPattern(p) => {
                    let matched = csv_text::match_pattern(p, &header);
                    if matched.is_empty() {
                        return Err(CatalogError::MissingColumn {
                            catalog: self.catalog.clone(),
                            entry: ri.id.clone(),
                            column: p.clone(),
                            file: path.clone(),
                            header: header.join(", "),
                        });
                    }
                }
                ValueSpec::Long { value_column } => need(&ri.id, value_column)?,
            }
            for c in ri.filters.keys() {
                need(&ri.id, c)?;
            }
            let categories = self.categories(&ri, lookups)?;
            if let Some(scale) = &ri.ordinal {
                scale.check().map_err(|m| self.invalid(&ri.id, m))?;
                if ri.categorical {
                    return Err(self.invalid(
                        &ri.id,
                        "an indicator is categorical or ordinal, not both".into(),
                    ));
                }
                if let Some(style) = &ri.style
                    && (style.scheme.is_some() || style.k.is_some() || style.breaks.is_some())
                {
                    return Err(self.invalid(
                        &ri.id,
                        "an ordinal indicator has one class per value: its style takes `palette` only, not `scheme`, `k` or `breaks`".into(),
                    ));
                }
            }
            let combine = self.combine(&ri.id, ri.combine, categories.is_some())?;
            indicators.push(IndicatorSpec {
                id: ri.id,
                title: ri.title,
                unit: ri.unit,
                direction: ri.direction,
                values,
                filters: to_filters(ri.filters),
                default_period: ri.default_period,
                periods_note: ri.periods_note,
                description: ri.description,
                combine,
                categories,
                style: ri.style,
                ordinal: ri.ordinal,
            });
        }
        Ok(SourceSpec {
            id: raw.id,
            title: raw.title,
            file: raw.file,
            path,
            provenance: Provenance {
                publisher: Some(raw.publisher),
                licence: raw.licence,
                attribution: raw.attribution,
                notes: raw.notes,
            },
            encoding: raw.encoding,
            layout,
            code_column: raw.code_column,
            name_column: raw.name_column,
            filters: to_filters(raw.filters),
            layers: raw.layers,
            indicators,
        })
    }

    fn wide_values(
        &self,
        ri: &RawIndicator,
        source_period: Option<&str>,
    ) -> Result<ValueSpec, CatalogError> {
        if ri.value_column.is_some() {
            return Err(self.invalid(
                &ri.id,
                "a wide source's indicator takes `column`, `columns` or `column_pattern`, not `value_column`".into(),
            ));
        }
        let given = usize::from(ri.column.is_some())
            + usize::from(!ri.columns.is_empty())
            + usize::from(ri.column_pattern.is_some());
        if given != 1 {
            return Err(self.invalid(
                &ri.id,
                "give exactly one of `column`, `columns`, `column_pattern`".into(),
            ));
        }
        if let Some(column) = &ri.column {
            let Some(period) = ri.period.as_deref().or(source_period) else {
                return Err(self.invalid(
                    &ri.id,
                    "`column` needs a `period` label (on the indicator or its source)".into(),
                ));
            };
            return Ok(ValueSpec::Columns(vec![(
                column.clone(),
                period.to_string(),
            )]));
        }
        if let Some(pattern) = &ri.column_pattern {
            if pattern.matches("{period}").count() != 1 {
                return Err(self.invalid(
                    &ri.id,
                    format!("`column_pattern` must contain `{{period}}` once: `{pattern}`"),
                ));
            }
            return Ok(ValueSpec::ColumnPattern(pattern.clone()));
        }
        Ok(ValueSpec::Columns(
            ri.columns
                .iter()
                .map(|c| (c.column.clone(), c.period.clone()))
                .collect(),
        ))
    }

    fn categories(
        &self,
        ri: &RawIndicator,
        lookups: &[LookupSpec],
    ) -> Result<Option<CategorySpec>, CatalogError> {
        let uses_category_keys = ri.category_names.is_some()
            || ri.category_name_column.is_some()
            || ri.category_code_prefix.is_some()
            || ri.category_code_suffix.is_some();
        if !ri.categorical {
            if uses_category_keys {
                return Err(
                    self.invalid(&ri.id, "`category_*` keys need `categorical = true`".into())
                );
            }
            return Ok(None);
        }
        let names_column = match &ri.category_names {
            Some(lookup_id) => {
                let Some(lookup) = lookups.iter().find(|l| &l.id == lookup_id) else {
                    return Err(CatalogError::UnknownReference {
                        catalog: self.catalog.clone(),
                        entry: ri.id.clone(),
                        kind: "lookup",
                        id: lookup_id.clone(),
                        known: join_ids(lookups.iter().map(|l| l.id.as_str())),
                    });
                };
                let column = ri
                    .category_name_column
                    .clone()
                    .unwrap_or_else(|| "name".to_string());
                if !lookup.columns.contains(&column) {
                    return Err(self.invalid(
                        &ri.id,
                        format!(
                            "lookup `{}` does not carry column `{column}` (it carries: {})",
                            lookup.id,
                            lookup.columns.join(", ")
                        ),
                    ));
                }
                Some(column)
            }
            None => None,
        };
        Ok(Some(CategorySpec {
            names_lookup: ri.category_names.clone(),
            names_column,
            code_prefix: ri.category_code_prefix,
            code_suffix: ri.category_code_suffix.clone().unwrap_or_default(),
        }))
    }
}

fn to_filters(map: BTreeMap<String, String>) -> Vec<Filter> {
    map.into_iter()
        .map(|(column, value)| Filter { column, value })
        .collect()
}

/// A `[[layer]]` entry with its credits gathered into a [`Provenance`].
/// Checked beforehand: either `merge`, or `file`, `code_field` and `name_field`.
fn layer_meta(raw: RawLayer) -> LayerMeta {
    let merge = raw.merge;
    let (file, code_field, name_field) = match &merge {
        Some(m) => (m.lookup.clone(), m.new_code.clone(), m.new_name.clone()),
        None => (
            raw.file.unwrap_or_default(),
            raw.code_field.unwrap_or_default(),
            raw.name_field.unwrap_or_default(),
        ),
    };
    LayerMeta {
        id: raw.id,
        title: raw.title,
        file,
        code_field,
        name_field,
        merge: merge.clone(),
        crs: raw.crs,
        vintage: raw.vintage,
        provenance: Provenance {
            publisher: raw.publisher,
            licence: raw.licence,
            attribution: raw.attribution,
            notes: raw.notes,
        },
        attributes: match &merge {
            // The codes each merged district was made of.
            Some(_) => raw
                .attributes
                .into_iter()
                .filter(|a| a != "merged_from")
                .chain(std::iter::once("merged_from".to_string()))
                .collect(),
            None => raw.attributes,
        },
        default_indicator: raw.default_indicator,
        invalid_geometries: raw
            .invalid_geometries
            .iter()
            .map(|c| crate::codes::normalise_code(c))
            .collect(),
    }
}
