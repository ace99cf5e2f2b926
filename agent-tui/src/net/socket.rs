//! The console's one Socket.IO connection. It wraps rust_socketio 0.6 and its known
//! defects so nothing else has to know them:
//! - a refused auth still returns `Ok` from `connect()`: we wait for the namespace's
//!   CONNECT or CONNECT_ERROR (the `error` callback) and treat a refusal as auth failure;
//! - ack ids are random in 0..999 and can collide: one acked emit is in flight at a
//!   time, the rest wait in a FIFO queue (which also keeps sends in order);
//! - acks arrive wrapped twice (`[[{..}]]`): unwrapped here;
//! - ack timeouts never call back: we time them out ourselves;
//! - after a refused reconnect its own reconnect stops for good, and a closed transport
//!   raises no event: its reconnect is off, every (re)connect builds a new client, and a
//!   periodic `ping:rtt` with a deadline is the liveness check (it also gives the RTT).
//!
//! Reconnects back off exponentially with jitter, capped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How long an acked emit may wait for its answer before the link counts as dead.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Liveness probe period and deadline.
pub const PING_EVERY: Duration = Duration::from_secs(5);
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("offline")]
    Offline,
    #[error("no answer from the server")]
    Timeout,
    #[error("connection lost")]
    Lost,
    #[error("bad answer: {0}")]
    BadAck(String),
}

/// What the socket reports to its owner.
#[derive(Debug, Clone)]
pub enum SocketEvent {
    Connecting {
        attempt: u32,
    },
    Connected,
    Disconnected {
        reason: String,
        retry_in: Option<Duration>,
    },
    /// The server refused the credentials; the socket has stopped.
    AuthRefused(String),
    Rtt(Duration),
    /// A server push: event name and its (unwrapped) payload.
    Push {
        event: String,
        data: Value,
    },
}

type Reply = oneshot::Sender<Result<Value, EmitError>>;

enum Cmd {
    Emit {
        event: String,
        data: Value,
        reply: Option<Reply>,
    },
    Stop,
}

/// Handle to the connection task; cheap to clone.
#[derive(Clone)]
pub struct Socket {
    cmd: mpsc::UnboundedSender<Cmd>,
}

impl Socket {
    /// Starts connecting to `url` (`http://host:port`) on `namespace` with `auth`, and
    /// keeps the connection up until [`Socket::stop`] or an auth refusal.
    pub fn start(
        url: String,
        namespace: String,
        auth: Value,
        events: mpsc::UnboundedSender<SocketEvent>,
    ) -> Socket {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(supervise(url, namespace, auth, events, rx));
        Socket { cmd: tx }
    }

    /// Queues an acked emit now (so emits keep the caller's order) and returns the
    /// ack's payload, unwrapped, when it comes.
    pub fn submit(
        &self,
        event: &str,
        data: Value,
    ) -> impl std::future::Future<Output = Result<Value, EmitError>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        let queued = self
            .cmd
            .send(Cmd::Emit {
                event: event.to_owned(),
                data,
                reply: Some(tx),
            })
            .is_ok();
        async move {
            if !queued {
                return Err(EmitError::Offline);
            }
            rx.await.unwrap_or(Err(EmitError::Lost))
        }
    }

    /// Emits without an ack (typing); dropped while offline.
    pub fn emit(&self, event: &str, data: Value) {
        let _ = self.cmd.send(Cmd::Emit {
            event: event.to_owned(),
            data,
            reply: None,
        });
    }

    pub fn stop(&self) {
        let _ = self.cmd.send(Cmd::Stop);
    }
}

/// `[[{..}]]` → `{..}`: strips single-element array wrappers.
pub fn unwrap_payload(p: Payload) -> Result<Value, String> {
    #[allow(deprecated)]
    let mut v = match p {
        Payload::Text(values) => Value::Array(values),
        Payload::String(s) => serde_json::from_str(&s).map_err(|e| e.to_string())?,
        Payload::Binary(_) => return Err("binary payload".into()),
    };
    while let Value::Array(a) = &mut v {
        if a.len() != 1 {
            break;
        }
        v = a.pop().unwrap_or(Value::Null);
    }
    Ok(v)
}

