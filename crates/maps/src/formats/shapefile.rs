//! A zipped ESRI Shapefile: `{layer}.shp`, `.shx` and `.dbf` from the `shapefile` and `dbase`
//! crates, `.prj` (the CRS as WKT), `.cpg` (`UTF-8`: the `.dbf` text is UTF-8) and
//! `{layer}_fields.txt`, the table of field names. GDAL (3.1 and later) and QGIS open the
//! `.shp.zip` as it is.
//!
//! dBase limits what a field can be, so:
//! - names are at most 10 ASCII characters ([`dbf_names`]: the full name cut, keeping a
//!   trailing period such as `_2021`, and numbered `_1`, `_2`, ... where two would clash); the
//!   `_fields.txt` file maps each to its full name, type and description;
//! - text is at most 254 bytes (longer values, only ever a long no-data reason, are cut at a
//!   character boundary), and an empty text reads back as null (dBase has no null);
//! - numbers are decimal text (`N`) as wide as the column's values need, with as many decimals
//!   as its most precise value (up to 15; at least 1, so GIS reads the field as real).

use std::io::{Cursor, Write};

use ::shapefile::dbase::{self, FieldName, FieldWriter, TableWriterBuilder, WritableRecord};
use ::shapefile::{Point, Polygon, PolygonRing, ShapeWriter};
use zip::write::SimpleFileOptions;

use super::{CHECK_EVERY, Cell, FieldKind, Table};
use crate::error::MapError;

/// The longest dBase field name.
const NAME_LEN: usize = 10;
/// The longest dBase character field.
const TEXT_LEN: usize = 254;
/// The most decimals a numeric field keeps (what a double holds).
const MAX_DECIMALS: usize = 15;

fn shp_error(e: impl std::error::Error + Send + Sync + 'static) -> MapError {
    MapError::internal("writing the Shapefile", e)
}

