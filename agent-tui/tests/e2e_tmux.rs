//! End to end: the real `agent-tui` binary in tmux against a real widget server
//! (embedded on a loopback port) with scripted visitors on `/customer`. The chat
//! shows up, j/k select it, c claims it, a two-line reply sent with Ctrl+S reaches the
//! visitor, the visitor's answer (bidi overrides, zero-width and wide characters)
//! shows as inert text, and a message typed while the server is down is delivered
//! once after it restarts.

// A test may stop at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/tmux.rs"]
#[allow(dead_code)]
mod tmux;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_tui::net::socket::{Socket, SocketEvent};
use serde_json::{Value, json};
use shared::events as ev;
use shared::model::Role;
use tmux::{TMUX, Tmux, bin};
use tokio::sync::{mpsc, oneshot};

const PASSWORD: &str = "e2e-password-123";

struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start_server(data: &Path, port: u16) -> (Server, u16) {
    let mut config = widget_server::Config::new(data);
    config.send_rate_limit = 0;
    // A freed port can take a moment to be bindable again.
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => break l,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("bind: {e}"),
        }
    };
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(widget_server::serve(listener, config, async move {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/api/v1/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (
        Server {
            stop: Some(tx),
            task,
        },
        port,
    )
}

impl Server {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

struct Visitor {
    sock: Socket,
    rx: mpsc::UnboundedReceiver<SocketEvent>,
    chat_id: String,
}

impl Visitor {
    async fn start(url: &str, name: &str, body: &str) -> Visitor {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sock = Socket::start(
            url.to_owned(),
            ev::CUSTOMER_NS.to_owned(),
            json!({"name": name}),
            tx,
        );
        next_push(&mut rx, |e, _| e == ev::SESSION).await;
        let ack = sock
            .submit(ev::CHAT_START, json!({"body": body, "name": name}))
            .await
            .expect("chat:start acked");
        let chat_id = ack
            .pointer("/data/chat/id")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no chat in {ack}"))
            .to_owned();
        Visitor { sock, rx, chat_id }
    }

    async fn send(&self, body: &str) -> Value {
        self.sock
            .submit(
                ev::MESSAGE_SEND,
                json!({"client_msg_id": uuid::Uuid::new_v4().to_string(), "body": body, "chat_id": self.chat_id}),
            )
            .await
            .expect("ack")
    }
}

async fn next_push(
    rx: &mut mpsc::UnboundedReceiver<SocketEvent>,
    f: impl Fn(&str, &Value) -> bool,
) -> Value {
    let fut = async {
        loop {
            match rx.recv().await {
                Some(SocketEvent::Push { event, data }) if f(&event, &data) => return data,
                Some(_) => {}
                None => panic!("socket closed"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("push in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_works_a_chat_in_tmux_and_survives_a_server_restart() {
    if !Path::new(TMUX).exists() {
        panic!("tmux is needed at {TMUX}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("home");
    {
        let admin = widget_server::admin::Admin::open(&widget_server::Config::new(&data))
            .await
            .unwrap();
        admin.create_department("Support").await.unwrap();
        admin
            .create_agent(
                "agent@e2e.test",
                "Erin Agent",
                Role::Agent,
                &["Support".to_owned()],
                PASSWORD,
            )
            .await
            .unwrap();
        admin.close().await;
    }
    let (server, port) = start_server(&data, 0).await;
    let url = format!("http://127.0.0.1:{port}");

    // Sign in from a script: the session file is private.
    let mut login = Command::new(bin())
        .args([
            "login",
            "--server",
            &url,
            "--email",
            "agent@e2e.test",
            "--password-stdin",
        ])
        .env("AGENT_PANEL_HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = login.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    let out = login.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "login: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("session.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let alpha = Visitor::start(&url, "Alpha Early", "first in line").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut quinn = Visitor::start(
        &url,
        "Quinn Visitor",
        "Hello, my projector will not turn on",
    )
    .await;
    let _ = &alpha;

    let tmux = Tmux {
        socket: format!("agent-tui-e2e-{}", std::process::id()),
    };
    let cmd = format!(
        "env AGENT_PANEL_HOME={} TERM=xterm-256color {} --server {url}",
        home.display(),
        bin().display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "120",
        "-y",
        "36",
        &cmd,
    ]);
    tmux.run(&["set-option", "-t", "e2e", "remain-on-exit", "on"]);

    // The chats appear in the queue, oldest first.
    tmux.wait_for("both chats in the queue", |s| {
        s.contains("Alpha Early") && s.contains("Quinn Visitor") && s.contains("Waiting (2)")
    });
    let row = |s: &str, name: &str| s.lines().any(|l| l.contains(&format!("▶ {name}")));
    tmux.wait_for("Alpha selected first", |s| row(s, "Alpha Early"));
    tmux.keys(&["j"]);
    tmux.wait_for("j selects Quinn", |s| row(s, "Quinn Visitor"));
    tmux.keys(&["k"]);
    tmux.wait_for("k goes back", |s| row(s, "Alpha Early"));
    tmux.keys(&["j"]);
    tmux.wait_for("j again", |s| row(s, "Quinn Visitor"));

    // Claim it: it moves to Mine and opens.
    tmux.keys(&["c"]);
    tmux.wait_for("the claim", |s| {
        s.contains("Mine (1)") && s.contains("with you")
    });
    tmux.wait_for("the history", |s| {
        s.contains("│ Hello, my projector will not turn on")
    });

    // A two-line reply: Enter is a newline, Ctrl+S sends.
    tmux.keys(&["i"]);
    tmux.text("Sorry to hear that!");
    tmux.keys(&["Enter"]);
    tmux.text("Is the power light on?");
    tmux.keys(&["C-s"]);
    let got = next_push(&mut quinn.rx, |e, d| {
        e == ev::MESSAGE_NEW
            && d.pointer("/message/author/kind").and_then(Value::as_str) == Some("agent")
    })
    .await;
    assert_eq!(
        got.pointer("/message/body").and_then(Value::as_str),
        Some("Sorry to hear that!\nIs the power light on?")
    );

    // The visitor answers with text that tries to rearrange the screen. Raw escape
    // bytes are refused by the server; bidi, zero-width and wide characters pass.
    let refused = quinn.send("sneaky \u{1b}[2J clear").await;
    assert_eq!(refused.get("ok"), Some(&Value::Bool(false)), "{refused}");
    let ack = quinn
        .send("No light \u{202E}gnp.exe\u{202C} at all\u{200B}! 漢字テスト 👍")
        .await;
    assert_eq!(ack.get("ok"), Some(&Value::Bool(true)), "{ack}");
    let s = tmux.wait_for("the visitor's answer", |s| {
        s.contains("No light gnp.exe at all!")
    });
    assert!(s.contains("漢字テスト"), "{s}");
    assert!(!s.contains('\u{202E}') && !s.contains('\u{200B}') && !s.contains('\u{1b}'));
    assert!(!s.contains("sneaky"), "a refused message never shows");
    // The frame is intact: top bar first, status bar and mode at the bottom.
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].contains("Agent Panel"), "{s}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("INSERT") && l.contains("online")),
        "{s}"
    );

    // The server goes away; a message typed now waits in the outbox.
    server.stop().await;
    tmux.wait_for("offline", |s| {
        s.contains("offline") || s.contains("reconnecting")
    });
    tmux.text("Still there? I will send a replacement.");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the pending mark", |s| {
        s.contains("◷ pending") && s.contains("1 unsent")
    });
    // It is on disk too, so a restart of the console would keep it.
    let outbox = std::fs::read_to_string(home.join("outbox.json")).unwrap();
    assert!(
        outbox.contains("Still there? I will send a replacement."),
        "{outbox}"
    );

    // The server comes back on the same port: the outbox flushes once.
    let (server, _) = start_server(&data, port).await;
    tmux.wait_for("delivery after the restart", |s| {
        s.contains("online") && !s.contains("◷ pending") && s.contains("Still there? I will send")
    });
    let session: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("session.json")).unwrap()).unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let msgs: Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/chats/{}/messages", quinn.chat_id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(
        bodies
            .iter()
            .filter(|b| **b == "Still there? I will send a replacement.")
            .count(),
        1,
        "{bodies:?}"
    );
    let outbox = std::fs::read_to_string(home.join("outbox.json")).unwrap();
    assert!(!outbox.contains("replacement"), "{outbox}");

    // Leaving restores the terminal and exits cleanly.
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dead = tmux.run(&[
            "list-panes",
            "-t",
            "e2e",
            "-F",
            "#{pane_dead} #{pane_dead_status}",
        ]);
        let mut parts = dead.split_whitespace();
        if parts.next() == Some("1") {
            // Older tmux leaves the status empty; when it is there it must be 0.
            assert!(
                matches!(parts.next(), None | Some("0")),
                "exit status: {dead:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console did not exit: {dead:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    quinn.sock.stop();
    server.stop().await;
}
