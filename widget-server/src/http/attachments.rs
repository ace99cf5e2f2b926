//! `/attachments`: files sent with messages. Upload first (the raw bytes as the
//! body, the file name in `?name=`), then name the returned id in `message:send`'s
//! `attachment_ids`. Downloads are always served as attachments, never rendered.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use shared::limits::{MAX_ATTACHMENT_BYTES, validate_line};
use shared::model::Attachment;
use shared::{ApiError, ErrorCode};

use super::AuthAgent;
use crate::AppState;
use crate::error::{ApiQuery, ApiResult};
use crate::store::AttachmentRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/attachments",
            post(upload).layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES)),
        )
        .route("/attachments/{id}", get(download))
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    pub name: Option<String>,
}

/// Checks an upload and returns (file name, content type, bytes).
pub(crate) fn check_upload(
    q: &UploadQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(String, String, Vec<u8>), ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!(
                "file is larger than {} MiB",
                MAX_ATTACHMENT_BYTES / (1024 * 1024)
            ))
        } else {
            ApiError::invalid(e.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::invalid("the file is empty"));
    }
    let raw = q
        .name
        .as_deref()
        .ok_or_else(|| ApiError::invalid("name the file with ?name=<file name>"))?;
    // Keep the last path component only: names are shown, never used as paths.
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name = validate_line("name", base, 200)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| {
            v.len() <= 100
                && v.split_once('/').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c))
                })
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Ok((name, content_type, body.to_vec()))
}

/// A download: images that browsers render safely keep their type, everything else
/// is `application/octet-stream`; always `attachment`, sandboxed, not sniffed.
pub(crate) fn serve_file(rec: AttachmentRecord) -> Response {
    const SAFE: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
    let ct = if SAFE.contains(&rec.meta.content_type.as_str()) {
        rec.meta.content_type.clone()
    } else {
        "application/octet-stream".to_owned()
    };
    let ascii: String = rec
        .meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = rec
        .meta
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, ct),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        rec.data,
    )
        .into_response()
}

async fn upload(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let (name, content_type, data) = check_upload(&q, &headers, body)?;
    let a = state
        .store
        .create_attachment("agent", &auth.agent.id, &name, &content_type, data, None)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

async fn download(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    shared::limits::validate_id("attachment id", id.as_str())?;
    let missing = || ApiError::not_found(format!("no attachment {id}"));
    let rec = state.store.attachment(&id).await?.ok_or_else(missing)?;
    let allowed = match &rec.chat_id {
        Some(chat_id) => match state.store.chat(chat_id).await? {
            Some(c) => auth
                .actor
                .may_see_chat(&c.department_id, c.assignee_id.as_deref()),
            None => false,
        },
        None => rec.owner_kind == "agent" && rec.owner_id == auth.agent.id,
    };
    if !allowed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "this file is not in a chat you can see",
        )
        .into());
    }
    Ok(serve_file(rec))
}
