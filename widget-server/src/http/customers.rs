//! `/customers/{id}` edits and internal customer notes — for agents who may see the
//! customer (supervisors and admins: every customer).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use serde::Deserialize;
use shared::ApiError;
use shared::model::{Customer, CustomerNote, Items};

use super::AuthAgent;
use crate::AppState;
use crate::domain::Actor;
use crate::domain::customer::{CustomerPatch, may_edit, validate_note_body, validate_patch};
use crate::error::{ApiJson, ApiResult};
use crate::store::{ChatFilter, ChatSort};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}", patch(update))
        .route("/customers/{id}/notes", get(notes).post(add_note))
        .route("/customers/{id}/notes/{note_id}", delete(delete_note))
}

/// May this agent see the customer: someone who chatted in their departments or with
/// them, or who has a ticket they may see (supervisors and admins: everyone)?
pub(super) async fn sees_customer(
    state: &AppState,
    actor: &Actor,
    id: &str,
    tickets: &[shared::ticket::Ticket],
) -> ApiResult<bool> {
    if actor.sees_every_customer() {
        return Ok(true);
    }
    if tickets
        .iter()
        .any(|t| actor.may_see_chat(&t.department_id, t.assignee_id.as_deref()))
    {
        return Ok(true);
    }
    let f = ChatFilter {
        status: None,
        department_id: None,
        assignee_id: None,
        customer_id: Some(id.to_owned()),
        q: None,
        sort: ChatSort::Newest,
        page: 1,
        per_page: 1,
    };
    Ok(state.store.chats(actor, &f).await?.total > 0)
}

/// The customer exists and this agent may edit it (else `not_found` / `forbidden`).
async fn editable(state: &AppState, actor: &Actor, id: &str) -> ApiResult<()> {
    shared::limits::validate_id("customer id", id)?;
    if state.store.customer_profile(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no customer {id}")).into());
    }
    let tickets = state.store.tickets_of_customer(id).await?;
    let sees = sees_customer(state, actor, id, &tickets).await?;
    if !may_edit(actor, sees) {
        return Err(
            ApiError::forbidden("this customer has not chatted with your departments").into(),
        );
    }
    Ok(())
}

async fn update(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<CustomerPatch>,
) -> ApiResult<Json<Customer>> {
    editable(&state, &auth.actor, &id).await?;
    let edit = validate_patch(p)?;
    Ok(Json(
        state.store.update_customer(&auth.actor, &id, edit).await?,
    ))
}

async fn notes(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<CustomerNote>>> {
    editable(&state, &auth.actor, &id).await?;
    Ok(Json(Items {
        items: state.store.customer_notes(&id).await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteInput {
    body: String,
}

async fn add_note(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteInput>,
) -> ApiResult<(StatusCode, Json<CustomerNote>)> {
    editable(&state, &auth.actor, &id).await?;
    let body = validate_note_body(&input.body)?;
    let note = state
        .store
        .add_customer_note(&auth.actor, &id, body)
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn delete_note(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path((id, note_id)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    shared::limits::validate_id("note id", &note_id)?;
    editable(&state, &auth.actor, &id).await?;
    state
        .store
        .delete_customer_note(&auth.actor, &id, &note_id)
        .await?;
    Ok(Json(serde_json::json!({})))
}
