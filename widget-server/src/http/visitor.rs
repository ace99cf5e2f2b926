//! `/visitor`: a website visitor's own history (for the widget after a reload), with
//! the visitor token in `X-Visitor-Token`. Internal notes are never included.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use shared::ApiError;
use shared::model::{Items, Message};

use super::chats::{MessagesQuery, message_limit};
use crate::AppState;
use crate::error::{ApiQuery, ApiResult};
use crate::store::customer_view;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/visitor/messages", get(messages))
        .route("/visitor/transcript", get(transcript))
        .route(
            "/visitor/attachments",
            axum::routing::post(upload).layer(axum::extract::DefaultBodyLimit::max(
                shared::limits::MAX_ATTACHMENT_BYTES,
            )),
        )
        .route("/visitor/attachments/{id}", get(download))
        .route("/visitor/tickets", get(tickets).post(leave_message))
        .route(
            "/visitor/tickets/{id}/entries",
            get(ticket_entries).post(answer_ticket),
        )
}

/// The visitor's own requests (their view: no tags, no notes, no internal lines).
async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Items<shared::ticket::Ticket>>> {
    let cid = customer_id(&state, &headers).await?;
    let items = state.store.customer_tickets(&cid).await?;
    Ok(Json(Items { items }))
}

/// One of the visitor's tickets, or `not_found` (also for someone else's).
async fn own_ticket(state: &AppState, cid: &str, id: &str) -> Result<(), ApiError> {
    shared::limits::validate_id("ticket id", id)?;
    match state.store.ticket(id).await? {
        Some(t) if t.customer.id == cid && !t.spam && t.merged_into.is_none() => Ok(()),
        _ => Err(ApiError::not_found(format!("no request {id}"))),
    }
}