/// Capped exponential backoff with jitter (50–100 % of the step).
pub fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_CAP);
    let jitter: f64 = rand::random::<f64>() * 0.5 + 0.5;
    step.mul_f64(jitter)
}

enum Internal {
    Connected,
    Error(String),
    Closed,
    Push(String, Value),
}

enum Ended {
    Stopped,
    Auth(String),
    Lost(String),
}

async fn supervise(
    url: String,
    namespace: String,
    auth: Value,
    events: mpsc::UnboundedSender<SocketEvent>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    let mut failures: u32 = 0;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let _ = events.send(SocketEvent::Connecting { attempt });
        let ended = match connect(&url, &namespace, &auth).await {
            Ok((client, internal)) => {
                failures = 0;
                attempt = 0;
                let _ = events.send(SocketEvent::Connected);
                let ended = run(&client, internal, &events, &mut cmds).await;
                // Stop its tasks; a dead transport may not answer, so do not wait long.
                let _ = tokio::time::timeout(Duration::from_secs(2), client.disconnect()).await;
                ended
            }
            Err(e) => e,
        };
        match ended {
            Ended::Stopped => return,
            Ended::Auth(why) => {
                let _ = events.send(SocketEvent::AuthRefused(why));
                // Answer whatever is still queued, then stop for good.
                cmds.close();
                while let Some(cmd) = cmds.recv().await {
                    if let Cmd::Emit { reply: Some(r), .. } = cmd {
                        let _ = r.send(Err(EmitError::Offline));
                    }
                }
                return;
            }
            Ended::Lost(reason) => {
                failures += 1;
                let wait = backoff(failures.saturating_sub(1));
                let _ = events.send(SocketEvent::Disconnected {
                    reason,
                    retry_in: Some(wait),
                });
                // While waiting, nothing can be sent: answer at once so the outbox
                // keeps the message pending.
                let deadline = tokio::time::sleep(wait);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        _ = &mut deadline => break,
                        cmd = cmds.recv() => match cmd {
                            None | Some(Cmd::Stop) => return,
                            Some(Cmd::Emit { reply: Some(r), .. }) => {
                                let _ = r.send(Err(EmitError::Offline));
                            }
                            Some(Cmd::Emit { reply: None, .. }) => {}
                        },
                    }
                }
            }
        }
    }
}

fn classify_connect_error(msg: &str) -> Ended {
    let m = msg.to_lowercase();
    if m.contains("connecterror") && (m.contains("unauthorized") || m.contains("forbidden")) {
        Ended::Auth(if m.contains("forbidden") {
            "forbidden".into()
        } else {
            "unauthorized".into()
        })
    } else {
        Ended::Lost(short(msg))
    }
}

fn short(s: &str) -> String {
    shared::text::sanitize_line(s).chars().take(120).collect()
}

