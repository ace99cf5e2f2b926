//! `/chats` and `/customers`: the queue, one chat, its history and transcript, and the
//! customer profile — each only for agents allowed to see it.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use shared::ApiError;
use shared::limits::{DEFAULT_MESSAGE_LIMIT, MAX_MESSAGE_LIMIT, MAX_SEARCH_CHARS, validate_page};
use shared::model::{Chat, ChatStatus, CustomerProfile, Items, Message, Page};

use super::AuthAgent;
use crate::AppState;
use crate::error::{ApiQuery, ApiResult};
use crate::store::{ChatFilter, ChatSort};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chats", get(list))
        .route("/chats/{id}", get(one))
        .route("/chats/{id}/messages", get(messages))
        .route("/chats/{id}/transcript", get(transcript))
        .route("/customers/{id}", get(customer))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    department_id: Option<String>,
    assignee: Option<String>,
    customer_id: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

fn check_id(field: &str, id: &str) -> Result<(), ApiError> {
    shared::limits::validate_id(field, id)
}

async fn list(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<Chat>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<ChatStatus>())
        .transpose()
        .map_err(ApiError::invalid)?;
    let sort = match q.sort.as_deref().unwrap_or("newest") {
        "newest" | "" => ChatSort::Newest,
        "oldest" => ChatSort::Oldest,
        "wait" => ChatSort::Wait,
        other => {
            return Err(ApiError::invalid(format!(
                "unknown sort {other:?}: expected newest, oldest or wait"
            ))
            .into());
        }
    };
    let search = q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if search
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(
            ApiError::invalid(format!("q is longer than {MAX_SEARCH_CHARS} characters")).into(),
        );
    }
    let assignee = match q.assignee.as_deref() {
        Some("me") => Some(auth.agent.id.clone()),
        Some("") | None => None,
        Some(other) => {
            check_id("assignee", other)?;
            Some(other.to_owned())
        }
    };
    for (f, v) in [
        ("department_id", &q.department_id),
        ("customer_id", &q.customer_id),
    ] {
        if let Some(v) = v {
            check_id(f, v)?;
        }
    }
    let filter = ChatFilter {
        status,
        department_id: q.department_id.filter(|s| !s.is_empty()),
        assignee_id: assignee,
        customer_id: q.customer_id.filter(|s| !s.is_empty()),
        q: search,
        sort,
        page,
        per_page,
    };
    Ok(Json(state.store.chats(&auth.actor, &filter).await?))
}

/// Loads a chat the agent may see: 403 for another department's chat, 404 for none.
pub(crate) async fn visible_chat(
    state: &AppState,
    auth: &AuthAgent,
    id: &str,
) -> Result<Chat, ApiError> {
    check_id("chat id", id)?;
    let chat = state.store.chat(id).await?;
    match chat {
        Some(c)
            if auth
                .actor
                .may_see_chat(&c.department_id, c.assignee_id.as_deref()) =>
        {
            Ok(c)
        }
        Some(_) => Err(ApiError::forbidden(format!(
            "chat {id} is not in your departments and not assigned to you"
        ))),
        None => Err(ApiError::not_found(format!("no chat {id}"))),
    }
}

async fn one(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Chat>> {
    Ok(Json(visible_chat(&state, &auth, &id).await?))
}

#[derive(Deserialize)]
pub(crate) struct MessagesQuery {
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

pub(crate) fn message_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_MESSAGE_LIMIT);
    if limit == 0 || limit > MAX_MESSAGE_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit must be 1 to {MAX_MESSAGE_LIMIT}"
        )));
    }
    Ok(limit)
}

async fn messages(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<Items<Message>>> {
    visible_chat(&state, &auth, &id).await?;
    let limit = message_limit(q.limit)?;
    let items = state.store.messages(&id, q.before_seq, limit, true).await?;
    Ok(Json(Items { items }))
}

#[derive(Deserialize)]
pub(crate) struct TranscriptQuery {
    pub format: Option<String>,
}

/// Every message of a chat, oldest first.
async fn transcript(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TranscriptQuery>,
) -> ApiResult<Response> {
    let format = super::transcript::Format::parse(q.format.as_deref())?;
    let chat = visible_chat(&state, &auth, &id).await?;
    Ok(super::transcript::response(
        state,
        chat.clone(),
        chat.last_seq,
        super::transcript::Reader::Agent,
        format,
    ))
}

async fn customer(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<CustomerProfile>> {
    check_id("customer id", &id)?;
    let profile = state
        .store
        .customer_profile(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no customer {id}")))?;
    let mut profile = profile;
    profile.tickets = state.store.tickets_of_customer(&id).await?;
    let visible =
        super::customers::sees_customer(&state, &auth.actor, &id, &profile.tickets).await?;
    profile.notes = if visible {
        state.store.customer_notes(&id).await?
    } else {
        Vec::new()
    };
    if !visible {
        return Err(
            ApiError::forbidden("this customer has not chatted with your departments").into(),
        );
    }
    Ok(Json(auth.actor.profile_view(profile)))
}
