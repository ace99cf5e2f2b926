//! `/tickets`: the list with its filters, one ticket and its timeline, and every ticket
//! action — each only for agents allowed to see the ticket. Handlers parse and
//! validate; `domain::ticket` decides; the store writes and logs the pushes.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use shared::ApiError;
use shared::limits::{
    MAX_MESSAGE_LIMIT, MAX_NAME_CHARS, MAX_SEARCH_CHARS, validate_attachment_ids, validate_body,
    validate_body_with_files, validate_client_id, validate_email, validate_id, validate_line,
    validate_page, validate_tag,
};
use shared::model::{Items, Page};
use shared::ticket::{
    CloseRequest, CreateTicketRequest, EntryKind, EscalateRequest, LinkRequest, MergeRequest,
    NewEntryRequest, SpamRequest, SplitRequest, Ticket, TicketEntry, TicketPriority,
    UpdateTicketRequest,
};

use super::AuthAgent;
use crate::AppState;
use crate::domain::ticket as rules;
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::store::{
    AssigneeFilter, EntryView, NewTicket, SpamFilter, TicketAction, TicketChanges, TicketCustomer,
    TicketFilter, TicketSort, new_id, now_ms,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list).post(create))
        .route("/tickets/{id}", get(one).patch(update))
        .route("/tickets/{id}/entries", get(entries).post(add_entry))
        .route("/tickets/{id}/merge", post(merge))
        .route("/tickets/{id}/split", post(split))
        .route("/tickets/{id}/clone", post(clone_ticket))
        .route("/tickets/{id}/links", post(link))
        .route("/tickets/{id}/links/{other}", delete(unlink))
        .route("/tickets/{id}/escalate", post(escalate))
        .route("/tickets/{id}/spam", post(spam))
        .route("/tickets/{id}/close", post(close))
        .route("/tickets/{id}/reopen", post(reopen))
        .route("/tickets/{id}/export", get(export))
        .route("/chats/{id}/ticket", post(from_chat))
        .route("/tickets/{id}/chat", post(start_chat))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromChatRequest {
    subject: Option<String>,
    priority: Option<String>,
}

/// `POST /chats/{id}/ticket`: the chat's transcript becomes a ticket.
async fn from_chat(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    super::chats::visible_chat(&state, &auth, &id).await?;
    // The body is optional: nothing (or `{}`) takes every default.
    let r: FromChatRequest = if body.iter().all(u8::is_ascii_whitespace) {
        FromChatRequest {
            subject: None,
            priority: None,
        }
    } else {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) if v.is_object() => serde_json::from_value(v)
                .map_err(|e| ApiError::invalid(format!("wrong JSON shape: {e}")))?,
            Ok(_) => return Err(ApiError::invalid("the body must be a JSON object").into()),
            Err(e) => return Err(ApiError::invalid(format!("malformed JSON: {e}")).into()),
        }
    };
    let subject = r
        .subject
        .as_deref()
        .map(rules::validate_subject)
        .transpose()?;
    let priority = r
        .priority
        .as_deref()
        .map(rules::parse_priority)
        .transpose()?;
    let t = state
        .store
        .chat_to_ticket(&auth.actor, &id, subject.as_deref(), priority)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// `POST /tickets/{id}/chat`: a chat with the ticket's customer. Starting a chat
