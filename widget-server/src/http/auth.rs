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
use crate::auth::{REMEMBER_TTL, SESSION_TTL, client_ip, dummy_hash};
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

/// Sign-in: the attempt is reserved in the throttle before anything is looked up, a
/// noisy address waits its delay, and the password is checked in the bounded pool.
/// Unknown e-mail and wrong password take the same path and get the same answer.
async fn login(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    ApiJson(req): ApiJson<LoginReq>,
) -> ApiResult<Json<LoginResp>> {
    let ip = client_ip(
        super::peer_ip(&parts),
        &parts.headers,
        &state.config.trusted_proxies,
    );
    if req.email.len() > MAX_EMAIL_CHARS || req.password.len() > MAX_PASSWORD_CHARS * 4 {
        return Err(ApiError::invalid("email or password is too long").into());
    }
    let email = req.email.trim().to_lowercase();
    let attempt = state.throttle.reserve(&email, ip).await?;
    let delay = state.throttle.delay(ip).await;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let found = match state.store.agent_credentials(&email).await {
        Ok(found) => found,
        Err(e) => {
            attempt.not_checked().await;
            return Err(e.into());
        }
    };
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let noisy = state.throttle.is_noisy(ip).await;
    let ok = match state
        .password_checks
        .verify(req.password, hash, noisy)
        .await
    {
        Ok(ok) => ok,
        Err(e) => {
            attempt.not_checked().await;
            return Err(e.into());
        }
    };
    let Some((agent, _)) = found.filter(|_| ok) else {
        attempt.failed().await;
        metrics::counter!(crate::metrics::FAILED_LOGINS).increment(1);
        return Err(ApiError::unauthorized("wrong email or password").into());
    };
    attempt.succeeded().await;
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
    state.revoked.insert(&auth.claims.jti, auth.claims.exp);
    crate::socket::disconnect_token(&state, &auth.claims.jti).await;
    Ok(Json(serde_json::json!({})))
}

async fn me(auth: AuthAgent) -> Json<Agent> {
    Json(auth.agent)
}