async fn ticket_entries(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    ApiQuery(q): ApiQuery<super::tickets::EntriesQuery>,
) -> ApiResult<Json<Items<shared::ticket::TicketEntry>>> {
    let cid = customer_id(&state, &headers).await?;
    own_ticket(&state, &cid, &id).await?;
    let (after, limit) = super::tickets::entries_window(&q)?;
    let items = state
        .store
        .ticket_entries(&id, after, limit, crate::store::EntryView::Customer)
        .await?;
    Ok(Json(Items { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRequest {
    body: String,
    client_msg_id: String,
}

async fn answer_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<AnswerRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<shared::ticket::TicketEntry>)> {
    let cid = customer_id(&state, &headers).await?;
    own_ticket(&state, &cid, &id).await?;
    let body = shared::limits::validate_body(&r.body)?;
    let client_msg_id = shared::limits::validate_client_id("client_msg_id", &r.client_msg_id)?;
    let (entry, replay) = state
        .store
        .customer_ticket_entry(&cid, &id, &body, &client_msg_id)
        .await?;
    let status = if replay {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CREATED
    };
    Ok((status, Json(entry)))
}

/// "Leave a message": a ticket from the widget, for the visitor behind the token.
async fn leave_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::error::ApiJson(r): crate::error::ApiJson<shared::ticket::VisitorTicketRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<shared::ticket::Ticket>)> {
    let cid = customer_id(&state, &headers).await?;
    let body = shared::limits::validate_body(&r.body)?;
    let email = shared::limits::validate_email(&r.email)?;
    let name = r
        .name
        .as_deref()
        .map(|n| shared::limits::validate_line("name", n, shared::limits::MAX_NAME_CHARS))
        .transpose()?;
    let subject = match r.subject.as_deref() {
        Some(s) => crate::domain::ticket::validate_subject(s)?,
        // The first line of the message, cut to a subject.
        None => crate::domain::ticket::validate_subject(
            &body
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(crate::domain::ticket::MAX_SUBJECT_CHARS)
                .collect::<String>(),
        )?,
    };
    let client_msg_id = shared::limits::validate_client_id("client_msg_id", &r.client_msg_id)?;
    // A visitor who never chatted is put on record by their first message.
    let token = headers
        .get("x-visitor-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    state
        .store
        .create_visitor(&cid, token, name.as_deref(), Some(&email))
        .await?;
    let t = state
        .store
        .customer_create_ticket(
            &cid,
            &subject,
            &body,
            &email,
            name.as_deref(),
            &client_msg_id,
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(t)))
}

async fn customer_id(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = headers
        .get("x-visitor-token")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| ApiError::unauthorized("send your visitor token in X-Visitor-Token"))?;
    // A stored visitor, or one whose token this server signed (who has not chatted
    // yet: their reads find nothing, their uploads are kept under their id).
    if let Some(id) = state.store.resolve_visitor_known(token).await? {
        return Ok(id);
    }
    state
        .tokens
        .visitor_key()
        .verify(token)
        .ok_or_else(|| ApiError::unauthorized("unknown visitor token"))
}

#[derive(Deserialize)]
struct VisitorQuery {
    chat_id: Option<String>,
    before_seq: Option<i64>,
    limit: Option<u32>,
    format: Option<String>,
}

async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> ApiResult<Json<Items<Message>>> {
    let cid = customer_id(&state, &headers).await?;
    let chat = state
        .store
        .customer_chat_any(&cid, q.chat_id.as_deref())
        .await?;
    let mq = MessagesQuery {
        before_seq: q.before_seq,
        limit: q.limit,
    };
    let limit = message_limit(mq.limit)?;
    // Numbered for the visitor: `before_seq` and every `seq` are theirs.
    let items = state
        .store
        .visitor_messages(&chat.id, mq.before_seq, limit)
        .await?;
    Ok(Json(Items { items }))
}

async fn transcript(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> ApiResult<Response> {
    let cid = customer_id(&state, &headers).await?;
    let format = super::transcript::Format::parse(q.format.as_deref())?;
    let chat = state
        .store
        .customer_chat_any(&cid, q.chat_id.as_deref())
        .await?;
    let numbers = state.store.visitor_numbers(&chat.id).await?;
    Ok(super::transcript::response(
        state,
        customer_view(&chat, &numbers),
        numbers.last_seq,
        super::transcript::Reader::Visitor,
        format,
    ))
}

/// The visitor behind `X-Visitor-Token`, resolved from the request's head: an upload
/// with no valid token is refused before its body is read.
pub struct VisitorId(String);

impl axum::extract::FromRequestParts<AppState> for VisitorId {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(VisitorId(customer_id(state, &parts.headers).await?))
    }
}

async fn upload(
    State(state): State<AppState>,
    VisitorId(cid): VisitorId,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<super::attachments::UploadQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(axum::http::StatusCode, Json<shared::model::Attachment>)> {
    let (name, content_type, data) = super::attachments::check_upload(&q, &headers, body)?;
    let quota = state.config.visitor_upload_quota();
    let mut a = state
        .store
        .create_attachment("customer", &cid, &name, &content_type, data, Some(quota))
        .await?;
    a.url = crate::store::visitor_attachment_url(&a.id);
    Ok((axum::http::StatusCode::CREATED, Json(a)))
}

async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let cid = customer_id(&state, &headers).await?;
    let missing = || ApiError::not_found(format!("no attachment {id}"));
    if id.is_empty() || id.len() > shared::limits::MAX_ID_CHARS {
        return Err(missing().into());
    }
    let rec = state.store.attachment(&id).await?.ok_or_else(missing)?;
    let allowed = match &rec.chat_id {
        // Files of internal notes are for agents only.
        Some(chat_id) => {
            rec.message_kind.as_deref() != Some("note")
                && state
                    .store
                    .customer_chat_any(&cid, Some(chat_id))
                    .await
                    .is_ok()
        }
        None => rec.owner_kind == "customer" && rec.owner_id == cid,
    };
    // Another visitor's file answers exactly like a missing one.
    if !allowed {
        return Err(missing().into());
    }
    Ok(super::attachments::serve_file(rec))
}
