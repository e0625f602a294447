//! OGC GeoPackage 1.3 (OGC 12-128r17) written through SQLite: the `gpkg_spatial_ref_sys`,
//! `gpkg_contents`, `gpkg_geometry_columns` and `gpkg_extensions` tables, one feature table
//! named after the layer (`fid`, `geom` MULTIPOLYGON, then the fields as TEXT or REAL), and the
//! R-tree spatial index extension (`rtree_{table}_geom` with its six triggers), as GDAL and
//! QGIS write them. Geometries are GeoPackage binary (header with envelope, then WKB) from
//! `geozero`. No crate writes a whole GeoPackage (geozero encodes the geometry only), hence
//! the SQL here.
//!
//! SQLite needs a file: the package is built in a temporary directory and read back.

use rusqlite::{Connection, params};

use super::{CHECK_EVERY, Cell, FieldKind, Table, envelope};
use crate::error::MapError;

/// `application_id` of a GeoPackage ("GPKG").
const APPLICATION_ID: i32 = 0x4750_4B47;
/// `user_version` of GeoPackage 1.3.0.
const USER_VERSION: i32 = 10300;

/// The column holding geometries.
const GEOM: &str = "geom";

/// An SQL identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_error(e: rusqlite::Error) -> MapError {
    MapError::internal("writing the GeoPackage", e)
}

/// The whole GeoPackage of `table`.
pub fn write(table: &Table, cancelled: &dyn Fn() -> bool) -> Result<Vec<u8>, MapError> {
    let dir =
        tempfile::tempdir().map_err(|e| MapError::internal("creating a temporary directory", e))?;
    let path = dir.path().join(format!("{}.gpkg", table.name()));
    {
        let mut conn = Connection::open(&path).map_err(sql_error)?;
        fill(&mut conn, table, cancelled)?;
        conn.close().map_err(|(_, e)| sql_error(e))?;
    }
    std::fs::read(&path).map_err(|e| MapError::internal("reading the GeoPackage back", e))
}

/// Creates the GeoPackage tables in `conn` and writes the features of `table`.
fn fill(
    conn: &mut Connection,
    table: &Table,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), MapError> {
    // A file being built: no rollback journal, no fsync (it is renamed or sent once complete).
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
    ))
    .map_err(sql_error)?;
    let tx = conn.transaction().map_err(sql_error)?;
    tx.execute_batch(CORE_TABLES).map_err(sql_error)?;
    let srs = &table.srs;
    if srs.epsg != 4326 {
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization,
                 organization_coordsys_id, definition, description)
             VALUES (?1, ?2, 'EPSG', ?2, ?3, ?4)",
            params![srs.name, srs.epsg, srs.wkt, srs.name],
        )
        .map_err(sql_error)?;
    }

    let name = table.name();
    let t = ident(name);
    let mut columns = vec![
        "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_string(),
        format!("{} MULTIPOLYGON", ident(GEOM)),
    ];
    for f in &table.fields {
        let kind = match f.kind {
            FieldKind::Text => "TEXT",
            FieldKind::Real => "REAL",
        };
        columns.push(format!("{} {kind}", ident(&f.name)));
    }
    tx.execute_batch(&format!("CREATE TABLE {t} ({});", columns.join(", ")))
        .map_err(sql_error)?;

    let rtree = format!("rtree_{name}_{GEOM}");
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy);",
        ident(&rtree)
    ))
    .map_err(sql_error)?;

    let placeholders: Vec<String> = (0..table.fields.len() + 2)
        .map(|k| format!("?{}", k + 1))
        .collect();
    let mut names = vec!["fid".to_string(), ident(GEOM)];
    names.extend(table.fields.iter().map(|f| ident(&f.name)));
    let mut bounds: Option<[f64; 4]> = None;
    {
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO {t} ({}) VALUES ({})",
                names.join(", "),
                placeholders.join(", ")
            ))
            .map_err(sql_error)?;
        let mut insert_rtree = tx
            .prepare(&format!(
                "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
                ident(&rtree)
            ))
            .map_err(sql_error)?;
        for (n, &i) in table.rows.iter().enumerate() {
            if n % CHECK_EVERY == 0 && cancelled() {
                return Err(MapError::cancelled("the GeoPackage export"));
            }
            let fid = i64::try_from(n + 1).unwrap_or(i64::MAX);
            let geometry = table.geometry(i)?;
            let env = envelope(&geometry);
            let blob = geometry_blob(geometry, srs.epsg, env)?;
            let mut values: Vec<rusqlite::types::Value> = vec![fid.into(), blob.into()];
            for cell in table.cells(i) {
                values.push(match cell {
                    Cell::Null => rusqlite::types::Value::Null,
                    Cell::Text(s) => s.to_string().into(),
                    Cell::Real(x) => x.into(),
                });
            }
            insert
                .execute(rusqlite::params_from_iter(values))
                .map_err(sql_error)?;
            if let Some([x0, y0, x1, y1]) = env {
                insert_rtree
                    .execute(params![fid, x0, x1, y0, y1])
                    .map_err(sql_error)?;
                let b = bounds.get_or_insert([x0, y0, x1, y1]);
                *b = [b[0].min(x0), b[1].min(y0), b[2].max(x1), b[3].max(y1)];
            }
        }
    }

    let [min_x, min_y, max_x, max_y] = bounds.map_or([None; 4], |b| b.map(Some));
    // One `last_change` per process, so the same request gives the same bytes (the server's
    // downloads carry a strong ETag and answer byte ranges).
    static STAMP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stamp = match STAMP.get() {
        Some(s) => s.clone(),
        None => {
            let now: String = tx
                .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |r| {
                    r.get(0)
                })
                .map_err(sql_error)?;
            STAMP.get_or_init(|| now).clone()
        }
    };
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,
             min_x, min_y, max_x, max_y, srs_id, last_change)
         VALUES (?1, 'features', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            name,
            table.layer.meta.title,
            table.description(),
            min_x,
            min_y,
            max_x,
            max_y,
            srs.epsg,
            stamp
        ],
    )
    .map_err(sql_error)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, 'MULTIPOLYGON', ?3, 0, 0)",
        params![name, GEOM, srs.epsg],
    )
    .map_err(sql_error)?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index',
             'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![name, GEOM],
    )
    .map_err(sql_error)?;
    // The triggers keep the index in step with later edits in QGIS or GDAL (they call the
    // ST_* functions those provide); created after the bulk insert, which filled the index.
    tx.execute_batch(&rtree_triggers(name, GEOM))
        .map_err(sql_error)?;
    tx.commit().map_err(sql_error)
}