/// needs the customer's widget to be open; this server does not reach out to a
/// visitor, so it answers 409 and says so.
async fn start_chat(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let t = visible_ticket(&state, &auth, &id).await?;
    Err(ApiError::conflict(format!(
        "{} is not online: a chat starts when the customer opens the widget; reply on ticket {} instead",
        t.customer.name,
        t.label()
    ))
    .into())
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    priority: Option<String>,
    priority_min: Option<String>,
    department_id: Option<String>,
    assignee: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    spam: Option<String>,
    merged: Option<bool>,
    customer_id: Option<String>,
    sort: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn list(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<Ticket>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    let statuses = match nonempty(q.status) {
        Some(s) => rules::parse_status_list(&s)?,
        None => Vec::new(),
    };
    let priorities = match nonempty(q.priority) {
        Some(s) => s
            .split(',')
            .map(rules::parse_priority)
            .collect::<Result<Vec<TicketPriority>, _>>()?,
        None => Vec::new(),
    };
    let priority_min = nonempty(q.priority_min)
        .map(|p| rules::parse_priority(&p))
        .transpose()?;
    let assignee = match nonempty(q.assignee).as_deref() {
        None | Some("any") => AssigneeFilter::Any,
        Some("me") => AssigneeFilter::Agent(auth.agent.id.clone()),
        Some("none") => AssigneeFilter::Unassigned,
        Some(other) => {
            validate_id("assignee", other)?;
            AssigneeFilter::Agent(other.to_owned())
        }
    };
    let spam = match nonempty(q.spam).as_deref() {
        None | Some("false") => SpamFilter::Hide,
        Some("true") => SpamFilter::Only,
        Some("any") => SpamFilter::Any,
        Some(other) => {
            return Err(
                ApiError::invalid(format!("spam {other:?}: expected false, true or any")).into(),
            );
        }
    };
    let sort = match nonempty(q.sort).as_deref() {
        None | Some("updated") => TicketSort::Updated,
        Some("newest") => TicketSort::Newest,
        Some("oldest") => TicketSort::Oldest,
        Some("priority") => TicketSort::Priority,
        Some("due") => TicketSort::Due,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown sort {other:?}: expected newest, oldest, priority, due or updated"
            ))
            .into());
        }
    };
    let search = nonempty(q.q);
    if let Some(s) = &search {
        if s.chars().count() > MAX_SEARCH_CHARS {
            return Err(ApiError::invalid(format!(
                "q is longer than {MAX_SEARCH_CHARS} characters"
            ))
            .into());
        }
        if shared::limits::find_control_char(s, false).is_some() {
            return Err(ApiError::invalid("q contains a control character").into());
        }
    }
    let tag = nonempty(q.tag).map(|t| validate_tag(&t)).transpose()?;
    let department_id = nonempty(q.department_id);
    let customer_id = nonempty(q.customer_id);
    for (f, v) in [
        ("department_id", &department_id),
        ("customer_id", &customer_id),
    ] {
        if let Some(v) = v {
            validate_id(f, v)?;
        }
    }
    let filter = TicketFilter {
        statuses,
        priorities,
        priority_min,
        department_id,
        assignee,
        tag,
        q: search,
        spam,
        include_merged: q.merged.unwrap_or(false),
        customer_id,
        sort,
        page,
        per_page,
    };
    Ok(Json(state.store.tickets(&auth.actor, &filter).await?))
}

/// Loads a ticket the agent may see: 403 for another department's, 404 for none.
pub(crate) async fn visible_ticket(
    state: &AppState,
    auth: &AuthAgent,
    id: &str,
) -> Result<Ticket, ApiError> {
    validate_id("ticket id", id)?;
    match state.store.ticket(id).await? {
        Some(t)
            if auth
                .actor
                .may_see_chat(&t.department_id, t.assignee_id.as_deref()) =>
        {
            Ok(t)
        }
        Some(t) => Err(ApiError::forbidden(format!(
            "ticket {} is not in your departments and not assigned to you",
            t.label()
        ))),
        None => Err(ApiError::not_found(format!("no ticket {id}"))),
    }
}

