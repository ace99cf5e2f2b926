//! Test harness: a widget server on a random local port (in-process, or the real
//! binary) with a seeded team, REST helpers, a Socket.IO test client built on
//! `rust_socketio` that works around its known defects, and a raw WebSocket client
//! for what `rust_socketio` cannot send.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod backends;
pub mod relay;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::{Value, json};
use shared::model::{Agent, Department, Role};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::Instant;
use widget_server::Config;
use widget_server::admin::Admin;

/// Every seeded agent's password.
pub const PASSWORD: &str = "correct-horse-battery-9";
/// How long an expected event or ack may take.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a negative check ("nothing arrives") listens.
pub const QUIET: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------------------
// The seeded team

/// Two departments (Sales was created first, so it is the default) and one agent of
/// each role; Carol is the only one outside Sales.
#[derive(Debug, Clone)]
pub struct Team {
    pub sales: Department,
    pub support: Department,
    /// agent, Sales
    pub alice: Agent,
    /// agent, Sales
    pub bob: Agent,
    /// agent, Support
    pub carol: Agent,
    /// supervisor, Sales
    pub sam: Agent,
    /// admin, no department
    pub ada: Agent,
}

pub async fn seed(config: &Config) -> Team {
    let admin = Admin::open(config)
        .await
        .expect("open the store for seeding");
    let sales = admin
        .create_department("Sales")
        .await
        .expect("create Sales");
    let support = admin
        .create_department("Support")
        .await
        .expect("create Support");
    let mk = |email: &'static str, name: &'static str, role: Role, depts: Vec<String>| {
        let admin = &admin;
        async move {
            admin
                .create_agent(email, name, role, &depts, PASSWORD)
                .await
                .unwrap_or_else(|e| panic!("create agent {email}: {e:#}"))
        }
    };
    let alice = mk(
        "alice@example.com",
        "Alice Agent",
        Role::Agent,
        vec!["Sales".into()],
    )
    .await;
    let bob = mk(
        "bob@example.com",
        "Bob Agent",
        Role::Agent,
        vec!["Sales".into()],
    )
    .await;
    let carol = mk(
        "carol@example.com",
        "Carol Agent",
        Role::Agent,
        vec!["Support".into()],
    )
    .await;
    let sam = mk(
        "sam@example.com",
        "Sam Supervisor",
        Role::Supervisor,
        vec!["Sales".into()],
    )
    .await;
    let ada = mk("ada@example.com", "Ada Admin", Role::Admin, vec![]).await;
    admin.close().await;
    Team {
        sales,
        support,
        alice,
        bob,
        carol,
        sam,
        ada,
    }
}

// ---------------------------------------------------------------------------
// REST

/// A REST client for one server (`base` = `http://127.0.0.1:PORT`).
#[derive(Clone)]
pub struct Rest {
    pub base: String,
    pub http: reqwest::Client,
}

/// A REST answer: the status and the body (JSON, or the text as a JSON string).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The error code of an error body (`{"error":{"code","message"}}`), checking its shape.
    pub fn error_code(&self) -> String {
        let err = self
            .body
            .get("error")
            .unwrap_or_else(|| panic!("not an error body: {} {}", self.status, self.body));
        assert!(
            err.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| !m.is_empty()),
            "error without a message: {}",
            self.body
        );
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(1),
            "error body has more than `error`: {}",
            self.body
        );
        err["code"]
            .as_str()
            .expect("error code is a string")
            .to_owned()
    }

    /// Asserts the status and the error code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        assert_eq!(self.error_code(), code, "unexpected error: {}", self.body);
    }
}

