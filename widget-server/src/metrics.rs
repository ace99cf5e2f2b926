//! Prometheus metrics: counters and histograms recorded where things happen (pushes,
//! commits, acks, errors, sign-ins) and gauges read at each scrape (sockets per
//! namespace, the waiting queue). Served on `--metrics-bind` or, with
//! `--metrics-token`, at `/metrics` on the public listener; off otherwise.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use shared::model::{ChatStatus, Role};

use crate::AppState;
use crate::store::{Actor, ChatFilter, ChatSort, now_ms};

pub const EVENTS: &str = "panel_events_pushed_total";
pub const MESSAGES: &str = "panel_messages_total";
pub const COMMIT_BATCH: &str = "panel_commit_batch_size";
pub const COMMIT_SECONDS: &str = "panel_commit_seconds";
pub const WRITE_ACK_SECONDS: &str = "panel_write_ack_seconds";
pub const ERRORS: &str = "panel_errors_total";
pub const FAILED_LOGINS: &str = "panel_failed_logins_total";

/// The process's recorder (installed once; every server in the process shares it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// An error answered to a client, by code.
pub fn error(code: shared::ErrorCode, via: &'static str) {
    let code = serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    metrics::counter!(ERRORS, "code" => code, "via" => via).increment(1);
}

/// The text exposition, after reading the gauges.
pub async fn render(state: &AppState) -> String {
    for ns in [shared::events::AGENT_NS, shared::events::CUSTOMER_NS] {
        let n = state.io.of(ns).map_or(0, |o| o.sockets().len());
        metrics::gauge!("panel_sockets", "namespace" => ns).set(n as f64);
    }
    let overseer = Actor {
        id: String::new(),
        name: String::new(),
        role: Role::Admin,
        department_ids: Vec::new(),
    };
    let filter = ChatFilter {
        status: Some(ChatStatus::Waiting),
        department_id: None,
        assignee_id: None,
        customer_id: None,
        q: None,
        sort: ChatSort::Wait,
        page: 1,
        per_page: 1,
    };
    if let Ok(page) = state.store.chats(&overseer, &filter).await {
        metrics::gauge!("panel_queue_waiting_chats").set(page.total as f64);
        let longest = page.items.first().map_or(0.0, |c| {
            let started = (c.created_at.unix_timestamp_nanos() / 1_000_000) as i64;
            (now_ms() - started).max(0) as f64 / 1000.0
        });
        metrics::gauge!("panel_queue_longest_wait_seconds").set(longest);
    }
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

fn text(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// `/metrics` on a listener of its own: no token.
pub async fn open_route(State(state): State<AppState>) -> Response {
    text(render(&state).await)
}

/// `/metrics` on the public listener: only with `--metrics-token`, as a bearer token.
pub async fn token_route(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    use sha2::Digest;
    // Compared as digests: the comparison takes the same time wherever they differ.
    if sha2::Sha256::digest(given.as_bytes()) != sha2::Sha256::digest(expected.as_bytes()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    text(render(&state).await)
}

/// Serves `/metrics` alone on `listener` (for `--metrics-bind`).
pub fn spawn_listener(listener: tokio::net::TcpListener, state: AppState) {
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(open_route))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    });
}