fn tags_of(v: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    match v {
        Some(t) => rules::validate_tags(&t),
        None => Ok(Vec::new()),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(r): ApiJson<CreateTicketRequest>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let subject = rules::validate_subject(&r.subject)?;
    let body = validate_body(&r.body)?;
    let customer = match (&r.customer_id, &r.customer_email) {
        (Some(id), None) => {
            validate_id("customer_id", id)?;
            TicketCustomer::Id(id.clone())
        }
        (None, Some(email)) => TicketCustomer::Email {
            email: validate_email(email)?,
            name: r
                .customer_name
                .as_deref()
                .map(|n| validate_line("customer_name", n, MAX_NAME_CHARS))
                .transpose()?,
        },
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "name the customer by customer_id or customer_email, not both",
            )
            .into());
        }
        (None, None) => {
            return Err(
                ApiError::invalid("customer_email is missing: say who the ticket is for").into(),
            );
        }
    };
    let on_behalf = r
        .on_behalf
        .unwrap_or(matches!(customer, TicketCustomer::Email { .. }));
    for (f, v) in [
        ("department_id", &r.department_id),
        ("assignee_id", &r.assignee_id),
    ] {
        if let Some(v) = v {
            validate_id(f, v)?;
        }
    }
    let new = NewTicket {
        subject,
        body,
        customer,
        department_id: r.department_id,
        priority: r
            .priority
            .as_deref()
            .map(rules::parse_priority)
            .transpose()?
            .unwrap_or(TicketPriority::Medium),
        tags: tags_of(r.tags)?,
        due_at_ms: r
            .due_at
            .as_deref()
            .map(|d| rules::parse_due(d, now_ms()))
            .transpose()?,
        assignee_id: r.assignee_id,
        client_msg_id: match r.client_msg_id {
            Some(c) => validate_client_id("client_msg_id", &c)?,
            None => new_id(),
        },
        on_behalf,
    };
    let t = state.store.create_ticket(&auth.actor, new).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn one(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Ticket>> {
    Ok(Json(visible_ticket(&state, &auth, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<UpdateTicketRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    if r.tags.is_some() && (r.add_tags.is_some() || r.remove_tags.is_some()) {
        return Err(
            ApiError::invalid("send tags (replace) or add_tags/remove_tags, not both").into(),
        );
    }
    if let Some(Some(a)) = &r.assignee_id {
        validate_id("assignee_id", a)?;
    }
    if let Some(d) = &r.department_id {
        validate_id("department_id", d)?;
    }
    let changes = TicketChanges {
        subject: r
            .subject
            .as_deref()
            .map(rules::validate_subject)
            .transpose()?,
        status: r.status.as_deref().map(rules::parse_status).transpose()?,
        priority: r
            .priority
            .as_deref()
            .map(rules::parse_priority)
            .transpose()?,
        assignee_id: r.assignee_id,
        department: None,
        tags: r.tags.map(|t| rules::validate_tags(&t)).transpose()?,
        add_tags: tags_of(r.add_tags)?,
        remove_tags: tags_of(r.remove_tags)?,
        due_at_ms: match r.due_at {
            None => None,
            Some(None) => Some(None),
            Some(Some(d)) => Some(Some(rules::parse_due(&d, now_ms())?)),
        },
        resolution: r
            .resolution
            .as_deref()
            .map(rules::validate_resolution)
            .transpose()?,
    };
    if changes.is_empty() && r.department_id.is_none() {
        return Err(ApiError::invalid("nothing to change: send at least one field").into());
    }
    let action = TicketAction::Update {
        changes,
        department_id: r.department_id,
    };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesQuery {
    pub after_seq: Option<i64>,
    pub limit: Option<u32>,
}

pub(crate) fn entries_window(q: &EntriesQuery) -> Result<(i64, u32), ApiError> {
    let after = q.after_seq.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after_seq must be 0 or more"));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_MESSAGE_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit must be 1 to {MAX_MESSAGE_LIMIT}"
        )));
    }
    Ok((after, limit))
}

async fn entries(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> ApiResult<Json<Items<TicketEntry>>> {
    visible_ticket(&state, &auth, &id).await?;
    let (after, limit) = entries_window(&q)?;
    let items = state
        .store
        .ticket_entries(&id, after, limit, EntryView::Agent)
        .await?;
    Ok(Json(Items { items }))
}

async fn add_entry(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<NewEntryRequest>,
) -> ApiResult<(StatusCode, Json<TicketEntry>)> {
    visible_ticket(&state, &auth, &id).await?;
    let kind = r.kind.unwrap_or(EntryKind::Reply);
    validate_attachment_ids(&r.attachment_ids)?;
    let body = validate_body_with_files(&r.body, !r.attachment_ids.is_empty())?;
    let client_msg_id = validate_client_id("client_msg_id", &r.client_msg_id)?;
    let (entry, replay) = state
        .store
        .add_ticket_entry(
            &auth.actor,
            &id,
            kind,
            &body,
            &client_msg_id,
            &r.attachment_ids,
        )
        .await?;
    let status = if replay {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(entry)))
}

async fn merge(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<MergeRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    validate_id("into", &r.into)?;
    Ok(Json(
        state.store.merge_ticket(&auth.actor, &id, &r.into).await?,
    ))
}

async fn split(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<SplitRequest>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    visible_ticket(&state, &auth, &id).await?;
    let subject = rules::validate_subject(&r.subject)?;
    for e in &r.entry_ids {
        validate_id("entry id", e)?;
    }
    let t = state
        .store
        .split_ticket(&auth.actor, &id, &r.entry_ids, &subject)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn clone_ticket(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    visible_ticket(&state, &auth, &id).await?;
    let t = state.store.clone_ticket(&auth.actor, &id).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn link(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<LinkRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    validate_id("ticket_id", &r.ticket_id)?;
    let action = TicketAction::Link {
        other_id: r.ticket_id,
        kind: r.kind,
    };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

async fn unlink(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    validate_id("ticket id", &other)?;
    let action = TicketAction::Unlink { other_id: other };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

async fn escalate(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<EscalateRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    for (f, v) in [
        ("to_department_id", &r.to_department_id),
        ("to_agent_id", &r.to_agent_id),
    ] {
        if let Some(v) = v {
            validate_id(f, v)?;
        }
    }
    let note = r.note.as_deref().map(validate_body).transpose()?;
    let action = TicketAction::Escalate {
        to_department_id: r.to_department_id,
        to_agent_id: r.to_agent_id,
        note,
    };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

async fn spam(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<SpamRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    let action = TicketAction::Spam {
        spam: r.spam,
        block_customer: r.block_customer,
    };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

async fn close(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CloseRequest>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    let resolution = rules::validate_resolution(&r.resolution)?;
    let action = TicketAction::Close { resolution };
    Ok(Json(
        state.store.ticket_action(&auth.actor, &id, action).await?,
    ))
}

async fn reopen(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Ticket>> {
    visible_ticket(&state, &auth, &id).await?;
    Ok(Json(
        state
            .store
            .ticket_action(&auth.actor, &id, TicketAction::Reopen)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: Option<String>,
    notes: Option<bool>,
}

/// The most entries an export reads.
const MAX_EXPORT_ENTRIES: u32 = 20_000;

async fn export(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let ticket = visible_ticket(&state, &auth, &id).await?;
    let notes = q.notes.unwrap_or(false);
    let mut all = Vec::new();
    let mut after = 0;
    while all.len() < MAX_EXPORT_ENTRIES as usize {
        let page = state
            .store
            .ticket_entries(&id, after, MAX_MESSAGE_LIMIT, EntryView::Agent)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        let done = page.len() < MAX_MESSAGE_LIMIT as usize;
        all.extend(
            page.into_iter()
                .filter(|e| notes || e.kind == EntryKind::Reply || e.kind == EntryKind::Event),
        );
        if done {
            break;
        }
    }
    match q.format.as_deref().unwrap_or("text") {
        "json" => Ok(Json(serde_json::json!({"ticket": ticket, "entries": all})).into_response()),
        "text" => {
            let mut out = format!(
                "Ticket {} — {}\nCustomer: {}\nStatus: {} · Priority: {}\n\n",
                ticket.label(),
                ticket.subject,
                ticket.customer.name,
                ticket.status,
                ticket.priority
            );
            for e in &all {
                let when = e
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let who = match e.kind {
                    EntryKind::Event => "—".to_owned(),
                    EntryKind::Note => format!("{} (note)", e.author.name),
                    EntryKind::Reply => e.author.name.clone(),
                };
                out.push_str(&format!("[{when}] {who}: {}\n", e.body));
            }
            Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], out).into_response())
        }
        other => Err(ApiError::invalid(format!("format {other:?}: expected text or json")).into()),
    }
}
