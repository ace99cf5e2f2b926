//! A seeded server on a random local port whose state the test can read: for checks
//! that count what happened inside (password checks run, attempts per address).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use tokio::sync::oneshot;
use widget_server::{AppState, Config};

use crate::common::{Rest, Team, seed, wait_healthy};

pub struct StateServer {
    pub base: String,
    pub rest: Rest,
    pub state: AppState,
    pub team: Team,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl StateServer {
    /// A seeded server (send rate limit off); `tweak` adjusts the configuration.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> StateServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::new(dir.path().join("data"));
        config.send_rate_limit = 0;
        tweak(&mut config);
        let team = seed(&config).await;
        let (router, state) = widget_server::build(config.clone())
            .await
            .expect("build the server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
        });
        let base = format!("http://127.0.0.1:{port}");
        let server = StateServer {
            rest: Rest::new(&base),
            base,
            state,
            team,
            config,
            stop: Some(stop_tx),
            _dir: dir,
        };
        wait_healthy(&server.rest).await;
        server
    }
}

impl Drop for StateServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
