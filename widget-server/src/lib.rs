//! Agent Panel widget server.
//!
//! Module map:
//! - `config`: where data lives and the edge limits.
//! - `domain`: the product rules (who may do what, chat decisions, routing), pure.
//! - `store`: one trait per domain, the SQLite backend (group commit, event log) and
//!   the PostgreSQL one.
//! - `auth`: passwords, tokens, revocation, sign-in throttling.
//! - `http`: the REST API under `/api/v1` and the customer widget's files.
//! - `socket`: the Socket.IO `/agent` and `/customer` namespaces and the dispatcher
//!   that pushes committed events to the sockets allowed to see them.
//! - `metrics`: Prometheus counters and `/metrics`.
//! - `admin`: bootstrap and recovery operations used by the `admin` subcommands.

pub mod admin;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod migrate;
pub mod socket;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::socket::SocketIo;
pub use config::Config;

use crate::auth::{LoginThrottle, PasswordChecks, RevokedCache, Tokens};
use crate::store::Store;

/// Everything a request or socket handler needs.
pub struct Inner {
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    pub revoked: RevokedCache,
    pub throttle: LoginThrottle,
    /// Rate limits per visitor, agent and client address, across sockets.
    pub limits: socket::limits::Limits,
    /// The bounded pool that sign-ins verify passwords in.
    pub password_checks: PasswordChecks,
    pub config: Config,
    pub io: SocketIo,
    /// Redis, when several nodes share the work (`--redis-url`).
    pub cluster: cluster::Cluster,
}

pub type AppState = Arc<Inner>;

/// Opens the store, builds the router (REST + Socket.IO + widget) and returns it with
/// the state; the event dispatcher is running when this returns.
pub async fn build(config: Config) -> anyhow::Result<(axum::Router, AppState)> {
    config.ensure_data_dir()?;
    metrics::handle();
    let store = store::open(&config).await?;
    let tokens = Tokens::load_or_create(&config.data_dir)?;
    let cluster = match &config.redis_url {
        Some(url) => cluster::Cluster::connect(url, &config.redis_prefix).await?,
        None => cluster::Cluster::local(),
    };
    let (layer, io) = socket::layer(&cluster);
    let state: AppState = Arc::new(Inner {
        store,
        tokens,
        revoked: RevokedCache::default(),
        throttle: LoginThrottle::new(cluster.clone()),
        limits: socket::limits::Limits::new(&config, cluster.clone()),
        password_checks: PasswordChecks::new(
            config.max_password_checks,
            config.password_check_wait,
        ),
        config,
        io: io.clone(),
        cluster,
    });
    socket::register(&io, state.clone()).await?;
    socket::spawn_dispatcher(state.clone())?;
    socket::sessions::spawn_watcher(state.clone());
    socket::presence::spawn_heartbeat(state.clone());
    spawn_upload_purge(state.clone());
    let router = http::router(state.clone()).layer(layer);
    Ok((router, state))
}

/// Deletes uploads never sent in a message once they are older than
/// `--unsent-upload-hours`, checking every ten minutes (and at start).
fn spawn_upload_purge(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let age =
                i64::try_from(state.config.unsent_upload_max_age.as_millis()).unwrap_or(i64::MAX);
            match state
                .store
                .purge_unsent_attachments(store::now_ms().saturating_sub(age))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "purged uploads never sent"),
                Err(e) => tracing::warn!(error = %e.message, "purging unsent uploads failed"),
            }
        }
    });
}

/// Serves on `listener` until `shutdown` resolves, then stops accepting, disconnects
/// sockets, lets in-flight writes commit and closes the store.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (router, state) = build(config).await?;
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");
    if let Some(bind) = state.config.metrics_bind {
        let metrics_listener = tokio::net::TcpListener::bind(bind).await?;
        tracing::info!(
            "metrics on http://{}/metrics",
            metrics_listener.local_addr()?
        );
        metrics::spawn_listener(metrics_listener, state.clone());
    }
    let io = state.io.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let watcher = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: closing sockets");
        // Long-lived WebSockets would hold the graceful shutdown open forever.
        io.close().await;
        let _ = stop_tx.send(());
    });
    let served = server.await;
    watcher.abort();
    state.store.close_store().await;
    tracing::info!("store closed");
    served.map_err(Into::into)
}
