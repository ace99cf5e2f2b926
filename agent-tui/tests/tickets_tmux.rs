//! End to end: the real `agent-tui` binary in tmux against a real widget server on a
//! loopback port. The agent opens the Tickets view, filters it, sees a new ticket
//! arrive live, opens a ticket, replies, changes status and priority, and closes it
//! with a resolution; each step is checked on the screen and in the server's answers.

// A test may stop at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/tmux.rs"]
#[allow(dead_code)]
mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use agent_tui::net::socket::{Socket, SocketEvent};
use serde_json::{Value, json};
use shared::events as ev;
use shared::model::Role;
use tmux::{TMUX, Tmux, bin};
use tokio::sync::{mpsc, oneshot};

const PASSWORD: &str = "e2e-password-123";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
    async fn ticket(&self, id: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/tickets/{id}"), None)
            .await
    }
}

async fn new_ticket(api: &Api, subject: &str, body: &str, priority: &str) -> Value {
    api.call(
        reqwest::Method::POST,
        "/tickets",
        Some(json!({
            "subject": subject,
            "body": body,
            "customer_email": format!("{}@customers.test", subject.len()),
            "customer_name": "Fatima Zahra",
            "priority": priority,
            "client_msg_id": uuid::Uuid::new_v4().to_string(),
        })),
    )
    .await
}