/// A GeoPackage geometry blob: the `GP` header with the SRS and the envelope, then WKB.
fn geometry_blob(
    geometry: geo_types::MultiPolygon<f64>,
    srs_id: i32,
    env: Option<[f64; 4]>,
) -> Result<Vec<u8>, MapError> {
    use geozero::{CoordDimensions, ToWkb};
    // The header's envelope is minx, maxx, miny, maxy.
    let envelope = env.map_or_else(Vec::new, |[x0, y0, x1, y1]| vec![x0, x1, y0, y1]);
    geo_types::Geometry::MultiPolygon(geometry)
        .to_gpkg_wkb(CoordDimensions::xy(), Some(srs_id), envelope)
        .map_err(|e| MapError::internal("encoding a GeoPackage geometry", e))
}

/// The tables every GeoPackage has, and the three SRS rows it must have (GeoPackage 1.3
/// requirements 10-11: EPSG:4326 and the undefined Cartesian and geographic systems).
const CORE_TABLES: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
"#;

/// The six triggers of the R-tree extension (GeoPackage 1.3 annex F.3), for table `t` and
/// geometry column `c` (primary key `fid`).
fn rtree_triggers(t: &str, c: &str) -> String {
    let r = ident(&format!("rtree_{t}_{c}"));
    let trigger = |suffix: &str| ident(&format!("rtree_{t}_{c}_{suffix}"));
    let (tq, cq) = (ident(t), ident(c));
    let insert_new = format!(
        "INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.{cq}), ST_MaxX(NEW.{cq}), \
         ST_MinY(NEW.{cq}), ST_MaxY(NEW.{cq}));"
    );
    [
        format!(
            "CREATE TRIGGER {} AFTER INSERT ON {tq} \
             WHEN (NEW.{cq} NOT NULL AND NOT ST_IsEmpty(NEW.{cq})) \
             BEGIN {insert_new} END;",
            trigger("insert")
        ),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE OF {cq} ON {tq} \
             WHEN OLD.fid = NEW.fid AND (NEW.{cq} NOTNULL AND NOT ST_IsEmpty(NEW.{cq})) \
             BEGIN {insert_new} END;",
            trigger("update1")
        ),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE OF {cq} ON {tq} \
             WHEN OLD.fid = NEW.fid AND (NEW.{cq} ISNULL OR ST_IsEmpty(NEW.{cq})) \
             BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
            trigger("update2")
        ),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {tq} \
             WHEN OLD.fid != NEW.fid AND (NEW.{cq} NOTNULL AND NOT ST_IsEmpty(NEW.{cq})) \
             BEGIN DELETE FROM {r} WHERE id = OLD.fid; {insert_new} END;",
            trigger("update3")
        ),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {tq} \
             WHEN OLD.fid != NEW.fid AND (NEW.{cq} ISNULL OR ST_IsEmpty(NEW.{cq})) \
             BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;",
            trigger("update4")
        ),
        format!(
            "CREATE TRIGGER {} AFTER DELETE ON {tq} WHEN OLD.{cq} NOT NULL \
             BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
            trigger("delete")
        ),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn geometry_blobs_carry_the_srs_and_the_envelope_in_geopackage_order() {
        let mp = geo_types::MultiPolygon(vec![
            polygon![(x: -2.0, y: 54.0), (x: -1.0, y: 54.0), (x: -1.0, y: 55.5)],
        ]);
        let blob = geometry_blob(mp, 4326, Some([-2.0, 54.0, -1.0, 55.5])).expect("encoded");
        assert_eq!(&blob[..3], b"GP\0");
        // Flags: little endian, envelope [minx, maxx, miny, maxy] (indicator 1).
        assert_eq!(blob[3] & 0b1110, 0b0010);
        assert_eq!(
            i32::from_le_bytes(blob[4..8].try_into().expect("4 bytes")),
            4326
        );
        let env: Vec<f64> = blob[8..40]
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        assert_eq!(env, [-2.0, -1.0, 54.0, 55.5]);
        // Then WKB: little endian MultiPolygon (6).
        assert_eq!(blob[40], 1);
        assert_eq!(
            u32::from_le_bytes(blob[41..45].try_into().expect("4 bytes")),
            6
        );
    }
}
