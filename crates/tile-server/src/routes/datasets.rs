//! `/datasets`: upload a table (multipart `file` part or a raw body), see what was detected
//! and how it joined, list, show, add a version, delete. Reads are public; writes need a bearer
//! token. Every client error is a 4xx JSON `{"error", "hint"}`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use datasets::{DatasetError, ErrorKind, UploadOptions};
use serde_json::{Value, json};

use crate::admission::{Class, Refused};
use crate::error::{MAX_MESSAGE_CHARS, clip};
use crate::live::{Hub, LiveState};

/// An error answered as JSON with a status of its own (401, 409, 410 are not `ApiError`s).
pub struct DsError {
    status: StatusCode,
    error: String,
    hint: String,
    /// `Retry-After` seconds of a 503.
    retry_after: Option<u64>,
}

impl DsError {
    fn new(status: StatusCode, error: impl Into<String>, hint: impl Into<String>) -> Self {
        DsError {
            status,
            error: error.into(),
            hint: hint.into(),
            retry_after: None,
        }
    }
}

impl From<Refused> for DsError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Busy { .. } => DsError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: e.to_string(),
                hint: e.hint().to_string(),
                retry_after: e.retry_after(),
            },
            Refused::Failed { .. } => {
                tracing::error!(error = %e, "upload task failed");
                DsError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), e.hint())
            }
        }
    }
}

impl From<DatasetError> for DsError {
    fn from(e: DatasetError) -> Self {
        let status = match e.kind {
            ErrorKind::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Storage => {
                tracing::error!(error = %e.message, "dataset storage failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        DsError::new(status, e.message, e.hint)
    }
}

impl IntoResponse for DsError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(json!({
                "error": clip(&self.error, MAX_MESSAGE_CHARS),
                "hint": self.hint,
            })),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, s.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

type DsResult = Result<Response, DsError>;

fn hub(live: &LiveState) -> Result<&Hub, DsError> {
    live.0.hub.as_ref().ok_or_else(|| {
        DsError::new(
            StatusCode::NOT_FOUND,
            "datasets are not enabled on this server",
            "start placemap serve with a state directory (--state DIR or PLACEMAP_STATE)",
        )
    })
}

fn authorise(hub: &Hub, headers: &HeaderMap) -> Result<(), DsError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if hub.authorised(given) {
        Ok(())
    } else {
        Err(DsError::new(
            StatusCode::UNAUTHORIZED,
            "writing datasets needs a token",
            "send Authorization: Bearer TOKEN (the token placemap serve printed, PLACEMAP_TOKEN or --token-file)",
        ))
    }
}

/// The uploaded file and the form/query fields.
struct Upload {
    bytes: Vec<u8>,
    name: String,
    content_type: Option<String>,
    fields: HashMap<String, String>,
}

async fn read_upload(
    query: HashMap<String, String>,
    headers: &HeaderMap,
    req: Request,
    limit: usize,
) -> Result<Upload, DsError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut fields = query;
    let too_large = || {
        DsError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is over the limit of {limit} bytes"),
            "upload a smaller table, or raise --max-upload-bytes",
        )
    };
    if content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("multipart/form-data"))
    {
        let mut mp = Multipart::from_request(req, &()).await.map_err(|e| {
            DsError::new(
                StatusCode::BAD_REQUEST,
                format!("bad multipart form: {e}"),
                "send the table in a part named file",
            )
        })?;
        let mut file = None;
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                DsError::new(
                    StatusCode::BAD_REQUEST,
                    format!("bad multipart form: {e}"),
                    "send the table in a part named file",
                )
            }
        };
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "file" {
                let fname = field.file_name().unwrap_or("upload.csv").to_string();
                let ct = field.content_type().map(str::to_string);
                let data = field.bytes().await.map_err(bad)?;
                file = Some((data.to_vec(), fname, ct));
            } else {
                let text = field.text().await.map_err(bad)?;
                fields.insert(name, text);
            }
        }
        let (bytes, name, ct) = file.ok_or_else(|| {
            DsError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the form has no file part",
                "send the table in a part named file",
            )
        })?;
        return Ok(Upload {
            bytes,
            name,
            content_type: ct,
            fields,
        });
    }
    let body: Body = req.into_body();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    let name = fields
        .get("filename")
        .cloned()
        .unwrap_or_else(|| match content_type.as_deref() {
            Some(c) if c.contains("spreadsheetml") => "upload.xlsx".into(),
            Some(c) if c.contains("tab-separated") => "upload.tsv".into(),
            _ => "upload.csv".into(),
        });
    Ok(Upload {
        bytes: bytes.to_vec(),
        name,
        content_type,
        fields,
    })
}