/// dBase names for `names`, in order: at most 10 ASCII letters, digits or `_`, unique
/// ignoring case.
///
/// ```
/// use maps::formats::shapefile::dbf_names;
/// let names: Vec<String> = ["code", "median_weekly_pay_2020", "median_weekly_pay_2021",
///     "population", "population_density"].map(String::from).to_vec();
/// assert_eq!(dbf_names(&names), ["code", "media_2020", "media_2021", "population", "populati_1"]);
/// ```
pub fn dbf_names(names: &[String]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    names
        .iter()
        .map(|full| {
            let clean: String = full
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            // A trailing period (`_2021`, `_2020_21`) is kept when the name must be cut.
            let tail_start = clean
                .char_indices()
                .find(|&(i, c)| {
                    c == '_'
                        && clean[i..].chars().all(|c| c == '_' || c.is_ascii_digit())
                        && clean[i..].chars().any(|c| c.is_ascii_digit())
                })
                .map(|(i, _)| i);
            let first = match tail_start {
                Some(t) if clean.len() > NAME_LEN && clean.len() - t < NAME_LEN - 1 && t > 0 => {
                    let tail = &clean[t..];
                    format!("{}{tail}", &clean[..NAME_LEN - tail.len()])
                }
                _ => clean.chars().take(NAME_LEN).collect(),
            };
            let taken = |n: &str| used.iter().any(|u| u.eq_ignore_ascii_case(n));
            let mut name = first.clone();
            let mut k = 1;
            while taken(&name) {
                let suffix = format!("_{k}");
                let stem: String = first.chars().take(NAME_LEN - suffix.len()).collect();
                name = format!("{stem}{suffix}");
                k += 1;
            }
            used.push(name.clone());
            name
        })
        .collect()
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A numeric column's width and decimals, from its values.
fn numeric_layout(values: impl Iterator<Item = f64>) -> (usize, usize) {
    let (mut int_len, mut decimals) = (1, 1);
    for v in values {
        let shortest = v.to_string();
        let (int, frac) = shortest.split_once('.').unwrap_or((&shortest, ""));
        int_len = int_len.max(int.len());
        decimals = decimals.max(frac.len());
    }
    let decimals = decimals.min(MAX_DECIMALS);
    (int_len + 1 + decimals, decimals)
}

/// One dBase value.
enum DbfValue {
    Text(Option<String>),
    Number(Option<f64>),
}

struct Record(Vec<DbfValue>);

impl WritableRecord for Record {
    fn write_using<W: Write>(
        &self,
        field_writer: &mut FieldWriter<'_, W>,
    ) -> Result<(), dbase::FieldError> {
        for v in &self.0 {
            match v {
                DbfValue::Text(s) => field_writer.write_next_field_value(s)?,
                DbfValue::Number(x) => field_writer.write_next_field_value(x)?,
            }
        }
        Ok(())
    }
}

/// The polygon of a district for the `.shp` (the crate orders rings as Shapefile wants:
/// exteriors clockwise, holes counter-clockwise).
fn shp_polygon(mp: &geo_types::MultiPolygon<f64>) -> Option<Polygon> {
    let ring = |ls: &geo_types::LineString<f64>| -> Vec<Point> {
        ls.0.iter().map(|c| Point::new(c.x, c.y)).collect()
    };
    let mut rings = Vec::new();
    for p in &mp.0 {
        rings.push(PolygonRing::Outer(ring(p.exterior())));
        for h in p.interiors() {
            rings.push(PolygonRing::Inner(ring(h)));
        }
    }
    (!rings.is_empty()).then(|| Polygon::with_rings(rings))
}

/// `dbf` with the "last update" date of its header (bytes 1 to 3: years since 1900, month,
/// day) set to the date of the process's first `.dbf`, so the same request gives the same
/// bytes for as long as the server runs (its downloads carry a strong ETag).
fn same_date(mut dbf: Vec<u8>) -> Vec<u8> {
    static DATE: std::sync::OnceLock<[u8; 3]> = std::sync::OnceLock::new();
    if let Some(header) = dbf.get_mut(1..4) {
        let first = DATE.get_or_init(|| [header[0], header[1], header[2]]);
        header.copy_from_slice(first);
    }
    dbf
}

/// The whole zipped Shapefile of `table`.
pub fn write(table: &Table, cancelled: &dyn Fn() -> bool) -> Result<Vec<u8>, MapError> {
    let full: Vec<String> = table.fields.iter().map(|f| f.name.clone()).collect();
    let names = dbf_names(&full);
    // The values first: the .dbf header needs each column's width.
    let mut records: Vec<Record> = Vec::with_capacity(table.rows.len());
    for (n, &i) in table.rows.iter().enumerate() {
        if n % CHECK_EVERY == 0 && cancelled() {
            return Err(MapError::cancelled("the Shapefile export"));
        }
        records.push(Record(
            table
                .cells(i)
                .into_iter()
                .zip(&table.fields)
                .map(|(c, f)| match (f.kind, c) {
                    (FieldKind::Real, Cell::Real(x)) => DbfValue::Number(Some(x)),
                    (FieldKind::Real, _) => DbfValue::Number(None),
                    (FieldKind::Text, Cell::Text(s)) => {
                        DbfValue::Text(Some(cut(s, TEXT_LEN).to_string()))
                    }
                    (FieldKind::Text, _) => DbfValue::Text(None),
                })
                .collect(),
        ));
    }
    let mut builder = TableWriterBuilder::new();
    for (k, (f, name)) in table.fields.iter().zip(&names).enumerate() {
        let field_name = FieldName::try_from(name.as_str())
            .map_err(|e| MapError::internal(format!("dBase field name {name:?}"), e))?;
        let column = records.iter().map(|r| &r.0[k]);
        builder = match f.kind {
            FieldKind::Text => {
                let len = column
                    .filter_map(|v| match v {
                        DbfValue::Text(Some(s)) => Some(s.len()),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(1)
                    .max(1);
                builder.add_character_field(field_name, u8::try_from(len).unwrap_or(u8::MAX))
            }
            FieldKind::Real => {
                let (width, decimals) = numeric_layout(column.filter_map(|v| match v {
                    DbfValue::Number(x) => *x,
                    DbfValue::Text(_) => None,
                }));
                builder.add_numeric_field(
                    field_name,
                    u8::try_from(width).unwrap_or(u8::MAX),
                    u8::try_from(decimals).unwrap_or(15),
                )
            }
        };
    }

    let (mut shp, mut shx, mut dbf) = (
        Cursor::new(Vec::new()),
        Cursor::new(Vec::new()),
        Cursor::new(Vec::new()),
    );
    {
        let mut shapes = ShapeWriter::with_shx(&mut shp, &mut shx);
        let mut rows = builder.build_with_dest(&mut dbf);
        for (n, (&i, record)) in table.rows.iter().zip(&records).enumerate() {
            if n % CHECK_EVERY == 0 && cancelled() {
                return Err(MapError::cancelled("the Shapefile export"));
            }
            let geometry = table.geometry(i)?;
            let polygon = shp_polygon(&geometry).ok_or_else(|| {
                MapError::internal(
                    "writing the Shapefile",
                    format!("district {} has no polygon", table.layer.districts[i].code),
                )
            })?;
            shapes.write_shape(&polygon).map_err(shp_error)?;
            rows.write_record(record).map_err(shp_error)?;
        }
        shapes.finalize().map_err(shp_error)?;
        rows.finalize().map_err(shp_error)?;
    }
    let dbf = same_date(dbf.into_inner());

    let mut fields_txt = String::from("shapefile_field\tfield\ttype\tdescription\n");
    for (f, name) in table.fields.iter().zip(&names) {
        let kind = match f.kind {
            FieldKind::Text => "text",
            FieldKind::Real => "real",
        };
        fields_txt.push_str(&format!("{name}\t{}\t{kind}\t{}\n", f.name, f.description));
    }
    fields_txt.push_str(&format!("\n{}\n", table.description()));

    let base = table.name();
    let files: [(String, &[u8]); 6] = [
        (format!("{base}.shp"), shp.get_ref()),
        (format!("{base}.shx"), shx.get_ref()),
        (format!("{base}.dbf"), &dbf),
        (format!("{base}.prj"), table.srs.wkt.as_bytes()),
        (format!("{base}.cpg"), b"UTF-8"),
        (format!("{base}_fields.txt"), fields_txt.as_bytes()),
    ];
    let zip_error = |e: zip::result::ZipError| MapError::internal("writing the zip archive", e);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(bytes)
            .map_err(|e| MapError::internal("writing the zip archive", e))?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields_fit_their_widest_and_most_precise_value() {
        assert_eq!(numeric_layout([35.037, 1234.5, -0.25].into_iter()), (8, 3));
        // Whole numbers keep one decimal, so GIS reads a real field.
        assert_eq!(numeric_layout([12.0, 345.0].into_iter()), (5, 1));
        assert_eq!(numeric_layout(std::iter::empty()), (3, 1));
    }

    #[test]
    fn names_are_short_ascii_and_unique_ignoring_case() {
        let names: Vec<String> = [
            "Name",
            "name",
            "gcse_eng_maths_2020_21",
            "gcse_eng_maths_2021_22",
            "Ynys Môn",
        ]
        .map(String::from)
        .to_vec();
        let short = dbf_names(&names);
        assert_eq!(
            short,
            ["Name", "name_1", "gc_2020_21", "gc_2021_22", "Ynys_M_n"]
        );
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        assert_eq!(cut("Môn", 2), "M");
        assert_eq!(cut("Môn", 3), "Mô");
        assert_eq!(cut("abc", 254), "abc");
    }
}
