//! A real widget server on a loopback port with one agent in Support, and the console's
//! network worker's messages, as the worker-level end-to-end tests use them.

use std::time::Duration;

use agent_tui::msg::{Msg, NetEvent};
use shared::model::Role;
use tokio::sync::mpsc;

/// Starts a server in a temporary directory with the department Support and the agent
/// Ann (`email`, `password`); `tweak` adjusts its config. Answers the directory (keep it
/// alive), the server's URL and the sender that stops it.
pub async fn server(
    email: &str,
    password: &str,
    tweak: impl FnOnce(&mut widget_server::Config),
) -> (tempfile::TempDir, String, tokio::sync::oneshot::Sender<()>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = widget_server::Config::new(tmp.path().join("data"));
    tweak(&mut config);
    let admin = widget_server::admin::Admin::open(&config).await.unwrap();
    admin.create_department("Support").await.unwrap();
    admin
        .create_agent(email, "Ann", Role::Agent, &["Support".into()], password)
        .await
        .unwrap();
    admin.close().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(widget_server::serve(listener, config, async move {
        let _ = rx.await;
    }));
    for _ in 0..100 {
        if reqwest::get(format!("{url}/api/v1/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (tmp, url, tx)
}

/// The worker's next network event for which `f` holds (30 s bound a failure only).
pub async fn next(
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    f: impl Fn(&NetEvent) -> bool,
) -> NetEvent {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(Msg::Net(e)) = rx.recv().await
                && f(&e)
            {
                return e;
            }
        }
    })
    .await
    .expect("event in time")
}