struct Env {
    _tmp: tempfile::TempDir,
    url: String,
    api: Api,
    home: PathBuf,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A server on a loopback port with one Support agent, signed in over REST.
async fn start() -> Env {
    if !Path::new(TMUX).exists() {
        panic!("tmux is needed at {TMUX}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("home");
    let config = widget_server::Config::new(&data);
    {
        let admin = widget_server::admin::Admin::open(&config).await.unwrap();
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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(widget_server::serve(listener, config, async move {
        let _ = stopped.await;
    }));
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut login = None;
    for _ in 0..100 {
        if let Ok(r) = http
            .post(format!("{url}/api/v1/auth/login"))
            .json(&json!({"email": "agent@e2e.test", "password": PASSWORD}))
            .send()
            .await
            && r.status().is_success()
        {
            login = Some(r.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = login.expect("server up")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = Api {
        http: http.clone(),
        base: url.clone(),
        token,
    };
    Env {
        _tmp: tmp,
        url,
        api,
        home,
        stop,
        server,
    }
}

/// The console in tmux, signed in as the agent (from a script: the session file is
/// private).
fn console(env: &Env, name: &str) -> Tmux {
    let (url, home) = (&env.url, &env.home);
    let mut signin = Command::new(bin())
        .args([
            "login",
            "--server",
            url,
            "--email",
            "agent@e2e.test",
            "--password-stdin",
        ])
        .env("AGENT_PANEL_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = signin.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    let out = signin.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "login: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tmux = Tmux {
        socket: format!("agent-tui-{name}-{}", std::process::id()),
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
        "160",
        "-y",
        "48",
        &cmd,
    ]);
    tmux.run(&["set-option", "-t", "e2e", "remain-on-exit", "on"]);
    tmux.wait_for("the console", |s| s.contains("[Chats]"));

    tmux
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_filters_opens_replies_updates_and_closes_a_ticket_in_tmux() {
    let env = start().await;
    let api = &env.api;
    let fan = new_ticket(
        api,
        "Projector fan is loud",
        "The fan runs at full speed since the update.",
        "high",
    )
    .await;
    let lamp = new_ticket(api, "Lamp replacement quote", "How much is a lamp?", "low").await;
    api.call(
        reqwest::Method::PATCH,
        &format!("/tickets/{}", lamp["id"].as_str().unwrap()),
        Some(json!({"status": "pending"})),
    )
    .await;
    new_ticket(api, "Remote does not pair", "It blinks red.", "medium").await;
    let fan_id = fan["id"].as_str().unwrap().to_owned();
    let fan_no = fan["number"].as_i64().unwrap();

    let tmux = console(&env, "tickets");
    // The Tickets view lists all three.
    tmux.keys(&["g", "t"]);
    tmux.wait_for("three tickets", |s| {
        s.contains("Tickets (3)")
            && s.contains("Projector fan is loud")
            && s.contains("Lamp replacement quote")
            && s.contains("◐ pending")
    });

    // Filtering on open drops the pending one.
    tmux.command("filter status=open");
    tmux.wait_for("the filtered list", |s| {
        s.contains("filter status=open")
            && s.contains("Tickets (2)")
            && !s.contains("Lamp replacement quote")
    });

    // A ticket created elsewhere arrives live, marked unread, because it matches.
    new_ticket(
        api,
        "Screen flickers at 60 Hz",
        "Flickers on every input.",
        "urgent",
    )
    .await;
    tmux.wait_for("the pushed ticket", |s| {
        s.contains("Tickets (3)")
            && s.lines()
                .any(|l| l.contains("●#") && l.contains("Screen flickers at 60 Hz"))
            && s.contains("Tickets] ⚑1")
    });

    // A wrong filter is refused and says why.
    tmux.command("filter colour=red");
    tmux.wait_for("the refusal", |s| {
        s.contains("✗ filter refused: unknown filter field \"colour\"")
    });

    // Open the fan ticket.
    tmux.command(&format!("open #{fan_no}"));
    tmux.wait_for("the ticket's detail", |s| {
        s.contains(&format!("#{fan_no} Projector fan is loud"))
            && s.contains("Status ○ open")
            && s.contains("The fan runs at full speed since the update.")
    });

    // Reply with Ctrl+S.
    tmux.keys(&["r"]);
    tmux.text("Please update to firmware 2.3.2");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the reply in the timeline", |s| {
        s.contains("Erin Agent → customer") && s.contains("Please update to firmware 2.3.2")
    });
    tmux.keys(&["Escape"]);
    let entries = api
        .call(
            reqwest::Method::GET,
            &format!("/tickets/{fan_id}/entries"),
            None,
        )
        .await;
    let replies: Vec<&Value> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reply" && e["body"] == "Please update to firmware 2.3.2")
        .collect();
    assert_eq!(replies.len(), 1, "{entries}");

    // Status and priority, by command and by key.
    tmux.command("status pending");
    tmux.wait_for("pending", |s| s.contains("Status ◐ pending"));
    tmux.keys(&["p"]);
    tmux.text("urgent");
    tmux.keys(&["Enter"]);
    tmux.wait_for("urgent", |s| s.contains("Priority ‼ urgent"));
    let t = api.ticket(&fan_id).await;
    assert_eq!(t["status"], "pending", "{t}");
    assert_eq!(t["priority"], "urgent", "{t}");

    // Close with a resolution.
    tmux.keys(&["x"]);
    tmux.text("Firmware 2.3.2 fixed the fan curve");
    tmux.keys(&["Enter"]);
    tmux.wait_for("closed", |s| {
        s.contains("Status ■ closed") && s.contains("Resolution Firmware 2.3.2 fixed the fan curve")
    });
    let t = api.ticket(&fan_id).await;
    assert_eq!(t["status"], "closed", "{t}");
    assert_eq!(t["resolution"], "Firmware 2.3.2 fixed the fan curve", "{t}");
    // The changes show as event lines in the timeline.
    tmux.wait_for("event lines", |s| s.matches(" · ").count() >= 2);

    // Export writes a new private file with the reply (and no note).
    tmux.command("note Checked with the lab: fan curve bug");
    let out = env._tmp.path().join("fan-ticket.txt");
    tmux.command(&format!("export {}", out.display()));
    tmux.wait_for("the export", |s| s.contains("Exported to"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Please update to firmware 2.3.2"), "{text}");
    assert!(!text.contains("fan curve bug"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    let _ = env.stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), env.server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chat_becomes_a_ticket_with_its_transcript_from_the_console() {
    let env = start().await;
    // A visitor starts a chat.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sock = Socket::start(
        env.url.clone(),
        ev::CUSTOMER_NS.to_owned(),
        json!({"name": "Quinn Visitor"}),
        tx,
    );
    let fut = async {
        loop {
            match rx.recv().await {
                Some(SocketEvent::Push { event, .. }) if event == ev::SESSION => return,
                Some(_) => {}
                None => panic!("socket closed"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("session in time");
    let ack = sock
        .submit(
            ev::CHAT_START,
            json!({"body": "Hello, my projector will not turn on", "name": "Quinn Visitor"}),
        )
        .await
        .expect("chat:start acked");
    let chat_id = ack
        .pointer("/data/chat/id")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no chat in {ack}"))
        .to_owned();

    let tmux = console(&env, "chat-ticket");
    tmux.wait_for("the chat in the queue", |s| s.contains("Quinn Visitor"));
    tmux.command("ticket Projector will not turn on");
    let screen = tmux.wait_for("the new ticket open in the Tickets view", |s| {
        s.contains("[Tickets]")
            && s.contains("Projector will not turn on")
            && s.contains("Hello, my projector will not turn on")
            && s.contains("Source chat")
    });
    assert!(screen.contains("Quinn Visitor"), "{screen}");
    let chat = env
        .api
        .call(reqwest::Method::GET, &format!("/chats/{chat_id}"), None)
        .await;
    let ticket_id = chat["ticket_id"]
        .as_str()
        .expect("the chat points at its ticket");
    let t = env.api.ticket(ticket_id).await;
    assert_eq!(t["chat_id"], chat_id.as_str(), "{t}");
    assert_eq!(t["source"], "chat", "{t}");

    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    sock.stop();
    let _ = env.stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), env.server).await;
}