async fn connect(
    url: &str,
    namespace: &str,
    auth: &Value,
) -> Result<(Client, mpsc::UnboundedReceiver<Internal>), Ended> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (t1, t2, t3, t4) = (tx.clone(), tx.clone(), tx.clone(), tx);
    let builder = ClientBuilder::new(url)
        .namespace(namespace)
        .auth(auth.clone())
        .reconnect(false)
        .reconnect_on_disconnect(false)
        .on(Event::Connect, move |_, _| {
            let _ = t1.send(Internal::Connected);
            async {}.boxed()
        })
        .on(Event::Error, move |p, _| {
            #[allow(deprecated)]
            let text = match p {
                Payload::Text(v) => v
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" "),
                Payload::String(s) => s,
                Payload::Binary(_) => "binary error".into(),
            };
            let _ = t2.send(Internal::Error(text));
            async {}.boxed()
        })
        .on(Event::Close, move |_, _| {
            let _ = t3.send(Internal::Closed);
            async {}.boxed()
        })
        .on_any(move |ev, p, _| {
            if let Event::Custom(name) = ev
                && let Ok(v) = unwrap_payload(p)
            {
                let _ = t4.send(Internal::Push(name, v));
            }
            async {}.boxed()
        });
    let client = match tokio::time::timeout(CONNECT_TIMEOUT, builder.connect()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(Ended::Lost(short(&e.to_string()))),
        Err(_) => return Err(Ended::Lost("connect timed out".into())),
    };
    // `connect()` returns before the namespace answers: wait for CONNECT or refusal.
    let verdict = tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            match rx.recv().await {
                Some(Internal::Connected) => return Ok(()),
                Some(Internal::Error(e)) => return Err(classify_connect_error(&e)),
                Some(Internal::Closed) | None => {
                    return Err(Ended::Lost("closed during connect".into()));
                }
                Some(Internal::Push(..)) => {}
            }
        }
    })
    .await;
    match verdict {
        Ok(Ok(())) => Ok((client, rx)),
        Ok(Err(e)) => {
            let _ = tokio::time::timeout(Duration::from_secs(2), client.disconnect()).await;
            Err(e)
        }
        Err(_) => {
            let _ = tokio::time::timeout(Duration::from_secs(2), client.disconnect()).await;
            Err(Ended::Lost("no answer to connect".into()))
        }
    }
}

struct Pending {
    event: String,
    data: Value,
    reply: Option<Reply>,
    /// Pings report their round trip instead of replying.
    ping: bool,
}

struct InFlight {
    reply: Option<Reply>,
    ping: bool,
    started: Instant,
    deadline: Instant,
    rx: oneshot::Receiver<Payload>,
}