impl Rest {
    pub fn new(base: &str) -> Rest {
        Rest {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("reqwest client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("read the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        Self::answer(req.send().await.expect("HTTP request")).await
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Answer {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: &Value) -> Answer {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Posts raw bytes as JSON.
    pub async fn post_raw(
        &self,
        token: Option<&str>,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn login_answer(&self, email: &str, password: &str) -> Answer {
        self.post(
            None,
            "/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs in with the seeded password and returns the token.
    pub async fn login(&self, email: &str) -> String {
        let a = self.login_answer(email, PASSWORD).await;
        assert_eq!(a.status, 200, "login {email}: {}", a.body);
        a.body["token"].as_str().expect("token").to_owned()
    }

    /// `GET /chats/{id}` as `token`, expecting 200.
    pub async fn chat(&self, token: &str, chat_id: &str) -> Value {
        let a = self.get(Some(token), &format!("/chats/{chat_id}")).await;
        assert_eq!(a.status, 200, "GET /chats/{chat_id}: {}", a.body);
        a.body
    }

    /// Every message of a chat (notes included), oldest first.
    pub async fn messages(&self, token: &str, chat_id: &str) -> Vec<Value> {
        let a = self
            .get(Some(token), &format!("/chats/{chat_id}/messages?limit=500"))
            .await;
        assert_eq!(a.status, 200, "GET messages of {chat_id}: {}", a.body);
        a.body["items"].as_array().expect("items").clone()
    }

    /// `GET /visitor/messages` with the visitor's token.
    pub async fn visitor_get(&self, visitor_token: &str, path: &str) -> Answer {
        let req = self
            .http
            .get(self.url(path))
            .header("X-Visitor-Token", visitor_token);
        self.send(req).await
    }
}

// ---------------------------------------------------------------------------
// The in-process server

pub struct TestServer {
    pub base: String,
    pub port: u16,
    pub rest: Rest,
    pub team: Team,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// A seeded server with the send rate limit off.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A seeded server; `tweak` adjusts the configuration (rate limit off by default).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::new(dir.path().join("data"));
        config.send_rate_limit = 0;
        // Tests open many visitors from one address.
        config.new_visitors_per_minute = 0;
        tweak(&mut config);
        let team = seed(&config).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(widget_server::serve(listener, config.clone(), async move {
            let _ = stop_rx.await;
        }));
        let base = format!("http://127.0.0.1:{port}");
        let server = TestServer {
            rest: Rest::new(&base),
            base,
            port,
            team,
            config,
            stop: Some(stop_tx),
            task: Some(task),
            _dir: dir,
        };
        wait_healthy(&server.rest).await;
        server
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let r = tokio::time::timeout(Duration::from_secs(10), t).await;
            let r = r.expect("server stops within 10 s").expect("server task");
            r.expect("server exits cleanly");
        }
    }

    pub async fn login(&self, email: &str) -> String {
        self.rest.login(email).await
    }

    /// An `/agent` socket for `token`; panics if refused.
    pub async fn agent(&self, token: &str) -> Sock {
        Sock::agent(&self.base, token).await
    }

    /// Signs in as `email` and opens an `/agent` socket.
    pub async fn agent_as(&self, email: &str) -> (String, Sock) {
        let token = self.login(email).await;
        let sock = self.agent(&token).await;
        (token, sock)
    }

    /// A new visitor (auth `{}`).
    pub async fn visitor(&self) -> Visitor {
        Visitor::connect(&self.base, json!({})).await
    }

    /// A new visitor who has started a chat (in the default department unless
    /// `department_id` is given).
    pub async fn visitor_with_chat(&self, body: &str, department_id: Option<&str>) -> Visitor {
        let mut v = self.visitor().await;
        v.start(body, department_id).await;
        v
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn wait_healthy(rest: &Rest) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = rest.http.get(format!("{}/healthz", rest.base)).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server at {} never became healthy",
            rest.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------
// The real binary

/// A `widget-server` process on `127.0.0.1:port`.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub port: u16,
    pub rest: Rest,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl ServerProcess {
    /// Starts the binary on `data_dir` and waits for `/healthz`; its stderr goes to
    /// `log` (appended).
    pub async fn spawn(data_dir: &Path, port: u16, log: &Path) -> ServerProcess {
        Self::spawn_with(data_dir, port, log, &[]).await
    }

    /// As [`ServerProcess::spawn`], with more arguments for `serve` (a
    /// `--database-url`, say).
    pub async fn spawn_with(
        data_dir: &Path,
        port: u16,
        log: &Path,
        args: &[&str],
    ) -> ServerProcess {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log file");
        let child = Command::new(env!("CARGO_BIN_EXE_widget-server"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--send-rate-limit")
            .arg("0")
            .arg("--new-visitors-per-minute")
            .arg("0")
            .arg("--log-level")
            .arg("warn")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn widget-server");
        let base = format!("http://127.0.0.1:{port}");
        let p = ServerProcess {
            child,
            rest: Rest::new(&base),
            base,
            port,
        };
        wait_healthy(&p.rest).await;
        p
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// `kill -TERM` and wait (at most 20 s) for the exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not exit within 20 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A data dir with the seeded team, for the binary (the store is closed again).
pub async fn seeded_data_dir(root: &Path) -> (PathBuf, Team) {
    let data = root.join("data");
    let team = seed(&Config::new(&data)).await;
    (data, team)
}

// ---------------------------------------------------------------------------
// Socket.IO client

/// An error ack or a refused connect: `(code, message)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckError {
    pub code: String,
    pub message: String,
}

type Inbound = (String, Value);

struct Inbox {
    rx: mpsc::UnboundedReceiver<Inbound>,
    pending: VecDeque<Inbound>,
}

/// A Socket.IO client on one namespace. Pushed events are queued for `expect*` and
/// also kept in `log()`. Acked emits are serialised (rust_socketio picks ack ids at
/// random in 0..999, so concurrent acked emits on one socket can collide) and their
/// doubly wrapped payload is unwrapped.
pub struct Sock {
    client: Client,
    inbox: Mutex<Inbox>,
    log: Arc<StdMutex<Vec<Inbound>>>,
    ack_lock: Mutex<()>,
    closed: Arc<AtomicBool>,
}

/// Lifecycle pseudo-events in the queue.
const EV_CONNECT: &str = "$connect";
const EV_ERROR: &str = "$error";
const EV_CLOSE: &str = "$close";

fn first_arg(p: Payload) -> Value {
    match p {
        Payload::Text(mut v) if !v.is_empty() => v.remove(0),
        Payload::Text(_) => Value::Null,
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Payload::Binary(b) => Value::String(format!("<{} binary bytes>", b.len())),
    }
}

/// rust_socketio hands acks over as `[[{..}]]`: peel single-element arrays.
fn unwrap_ack(p: Payload) -> Value {
    let mut v = match p {
        Payload::Text(v) => Value::Array(v),
        other => first_arg(other),
    };
    while let Value::Array(a) = &v {
        if a.len() != 1 {
            break;
        }
        v = a[0].clone();
    }
    v
}

/// The code of a `connect_error` as rust_socketio reports it:
/// `Received an ConnectError frame: {"message":"unauthorized"}`.
fn connect_error_code(msg: &str) -> String {
    let json_part = msg.find('{').map(|i| &msg[i..]).unwrap_or(msg);
    serde_json::from_str::<Value>(json_part)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| msg.to_owned())
}

impl Sock {
    /// Connects to `ns` with `auth`; `Err` carries the `connect_error` message (the
    /// error code), since a refused connect still returns `Ok` from rust_socketio.
    pub async fn connect(base: &str, ns: &str, auth: Value) -> Result<Sock, String> {
        Self::connect_with(base, ns, auth, &[]).await
    }

    pub async fn connect_with(
        base: &str,
        ns: &str,
        auth: Value,
        headers: &[(&str, &str)],
    ) -> Result<Sock, String> {
        let (tx, rx) = mpsc::unbounded_channel::<Inbound>();
        let log: Arc<StdMutex<Vec<Inbound>>> = Arc::default();
        let closed = Arc::new(AtomicBool::new(false));
        let lifecycle = |name: &'static str| {
            let tx = tx.clone();
            let closed = closed.clone();
            move |p: Payload, _: Client| {
                if name == EV_CLOSE {
                    closed.store(true, Ordering::SeqCst);
                }
                let _ = tx.send((name.to_owned(), first_arg(p)));
                async {}.boxed()
            }
        };
        let any_tx = tx.clone();
        let any_log = log.clone();
        let mut builder = ClientBuilder::new(base)
            .namespace(ns)
            .auth(auth)
            .transport_type(TransportType::Websocket)
            .reconnect(false)
            .on(Event::Connect, lifecycle(EV_CONNECT))
            .on(Event::Error, lifecycle(EV_ERROR))
            .on(Event::Close, lifecycle(EV_CLOSE))
            .on_any(move |event: Event, p: Payload, _: Client| {
                let item = (event.as_str().to_owned(), first_arg(p));
                if let Ok(mut l) = any_log.lock() {
                    l.push(item.clone());
                }
                let _ = any_tx.send(item);
                async {}.boxed()
            });
        for (k, v) in headers {
            builder = builder.opening_header(k.to_string(), v.to_string());
        }
        let client = builder
            .connect()
            .await
            .map_err(|e| format!("transport error: {e}"))?;
        let sock = Sock {
            client,
            inbox: Mutex::new(Inbox {
                rx,
                pending: VecDeque::new(),
            }),
            log,
            ack_lock: Mutex::new(()),
            closed,
        };
        // The namespace answer decides: CONNECT, or CONNECT_ERROR (an `error`).
        let deadline = Instant::now() + WAIT;
        let mut inbox = sock.inbox.lock().await;
        loop {
            match tokio::time::timeout_at(deadline, inbox.rx.recv()).await {
                Ok(Some((n, _))) if n == EV_CONNECT => break,
                Ok(Some((n, v))) if n == EV_ERROR => {
                    let _ = sock.client.disconnect().await;
                    return Err(connect_error_code(v.as_str().unwrap_or_default()));
                }
                Ok(Some(item)) => inbox.pending.push_back(item),
                Ok(None) | Err(_) => return Err("no answer to the namespace connect".into()),
            }
        }
        drop(inbox);
        Ok(sock)
    }

    /// An `/agent` socket; panics if the token is refused.
    pub async fn agent(base: &str, token: &str) -> Sock {
        Self::connect(base, "/agent", json!({"token": token}))
            .await
            .unwrap_or_else(|e| panic!("/agent connect refused: {e}"))
    }

    /// Emits `event` with an ack and returns the unwrapped ack (`{"ok":..}`), or
    /// `None` if the emit failed or no ack came within `timeout`.
    pub async fn try_ack(&self, event: &str, payload: Payload, timeout: Duration) -> Option<Value> {
        let _one_at_a_time = self.ack_lock.lock().await;
        let (tx, rx) = oneshot::channel::<Payload>();
        let slot = Arc::new(StdMutex::new(Some(tx)));
        let cb = move |p: Payload, _: Client| {
            if let Some(tx) = slot.lock().ok().and_then(|mut s| s.take()) {
                let _ = tx.send(p);
            }
            async {}.boxed()
        };
        if self
            .client
            .emit_with_ack(event, payload, timeout, cb)
            .await
            .is_err()
        {
            return None;
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(p)) => Some(unwrap_ack(p)),
            _ => None,
        }
    }

    /// Emits with an ack; the ack's data or its error.
    pub async fn call(&self, event: &str, data: Value) -> Result<Value, AckError> {
        let ack = self
            .try_ack(event, Payload::Text(vec![data]), WAIT)
            .await
            .unwrap_or_else(|| panic!("no ack for {event} within {WAIT:?}"));
        parse_ack(event, ack)
    }

    /// Emits with an ack and expects success; returns the ack's data.
    pub async fn ok(&self, event: &str, data: Value) -> Value {
        match self.call(event, data.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{event} {data} failed: {e:?}"),
        }
    }

    /// Emits with an ack and expects an error; returns its code.
    pub async fn err(&self, event: &str, data: Value) -> String {
        match self.call(event, data.clone()).await {
            Ok(v) => panic!("{event} {data} should have failed but answered {v}"),
            Err(e) => e.code,
        }
    }

    /// Emits with an arbitrary payload (several arguments, none, a non-object) and
    /// returns the parsed ack.
    pub async fn call_raw(&self, event: &str, payload: Payload) -> Result<Value, AckError> {
        let ack = self
            .try_ack(event, payload, WAIT)
            .await
            .unwrap_or_else(|| panic!("no ack for {event} within {WAIT:?}"));
        parse_ack(event, ack)
    }

    /// Emits without asking for an ack.
    pub async fn emit(&self, event: &str, data: Value) {
        self.client
            .emit(event, Payload::Text(vec![data]))
            .await
            .unwrap_or_else(|e| panic!("emit {event}: {e}"));
    }

    /// The next queued `name` event whose payload satisfies `pred`, waiting at most
    /// `timeout`. Other events stay queued.
    pub async fn next_where(
        &self,
        name: &str,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        let mut inbox = self.inbox.lock().await;
        if let Some(i) = inbox.pending.iter().position(|(n, v)| n == name && pred(v)) {
            return inbox.pending.remove(i).map(|(_, v)| v);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, inbox.rx.recv()).await {
                Ok(Some((n, v))) => {
                    if n == name && pred(&v) {
                        return Some(v);
                    }
                    inbox.pending.push_back((n, v));
                }
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Waits for the next `name` event (at most `WAIT`).
    pub async fn expect(&self, name: &str) -> Value {
        self.expect_where(name, |_| true).await
    }

    /// Waits for the next `name` event matching `pred` (at most `WAIT`).
    pub async fn expect_where(&self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        match self.next_where(name, pred, WAIT).await {
            Some(v) => v,
            None => panic!(
                "no matching {name:?} event within {WAIT:?}; received: {:?}",
                self.log_names()
            ),
        }
    }

    /// Asserts that no `name` event matching `pred` arrives within `QUIET`.
    pub async fn expect_none(&self, name: &str, pred: impl Fn(&Value) -> bool) {
        if let Some(v) = self.next_where(name, pred, QUIET).await {
            panic!("unexpected {name:?} event: {v}");
        }
    }

    /// Empties the queue of what has arrived so far (without waiting); returns it.
    pub async fn drain(&self) -> Vec<(String, Value)> {
        let mut inbox = self.inbox.lock().await;
        let mut out: Vec<(String, Value)> = inbox.pending.drain(..).collect();
        while let Ok(item) = inbox.rx.try_recv() {
            out.push(item);
        }
        out
    }

    /// Everything pushed to this socket so far, in order.
    pub fn log(&self) -> Vec<(String, Value)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn log_names(&self) -> Vec<String> {
        self.log().into_iter().map(|(n, _)| n).collect()
    }

    /// The highest `event_id` pushed to this socket so far.
    pub fn last_event_id(&self) -> i64 {
        self.log()
            .iter()
            .filter_map(|(_, v)| v.get("event_id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0)
    }

    /// Has the server disconnected this namespace socket?
    pub fn server_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits (at most `timeout`) for the server to disconnect this socket.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.server_closed() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.server_closed()
    }

    pub async fn disconnect(&self) {
        let _ = self.client.disconnect().await;
    }
}

fn parse_ack(event: &str, ack: Value) -> Result<Value, AckError> {
    match ack.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(ack.get("data").cloned().unwrap_or(Value::Null)),
        Some(false) => Err(AckError {
            code: ack["error"]["code"].as_str().unwrap_or("?").to_owned(),
            message: ack["error"]["message"].as_str().unwrap_or("").to_owned(),
        }),
        None => panic!("malformed ack for {event}: {ack}"),
    }
}

/// A visitor's socket and session.
pub struct Visitor {
    pub sock: Sock,
    pub token: String,
    pub customer_id: String,
    pub chat_id: Option<String>,
}

impl Visitor {
    /// Connects to `/customer` with `auth` and reads the `session` event.
    pub async fn connect(base: &str, auth: Value) -> Visitor {
        let sock = Sock::connect(base, "/customer", auth)
            .await
            .unwrap_or_else(|e| panic!("/customer connect refused: {e}"));
        let session = sock.expect("session").await;
        Visitor {
            token: session["visitor_token"]
                .as_str()
                .expect("visitor_token")
                .to_owned(),
            customer_id: session["customer_id"]
                .as_str()
                .expect("customer_id")
                .to_owned(),
            chat_id: session["chat_id"].as_str().map(str::to_owned),
            sock,
        }
    }

    /// Reconnects with the same visitor token (a page reload).
    pub async fn reconnect(base: &str, token: &str) -> Visitor {
        Self::connect(base, json!({"visitor_token": token})).await
    }

    /// `chat:start`; returns the ack data `{chat, message}`.
    pub async fn start(&mut self, body: &str, department_id: Option<&str>) -> Value {
        let mut req = json!({"body": body});
        if let Some(d) = department_id {
            req["department_id"] = json!(d);
        }
        let data = self.sock.ok("chat:start", req).await;
        self.chat_id = Some(data["chat"]["id"].as_str().expect("chat id").to_owned());
        data
    }

    pub fn chat_id(&self) -> &str {
        self.chat_id.as_deref().expect("the visitor has a chat")
    }

    /// Sends a message with a fresh `client_msg_id`; returns the acked message.
    pub async fn say(&self, body: &str) -> Value {
        self.sock
            .ok(
                "message:send",
                json!({"client_msg_id": new_id(), "body": body}),
            )
            .await
    }
}

/// A fresh `client_msg_id`.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An agent sends a message (`kind` "text" or "note"); returns the acked message.
pub async fn agent_say(sock: &Sock, chat_id: &str, body: &str, kind: &str) -> Value {
    sock.ok(
        "message:send",
        json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": body, "kind": kind}),
    )
    .await
}

/// Does the event carry a message with this body?
pub fn has_body(body: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v["message"]["body"].as_str() == Some(body)
}

/// Does the event concern this chat (`chat.id` or `chat_id` or `message.chat_id`)?
pub fn about_chat(chat_id: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| {
        v["chat"]["id"].as_str() == Some(chat_id)
            || v["chat_id"].as_str() == Some(chat_id)
            || v["message"]["chat_id"].as_str() == Some(chat_id)
    }
}

// ---------------------------------------------------------------------------
// Raw WebSocket (Engine.IO v4 / Socket.IO v5 by hand)

pub type WsStream = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A Socket.IO connection spoken by hand over a WebSocket: for frames and bursts
/// that rust_socketio cannot produce.
pub struct RawSocket {
    pub ws: WsStream,
    pub ns: String,
}

/// What reading the raw socket gave.
#[derive(Debug)]
pub enum RawRead {
    Text(String),
    Closed(String),
    Timeout,
}

impl RawSocket {
    /// Engine.IO handshake over WebSocket, then the namespace connect with `auth`.
    pub async fn connect(port: u16, ns: &str, auth: Value) -> RawSocket {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("tcp connect");
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::client_async(url, tcp)
            .await
            .expect("websocket handshake");
        let mut raw = RawSocket {
            ws,
            ns: ns.to_owned(),
        };
        match raw.read(WAIT).await {
            RawRead::Text(t) if t.starts_with('0') => {}
            other => panic!("no Engine.IO open packet: {other:?}"),
        }
        raw.send(format!("40{ns},{auth}"))
            .await
            .expect("send connect");
        let prefix = format!("40{ns},");
        let err_prefix = format!("44{ns},");
        loop {
            match raw.read(WAIT).await {
                RawRead::Text(t) if t.starts_with(&prefix) => break,
                RawRead::Text(t) if t.starts_with(&err_prefix) => panic!("connect refused: {t}"),
                RawRead::Text(_) => {}
                other => panic!("no namespace connect answer: {other:?}"),
            }
        }
        raw
    }

    pub async fn send(&mut self, text: String) -> Result<(), String> {
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends `42/ns,ID["event",data]`.
    pub async fn emit(&mut self, id: u32, event: &str, data: &Value) -> Result<(), String> {
        let frame = format!("42{},{id}{}", self.ns, json!([event, data]));
        self.send(frame).await
    }

    /// The next text frame (answering Engine.IO pings), a close, or a timeout.
    pub async fn read(&mut self, timeout: Duration) -> RawRead {
        use tokio_tungstenite::tungstenite::Message;
        let deadline = Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return RawRead::Timeout,
                Ok(None) => return RawRead::Closed("stream ended".into()),
                Ok(Some(Err(e))) => return RawRead::Closed(e.to_string()),
                Ok(Some(Ok(Message::Close(f)))) => {
                    return RawRead::Closed(format!("close frame {f:?}"));
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    let t = t.to_string();
                    if t == "2" {
                        let _ = self.send("3".into()).await;
                        continue;
                    }
                    return RawRead::Text(t);
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Reads until `count` acks have arrived; returns them by ack id.
    pub async fn acks(&mut self, count: usize) -> std::collections::BTreeMap<u32, Value> {
        let prefix = format!("43{},", self.ns);
        let mut out = std::collections::BTreeMap::new();
        while out.len() < count {
            match self.read(WAIT).await {
                RawRead::Text(t) => {
                    if let Some(rest) = t.strip_prefix(&prefix) {
                        let split = rest.find('[').expect("ack payload");
                        let id: u32 = rest[..split].parse().expect("ack id");
                        let v: Value = serde_json::from_str(&rest[split..]).expect("ack json");
                        out.insert(id, v[0].clone());
                    }
                }
                other => panic!("waiting for {count} acks, got {} then {other:?}", out.len()),
            }
        }
        out
    }
}
