//! `/canned-responses`: an agent's personal saved replies and the team's, with who
//! may change which (team ones: supervisors and admins only).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use shared::ApiError;
use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::limits::{MAX_SEARCH_CHARS, validate_page};
use shared::model::Page;

use super::AuthAgent;
use crate::AppState;
use crate::error::{ApiJson, ApiQuery, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/canned-responses", get(list).post(create))
        .route(
            "/canned-responses/{id}",
            get(one).put(replace).delete(remove),
        )
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<CannedResponse>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    let search = q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(s) = &search {
        if s.chars().count() > MAX_SEARCH_CHARS {
            return Err(ApiError::invalid(format!(
                "q is longer than {MAX_SEARCH_CHARS} characters"
            ))
            .into());
        }
        if let Some((pos, c)) = shared::limits::find_control_char(s, false) {
            return Err(ApiError::invalid(format!(
                "q contains a control character (U+{:04X} at position {pos})",
                c as u32
            ))
            .into());
        }
    }
    Ok(Json(
        state
            .store
            .canned_list(&auth.agent.id, search.as_deref(), page, per_page)
            .await?,
    ))
}

fn may_manage_team(auth: &AuthAgent) -> bool {
    auth.actor.can_manage_team_canned()
}

/// Loads a response the caller may see: their own personal ones and every team one.
/// Someone else's personal response is answered as missing, never as forbidden.
async fn visible(state: &AppState, auth: &AuthAgent, id: &str) -> Result<CannedResponse, ApiError> {
    shared::limits::validate_id("canned response id", id)?;
    match state.store.canned(id).await? {
        Some(c) if c.scope == CannedScope::Team || c.owner_id == auth.agent.id => Ok(c),
        _ => Err(ApiError::not_found(format!("no canned response {id}"))),
    }
}

/// Loads a response the caller may change: their own personal ones, and team ones
/// when they are a supervisor or an admin.
async fn changeable(
    state: &AppState,
    auth: &AuthAgent,
    id: &str,
) -> Result<CannedResponse, ApiError> {
    let c = visible(state, auth, id).await?;
    if c.scope == CannedScope::Team && !may_manage_team(auth) {
        return Err(ApiError::forbidden(
            "only supervisors and admins change team canned responses",
        ));
    }
    Ok(c)
}

async fn one(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<CannedResponse>> {
    Ok(Json(visible(&state, &auth, &id).await?))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(input): ApiJson<CannedInput>,
) -> ApiResult<(axum::http::StatusCode, Json<CannedResponse>)> {
    let input = input.validate()?;
    let scope = input.scope.unwrap_or(CannedScope::Personal);
    if scope == CannedScope::Team && !may_manage_team(&auth) {
        return Err(ApiError::forbidden(
            "only supervisors and admins create team canned responses; create a personal one",
        )
        .into());
    }
    let c = state
        .store
        .create_canned(&auth.agent.id, scope, &input)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(c)))
}

async fn replace(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CannedInput>,
) -> ApiResult<Json<CannedResponse>> {
    let current = changeable(&state, &auth, &id).await?;
    let input = input.validate()?;
    if input.scope.is_some_and(|s| s != current.scope) {
        return Err(ApiError::invalid(
            "the scope of a canned response cannot be changed; create a new one instead",
        )
        .into());
    }
    state
        .store
        .update_canned(&current, &input)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no canned response {id}")).into())
}

async fn remove(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    changeable(&state, &auth, &id).await?;
    if !state.store.delete_canned(&id).await? {
        return Err(ApiError::not_found(format!("no canned response {id}")).into());
    }
    Ok(Json(serde_json::json!({})))
}
