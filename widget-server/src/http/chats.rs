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

#[derive(Deserialize)]
struct ProfileQuery {
    page: Option<u32>,
    per_page: Option<u32>,
}

/// How many previous chats a profile lists unless `per_page` says otherwise.
const PROFILE_PER_PAGE: u32 = 50;

/// A customer with one page of the previous chats the reader may see.
#[derive(serde::Serialize)]
struct ProfilePage {
    #[serde(flatten)]
    profile: CustomerProfile,
    /// How many of the customer's chats the reader may see in all.
    previous_chats_total: i64,
    page: u32,
    per_page: u32,
}

async fn customer(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ProfileQuery>,
) -> ApiResult<Json<ProfilePage>> {
    check_id("customer id", &id)?;
    let (page, per_page) = validate_page(q.page, q.per_page.or(Some(PROFILE_PER_PAGE)))?;
    let customer = state
        .store
        .customer(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no customer {id}")))?;
    // Only the chats the reader may see are listed (and counted), in the query itself.
    let chats = state
        .store
        .customer_chats(&auth.actor, &id, page, per_page)
        .await?;
    // An agent sees customers who have chatted in their departments or with them,
    // or who have a ticket they may see.
    let mut tickets = state.store.tickets_of_customer(&id).await?;
    tickets.retain(|t| {
        auth.actor
            .may_see_chat(&t.department_id, t.assignee_id.as_deref())
    });
    if !auth.actor.sees_every_customer() && chats.total == 0 && tickets.is_empty() {
        return Err(
            ApiError::forbidden("this customer has not chatted with your departments").into(),
        );
    }
    let notes = state.store.customer_notes(&id).await?;
    Ok(Json(ProfilePage {
        profile: CustomerProfile {
            customer,
            previous_chats: chats.items,
            tickets,
            notes,
        },
        previous_chats_total: chats.total,
        page,
        per_page,
    }))
}