fn options(fields: &HashMap<String, String>, id: Option<String>) -> UploadOptions {
    let get = |k: &str| fields.get(k).filter(|v| !v.trim().is_empty()).cloned();
    UploadOptions {
        id: id.or_else(|| get("id")),
        title: get("title"),
        unit: get("unit"),
        direction: get("direction"),
        source: get("source"),
        licence: get("licence").or_else(|| get("license")),
        layer: get("layer"),
        sheet: get("sheet"),
        period: get("period"),
        aggregate: get("aggregate"),
        weights: get("weights"),
    }
}

/// Detects, joins and (unless a dry run) stores one upload.
fn store_upload(live: &LiveState, up: Upload, id: Option<String>, is_put: bool) -> DsResult {
    let hub = hub(live)?;
    let dry_run = up
        .fields
        .get("dry_run")
        .is_some_and(|v| v == "true" || v == "1");
    let explicit_id = id.is_some() || up.fields.get("id").is_some_and(|v| !v.is_empty());
    let opts = options(&up.fields, id);
    let mut analysis = datasets::analyse(
        &up.bytes,
        &up.name,
        up.content_type.as_deref(),
        &opts,
        hub.known_layers(),
        &hub.limits,
    )?;
    // A new dataset never shadows a catalogue indicator; an automatic id steps aside.
    let taken = |id: &str| -> Result<bool, DsError> {
        let catalogue = hub.base.atlas.layers.iter().any(|l| {
            l.indicators
                .iter()
                .any(|i| i.meta.id == id || i.meta.id.starts_with(&format!("{id}_")))
        });
        Ok(catalogue || (!is_put && hub.store.get(id)?.is_some()))
    };
    if taken(&analysis.meta.id)? {
        if explicit_id || is_put {
            if !is_put
                || hub
                    .base
                    .atlas
                    .layers
                    .iter()
                    .any(|l| l.indicator(&analysis.meta.id).is_some())
            {
                return Err(DsError::new(
                    StatusCode::CONFLICT,
                    format!("the id {:?} is taken", analysis.meta.id),
                    format!(
                        "PUT /datasets/{} adds a version to an uploaded dataset; or choose another id",
                        analysis.meta.id
                    ),
                ));
            }
        } else {
            let base = analysis.meta.id.clone();
            let mut n = 2;
            while taken(&format!("{base}_{n}"))? {
                n += 1;
            }
            analysis.meta.id = format!("{base}_{n}");
        }
    }
    if dry_run {
        return Ok(Json(datasets::report_json(&analysis, None, false)).into_response());
    }
    let report = datasets::report_json(&analysis, None, true);
    let table = datasets::table::encode(&analysis.table);
    let version = hub.store.put_version(
        &datasets::NewVersion {
            meta: &analysis.meta,
            layer: &analysis.detection.layer,
            report: &report.to_string(),
            table: &table,
            join: &analysis.stored_join(hub.known_layers()),
        },
        !is_put,
        hub.limits.max_datasets,
    )?;
    tracing::info!(dataset = %analysis.meta.id, version, layer = %analysis.detection.layer, "dataset stored");
    live.0.refresh();
    let mut body = datasets::report_json(&analysis, Some(version), true);
    let first = body["indicators"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    body["map"] = json!(format!("/map/{}/{first}", analysis.detection.layer));
    body["pinned_map"] = json!(format!(
        "/map/{}/{first}@{version}",
        analysis.detection.layer
    ));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn blocking(f: impl FnOnce() -> DsResult + Send + 'static) -> DsResult {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(DsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("upload task failed: {e}"),
            "",
        ))
    })
}

