//! The load generator against a real widget server on a 127.0.0.1 port: small runs
//! in each mode must lose nothing, fail nothing, and store every acked message once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use loadgen::run::{self, Mode, Options, Report};
use loadgen::setup::{self, Layout};
use shared::model::Role;
use widget_server::Config;
use widget_server::admin::Admin;

struct Server {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A fresh server with `agents` agents of `layout`, created through the admin API.
    async fn start(layout: Layout, agents: u32, send_rate_limit: u32) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.send_rate_limit = send_rate_limit;
        let admin = Admin::open(&config).await.unwrap();
        for i in 0..agents {
            let dept = setup::agent_department(layout, i);
            if i == 0 || layout == Layout::Solo {
                admin.create_department(&dept).await.unwrap();
            }
            admin
                .create_agent(
                    &setup::agent_email(layout, i),
                    &format!("Load Agent {i}"),
                    Role::Agent,
                    &[dept],
                    setup::DEFAULT_PASSWORD,
                )
                .await
                .unwrap();
        }
        admin.close().await;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // The server gets its own runtime on its own thread, as a separate process would.
        let task = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                widget_server::serve(listener, config, async move {
                    let _ = rx.await;
                })
                .await
            })
        });
        Server {
            url,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

fn options(url: &str, layout: Layout, agents: u32, visitors: u32, mode: Mode) -> Options {
    Options {
        url: url.to_owned(),
        extra_urls: Vec::new(),
        allow_remote: false,
        agents,
        visitors,
        layout,
        password: setup::DEFAULT_PASSWORD.to_owned(),
        create_agents: None,
        reply_share: 0.25,
        body_chars: 30,
        max_inflight: 64,
        connect_concurrency: 16,
        connect_timeout: Duration::from_secs(20),
        grace: Duration::from_secs(10),
        server_pid: Some(std::process::id()),
        verify: true,
        idle_chats: false,
        mode,
    }
}

async fn go(opts: &Options) -> Report {
    tokio::time::timeout(opts.default_deadline(), run::run(opts))
        .await
        .expect("run within its deadline")
        .expect("run succeeds")
}

fn assert_clean(r: &Report) {
    assert!(r.clean(), "not clean: {}", loadgen::report::table(r));
    assert!(r.sent > 0);
    assert_eq!(r.acked, r.sent);
    assert_eq!(r.delivered, r.acked);
    let v = r.verify.as_ref().expect("verified");
    assert_eq!(v.stored_load_messages, r.acked + r.agent_to_visitor.acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_rate_with_fan_out_loses_nothing() {
    let server = Server::start(Layout::Shared, 3, 0).await;
    let opts = options(
        &server.url,
        Layout::Shared,
        3,
        12,
        Mode::Fixed {
            rate: 60.0,
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(2),
        },
    );
    let r = go(&opts).await;
    assert_clean(&r);
    assert_eq!(
        (r.connected_visitors, r.connected_agents, r.chats),
        (12, 3, 12)
    );
    // One department: every visitor message reaches all three agents.
    assert_eq!(r.deliveries, 3 * r.sent);
    // A quarter of the visitor messages are answered, and every answer arrives.
    // (Each agent answers every fourth of its own chats' messages.)
    let replies = r.agent_to_visitor.sent;
    assert!(
        replies <= r.delivered / 4 && replies + 3 >= r.delivered / 4,
        "{replies}"
    );
    assert_eq!(r.agent_to_visitor.delivered, r.agent_to_visitor.sent);
    assert!(r.latency.delivery.count >= r.latency.ack.count);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_in_solo_departments_reaches_one_agent_each() {
    let server = Server::start(Layout::Solo, 2, 0).await;
    let mut opts = options(
        &server.url,
        Layout::Solo,
        2,
        6,
        Mode::ClosedLoop {
            inflight: 3,
            warmup: Duration::from_millis(200),
            duration: Duration::from_secs(1),
        },
    );
    opts.reply_share = 0.0;
    let r = go(&opts).await;
    assert_clean(&r);
    assert_eq!(
        r.deliveries, r.sent,
        "each message reaches exactly one agent"
    );
    assert!(r.throughput_per_s > 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_rate_ramp_reports_steps() {
    let server = Server::start(Layout::Shared, 2, 0).await;
    let mut opts = options(
        &server.url,
        Layout::Shared,
        2,
        8,
        Mode::MaxRate {
            start: 20.0,
            growth: 2.0,
            step: Duration::from_millis(700),
            // An impossible bound makes the first step fail, so the ramp stops early.
            bound_ms: 0.0,
            refine: 1,
            max_steps: 3,
            max_rate: 1000.0,
        },
    );
    opts.verify = false;
    let r = go(&opts).await;
    let m = r.max_rate.as_ref().expect("ramp result");
    assert!(!m.steps.is_empty() && m.steps.len() <= 3);
    assert!(!m.steps[0].passed);
    assert_eq!(m.best_rate, 0.0);
    assert_eq!(r.lost, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_mode_counts_connections_and_memory() {
    let server = Server::start(Layout::Shared, 2, 0).await;
    let mut opts = options(
        &server.url,
        Layout::Shared,
        2,
        20,
        Mode::Idle {
            hold: Duration::from_secs(2),
        },
    );
    opts.verify = false;
    let r = go(&opts).await;
    let i = r.idle.as_ref().expect("idle result");
    assert_eq!(i.connections, 22);
    assert!(i.rss_connected_kib > 0);
    assert_eq!(r.error_total, 0, "{:?}", r.errors);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_sends_are_counted_as_errors() {
    // The default per-socket limit (10/s, burst 20) must show up as `rate_limited`.
    let server = Server::start(Layout::Shared, 1, 10).await;
    let mut opts = options(
        &server.url,
        Layout::Shared,
        1,
        1,
        Mode::Fixed {
            rate: 200.0,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
        },
    );
    opts.reply_share = 0.0;
    opts.verify = true;
    let r = go(&opts).await;
    assert!(
        r.errors.get("rate_limited").copied().unwrap_or(0) > 0,
        "{:?}",
        r.errors
    );
    assert!(!r.clean());
    // Refused sends are not lost: only acked ones must arrive, and they did.
    assert_eq!(r.lost, 0);
    let v = r.verify.as_ref().unwrap();
    assert_eq!((v.missing, v.duplicated), (0, 0));
    server.stop().await;
}

#[tokio::test]
async fn remote_hosts_are_refused() {
    let opts = options(
        "http://192.0.2.1:5000",
        Layout::Shared,
        1,
        1,
        Mode::Idle {
            hold: Duration::ZERO,
        },
    );
    let err = run::run(&opts).await.unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
}
