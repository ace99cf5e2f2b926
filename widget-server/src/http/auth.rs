//! `/auth`: sign in, sign out (revocation), who am I.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use shared::ApiError;
use shared::limits::{MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS};
use shared::model::Agent;
use time::OffsetDateTime;

use super::AuthAgent;
use crate::AppState;
use crate::auth::{REMEMBER_TTL, SESSION_TTL, dummy_hash, verify_password};
use crate::error::{ApiJson, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
}

#[derive(Deserialize)]
struct LoginReq {
    email: String,
    password: String,
    #[serde(default)]
    remember_me: bool,
}

#[derive(Serialize)]
struct LoginResp {
    token: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    agent: Agent,
}

async fn login(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    ApiJson(req): ApiJson<LoginReq>,
) -> ApiResult<Json<LoginResp>> {
    let ip = super::peer_ip(&parts);
    if req.email.len() > MAX_EMAIL_CHARS || req.password.len() > MAX_PASSWORD_CHARS * 4 {
        return Err(ApiError::invalid("email or password is too long").into());
    }
    let email = req.email.trim().to_lowercase();
    state.throttle.check(&email, ip)?;
    let found = state.store.agent_credentials(&email).await?;
    let password = req.password.clone();
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    // argon2 is CPU-heavy: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some((agent, _)) = found.filter(|_| ok) else {
        state.throttle.failed(&email, ip);
        return Err(ApiError::unauthorized("wrong email or password").into());
    };
    state.throttle.succeeded(&email);
    let ttl = if req.remember_me {
        REMEMBER_TTL
    } else {
        SESSION_TTL
    };
    let (token, claims) = state.tokens.issue(&agent.id, ttl)?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(claims.exp as i64).map_err(|_| ApiError::internal())?;
    tracing::info!(agent = %agent.email, "signed in");
    Ok(Json(LoginResp {
        token,
        expires_at,
        agent,
    }))
}

async fn logout(
    State(state): State<AppState>,
    auth: AuthAgent,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .store
        .revoke_token(&auth.claims.jti, (auth.claims.exp as i64) * 1000)
        .await?;
    state.revoked.insert(&auth.claims.jti);
    crate::socket::disconnect_token(&state, &auth.claims.jti).await;
    Ok(Json(serde_json::json!({})))
}

async fn me(auth: AuthAgent) -> Json<Agent> {
    Json(auth.agent)
}