/// Stores an upload as an upload job of admission control: detection, join and storage hold
/// several copies of the table (a few times the body), besides the new snapshot's indicators.
async fn admitted_upload(
    live: LiveState,
    up: Upload,
    id: Option<String>,
    is_put: bool,
) -> DsResult {
    let bytes = 64 * 1024 * 1024 + 8 * up.bytes.len() as u64;
    let state = live.0.snapshot();
    state
        .heavy(Class::Upload, bytes, move |_| {
            store_upload(&live, up, id, is_put)
        })
        .await
}

/// `POST /datasets`.
pub async fn create(
    State(live): State<LiveState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    req: Request,
) -> DsResult {
    let h = hub(&live)?;
    authorise(h, &headers)?;
    let up = read_upload(query, &headers, req, h.limits.max_bytes).await?;
    admitted_upload(live, up, None, false).await
}

/// `PUT /datasets/{id}`: a new version.
pub async fn update(
    State(live): State<LiveState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    req: Request,
) -> DsResult {
    let h = hub(&live)?;
    authorise(h, &headers)?;
    datasets::check_id(&id)?;
    let up = read_upload(query, &headers, req, h.limits.max_bytes).await?;
    admitted_upload(live, up, Some(id), true).await
}

/// `GET /datasets`.
pub async fn list(State(live): State<LiveState>) -> DsResult {
    blocking(move || {
        let hub = hub(&live)?;
        live.0.refresh();
        let all = hub.store.list()?;
        let live_ones: Vec<_> = all.into_iter().filter(|d| !d.deleted).collect();
        Ok(Json(json!({ "datasets": live_ones })).into_response())
    })
    .await
}

/// `GET /datasets/{id}`: metadata, versions and the latest (or `?version=N`) report.
pub async fn show(
    State(live): State<LiveState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> DsResult {
    blocking(move || {
        let hub = hub(&live)?;
        let d = hub.store.get(&id)?.ok_or_else(|| {
            DsError::new(
                StatusCode::NOT_FOUND,
                format!("no dataset {id:?}"),
                "GET /datasets lists them",
            )
        })?;
        if d.deleted {
            return Err(DsError::new(
                StatusCode::GONE,
                format!("dataset {id:?} was deleted"),
                "it is no longer served",
            ));
        }
        let version = match query.get("version") {
            Some(v) => Some(v.parse::<u32>().map_err(|_| {
                DsError::new(
                    StatusCode::BAD_REQUEST,
                    format!("version={v:?} is not a number"),
                    "versions are 1, 2, ...",
                )
            })?),
            None => None,
        };
        let v = hub.store.version(&id, version)?.ok_or_else(|| {
            DsError::new(
                StatusCode::NOT_FOUND,
                format!("dataset {id:?} has no version {version:?}"),
                "GET /datasets/{id} lists the versions",
            )
        })?;
        let report: Value = serde_json::from_str(&v.report).unwrap_or(Value::Null);
        Ok(Json(json!({
            "id": d.meta.id,
            "title": d.meta.title,
            "unit": d.meta.unit,
            "direction": d.meta.direction,
            "source": d.meta.source,
            "licence": d.meta.licence,
            "created": d.created,
            "versions": d.versions,
            "version": v.version,
            "layer": v.layer,
            "report": report,
        }))
        .into_response())
    })
    .await
}

/// `DELETE /datasets/{id}`: afterwards the dataset answers 410 Gone.
pub async fn delete(
    State(live): State<LiveState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> DsResult {
    let h = hub(&live)?;
    authorise(h, &headers)?;
    blocking(move || {
        let hub = hub(&live)?;
        match hub.store.get(&id)? {
            None => Err(DsError::new(
                StatusCode::NOT_FOUND,
                format!("no dataset {id:?}"),
                "GET /datasets lists them",
            )),
            Some(d) if d.deleted => Err(DsError::new(
                StatusCode::GONE,
                format!("dataset {id:?} was deleted"),
                "",
            )),
            Some(_) => {
                hub.store.delete(&id)?;
                live.0.refresh();
                Ok(StatusCode::NO_CONTENT.into_response())
            }
        }
    })
    .await
}
