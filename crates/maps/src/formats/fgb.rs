//! FlatGeobuf through the `flatgeobuf` crate: MultiPolygon features with the packed Hilbert
//! R-tree index (features in Hilbert order, so a client reads a bbox with a few range
//! requests), the CRS in the header (EPSG code and WKT), text fields as String and numbers
//! as Double (a missing value is an absent property, FlatGeobuf's null). The field
//! descriptions and the attribution go in the header's metadata as JSON.

use flatgeobuf::geozero::ColumnValue;
use flatgeobuf::geozero::PropertyProcessor;
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use serde_json::json;

use super::{CHECK_EVERY, Cell, FieldKind, Table};
use crate::error::MapError;

fn fgb_error(e: impl std::error::Error + Send + Sync + 'static) -> MapError {
    MapError::internal("writing the FlatGeobuf", e)
}

/// The whole FlatGeobuf of `table`.
pub fn write(table: &Table, cancelled: &dyn Fn() -> bool) -> Result<Vec<u8>, MapError> {
    let description = table.description();
    let metadata = json!({
        "attribution": table.attribution,
        "licence": table.layer.meta.provenance.licence,
        "fields": table
            .fields
            .iter()
            .map(|f| (f.name.clone(), json!(f.description)))
            .collect::<serde_json::Map<_, _>>(),
    })
    .to_string();
    let srs = &table.srs;
    let options = FgbWriterOptions {
        write_index: true,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: srs.epsg,
            name: Some(srs.name),
            wkt: Some(&srs.wkt),
            ..Default::default()
        },
        title: Some(&table.layer.meta.title),
        description: Some(&description),
        metadata: Some(&metadata),
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(table.name(), GeometryType::MultiPolygon, options)
        .map_err(fgb_error)?;
    for f in &table.fields {
        let kind = match f.kind {
            FieldKind::Text => ColumnType::String,
            FieldKind::Real => ColumnType::Double,
        };
        fgb.add_column(&f.name, kind, |_, col| col.nullable = true);
    }
    for (n, &i) in table.rows.iter().enumerate() {
        if n % CHECK_EVERY == 0 && cancelled() {
            return Err(MapError::cancelled("the FlatGeobuf export"));
        }
        let geometry = geo_types::Geometry::MultiPolygon(table.geometry(i)?);
        let cells = table.cells(i);
        let mut failed = None;
        fgb.add_feature_geom(geometry, |feature| {
            for (k, (cell, field)) in cells.iter().zip(&table.fields).enumerate() {
                let value = match cell {
                    Cell::Null => continue,
                    Cell::Text(s) => ColumnValue::String(s),
                    Cell::Real(x) => ColumnValue::Double(*x),
                };
                if let Err(e) = feature.property(k, &field.name, &value) {
                    failed.get_or_insert(e);
                }
            }
        })
        .map_err(fgb_error)?;
        if let Some(e) = failed {
            return Err(fgb_error(e));
        }
    }
    let mut out = Vec::new();
    fgb.write(&mut out).map_err(fgb_error)?;
    Ok(out)
}
