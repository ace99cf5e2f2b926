//! The REST API under `/api/v1` (one file per resource) and the widget's files.

mod attachments;
mod auth;
mod canned;
mod chats;
mod customers;
mod directory;
mod export;
mod kb;
mod kb_pages;
mod reports;
mod tickets;
mod transcript;
mod visitor;
pub mod widget;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use axum::{Json, Router};
use shared::ApiError;
use shared::limits::MAX_REST_BODY_BYTES;
use shared::model::Agent;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::auth::Claims;
use crate::error::AppError;
use crate::store::Actor;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(attachments::router())
        .merge(canned::router())
        .merge(chats::router())
        .merge(customers::router())
        .merge(directory::router())
        .merge(tickets::router())
        .merge(kb::router())
        .merge(kb_pages::public_api().layer(visitor_cors(&state.config.allowed_origins)))
        .merge(reports::router())
        .merge(visitor::router().layer(visitor_cors(&state.config.allowed_origins)))
        .route("/healthz", get(healthz))
        .fallback(|| async { AppError(ApiError::not_found("no such API route; see docs/api.md")) });
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::token_route))
        .merge(widget::router())
        .merge(kb_pages::pages())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REST_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// The widget on a customer's site reads the visitor's history cross-origin: allow
/// exactly the origins allowed on `/customer`.
fn visitor_cors(allowed: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<String> = allowed
        .iter()
        .map(|a| a.trim_end_matches('/').to_ascii_lowercase())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            let o = origin.to_str().unwrap_or("").to_ascii_lowercase();
            allowed.iter().any(|a| a == "*" || *a == o)
        }))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            axum::http::HeaderName::from_static("x-visitor-token"),
            header::CONTENT_TYPE,
        ])
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// An authenticated agent, from `Authorization: Bearer <token>`.
pub struct AuthAgent {
    pub agent: Agent,
    pub claims: Claims,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for AuthAgent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("sign in first: missing Authorization header"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer <token>'"))?;
        let (agent, claims) = crate::auth::authenticate(
            &state.tokens,
            state.store.as_ref(),
            &state.revoked,
            token.trim(),
        )
        .await?;
        let actor = Actor::from_agent(&agent);
        Ok(AuthAgent {
            agent,
            claims,
            actor,
        })
    }
}

/// An authenticated admin.
pub struct AdminAgent(pub AuthAgent);

impl FromRequestParts<AppState> for AdminAgent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let a = AuthAgent::from_request_parts(parts, state).await?;
        if a.agent.role != shared::model::Role::Admin {
            return Err(ApiError::forbidden("administrators only").into());
        }
        Ok(AdminAgent(a))
    }
}

/// The peer address, when the server was started with connect info.
pub fn peer_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}