async fn run(
    client: &Client,
    mut internal: mpsc::UnboundedReceiver<Internal>,
    events: &mpsc::UnboundedSender<SocketEvent>,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
) -> Ended {
    let mut queue: VecDeque<Pending> = VecDeque::new();
    let mut in_flight: Option<InFlight> = None;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let fail_all =
        |queue: &mut VecDeque<Pending>, in_flight: &mut Option<InFlight>, e: EmitError| {
            if let Some(f) = in_flight.take()
                && let Some(r) = f.reply
            {
                let _ = r.send(Err(e.clone()));
            }
            for p in queue.drain(..) {
                if let Some(r) = p.reply {
                    let _ = r.send(Err(e.clone()));
                }
            }
        };
    loop {
        // Start the next acked emit when none is in flight.
        while in_flight.is_none() {
            let Some(p) = queue.pop_front() else { break };
            let (tx, rx) = oneshot::channel::<Payload>();
            let slot = Arc::new(Mutex::new(Some(tx)));
            let timeout = if p.ping { PING_TIMEOUT } else { ACK_TIMEOUT };
            let sent = client
                .emit_with_ack(p.event.as_str(), p.data, timeout, move |payload, _| {
                    if let Ok(mut g) = slot.lock()
                        && let Some(tx) = g.take()
                    {
                        let _ = tx.send(payload);
                    }
                    async {}.boxed()
                })
                .await;
            if let Err(e) = sent {
                if let Some(r) = p.reply {
                    let _ = r.send(Err(EmitError::Lost));
                }
                fail_all(&mut queue, &mut in_flight, EmitError::Lost);
                return Ended::Lost(short(&format!("send failed: {e}")));
            }
            let now = Instant::now();
            in_flight = Some(InFlight {
                reply: p.reply,
                ping: p.ping,
                started: now,
                deadline: now + timeout,
                rx,
            });
        }
        let deadline = in_flight
            .as_ref()
            .map(|f| f.deadline)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                None | Some(Cmd::Stop) => {
                    fail_all(&mut queue, &mut in_flight, EmitError::Offline);
                    return Ended::Stopped;
                }
                Some(Cmd::Emit { event, data, reply: Some(r) }) => {
                    queue.push_back(Pending { event, data, reply: Some(r), ping: false });
                }
                Some(Cmd::Emit { event, data, reply: None }) => {
                    if let Err(e) = client.emit(event.as_str(), data).await {
                        fail_all(&mut queue, &mut in_flight, EmitError::Lost);
                        return Ended::Lost(short(&format!("send failed: {e}")));
                    }
                }
            },
            msg = internal.recv() => match msg {
                Some(Internal::Push(event, data)) => {
                    let _ = events.send(SocketEvent::Push { event, data });
                }
                Some(Internal::Closed) | None => {
                    fail_all(&mut queue, &mut in_flight, EmitError::Lost);
                    return Ended::Lost("the server closed the connection".into());
                }
                Some(Internal::Error(e)) => {
                    if e.to_lowercase().contains("connecterror") {
                        fail_all(&mut queue, &mut in_flight, EmitError::Lost);
                        return classify_connect_error(&e);
                    }
                    // A transport error may mean a dead link: probe now.
                    if !queue.iter().any(|p| p.ping) {
                        queue.push_back(Pending { event: shared::events::PING.into(), data: serde_json::json!({}), reply: None, ping: true });
                    }
                }
                Some(Internal::Connected) => {}
            },
            _ = ping.tick() => {
                if !queue.iter().any(|p| p.ping) && !in_flight.as_ref().is_some_and(|f| f.ping) {
                    queue.push_back(Pending { event: shared::events::PING.into(), data: serde_json::json!({}), reply: None, ping: true });
                }
            },
            ack = async { match in_flight.as_mut() { Some(f) => (&mut f.rx).await.ok(), None => std::future::pending().await } } => {
                let Some(f) = in_flight.take() else { continue };
                match ack {
                    Some(payload) => {
                        if f.ping {
                            let _ = events.send(SocketEvent::Rtt(f.started.elapsed()));
                        } else if let Some(r) = f.reply {
                            let _ = r.send(unwrap_payload(payload).map_err(EmitError::BadAck));
                        }
                    }
                    None => {
                        if let Some(r) = f.reply {
                            let _ = r.send(Err(EmitError::Lost));
                        }
                    }
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => {
                // No ack in time: the link is not trustworthy, start over.
                let what = if in_flight.as_ref().is_some_and(|f| f.ping) { "no answer to ping" } else { "no answer to a request" };
                if let Some(f) = in_flight.take()
                    && let Some(r) = f.reply
                {
                    let _ = r.send(Err(EmitError::Timeout));
                }
                fail_all(&mut queue, &mut in_flight, EmitError::Lost);
                return Ended::Lost(what.into());
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acks_are_unwrapped_from_double_arrays() {
        let p = Payload::Text(vec![json!([{"ok": true, "data": {}}])]);
        assert_eq!(unwrap_payload(p).unwrap(), json!({"ok": true, "data": {}}));
        let p = Payload::Text(vec![json!({"ok": true})]);
        assert_eq!(unwrap_payload(p).unwrap(), json!({"ok": true}));
        // Several arguments stay an array.
        let p = Payload::Text(vec![json!(1), json!(2)]);
        assert_eq!(unwrap_payload(p).unwrap(), json!([1, 2]));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP, "{attempt}: {d:?}");
            assert!(d >= BACKOFF_BASE / 2, "{attempt}: {d:?}");
        }
        assert!(backoff(8) >= BACKOFF_CAP / 2);
    }

    #[test]
    fn refusals_are_told_from_network_errors() {
        assert!(matches!(
            classify_connect_error(
                "Received an ConnectError frame: {\"message\":\"unauthorized\"}"
            ),
            Ended::Auth(_)
        ));
        assert!(matches!(
            classify_connect_error("Connection refused"),
            Ended::Lost(_)
        ));
    }
}
