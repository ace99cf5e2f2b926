//! `agent-tui demo`: an embedded widget server on SQLite in a temporary directory,
//! seeded with departments and a team, simulated visitors who start chats, type and
//! answer, a colleague who hands one of the first chats over (so Notifications has a
//! mention and a transfer) and picks up chats when the queue grows, and the console
//! signed in as the demo supervisor.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use rand::Rng;
use serde_json::{Value, json};
use shared::events as ev;
use shared::model::{AgentStatus, Role};
use tokio::sync::mpsc;

use crate::app::{self, Options};
use crate::config::FileConfig;
use crate::net::rest::Rest;
use crate::net::socket::{Socket, SocketEvent};
use crate::state::Session;

pub const DEMO_EMAIL: &str = "maya@demo.example";
pub const DEMO_PASSWORD: &str = "demo-password-2026";

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Port for the embedded server (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// How many simulated visitors come by.
    #[arg(long, default_value_t = 14)]
    pub visitors: usize,
    /// Speed of the simulation (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start the server and the simulation, print the addresses, but no console
    /// (for trying the widget in a browser).
    #[arg(long)]
    pub headless: bool,
}

struct Persona {
    name: &'static str,
    email: &'static str,
    department: &'static str,
    opening: &'static str,
    replies: &'static [&'static str],
}

const PERSONAS: &[Persona] = &[
    Persona {
        name: "Ada Lovelace",
        email: "ada.lovelace@example.com",
        department: "Support",
        opening: "Hi! My order #48213 says delivered but nothing arrived.",
        replies: &[
            "It was supposed to come yesterday. Tracking number 1Z999AA10123456784.",
            "I asked my neighbours, nobody has it.",
            "A replacement would be great, thank you!",
            "Perfect, thanks so much for your help :)",
        ],
    },
    Persona {
        name: "Kenji Watanabe",
        email: "kenji.w@example.jp",
        department: "Sales",
        opening: "Do you ship the X2 projector to Japan?",
        replies: &[
            "Great. How long does delivery usually take?",
            "And is the warranty valid internationally?",
            "OK, I'll place the order today. Thanks!",
        ],
    },
    Persona {
        name: "Fatima Zahra",
        email: "fatima.z@example.org",
        department: "Billing",
        opening: "I was charged twice for my subscription this month.",
        replies: &[
            "Both charges are €29.00, on the 3rd and the 4th.",
            "The card ends in 4417.",
            "Thank you — how long until the refund shows up?",
            "Great, have a nice day!",
        ],
    },
    Persona {
        name: "Lukas Schmidt",
        email: "lukas.schmidt@example.de",
        department: "Support",
        opening: "The remote won't pair with my projector.",
        replies: &[
            "Yes, I already put in new batteries.",
            "Holding the button for 5 seconds worked, the light is blinking now!",
            "It works. Thanks a lot!",
        ],
    },
    Persona {
        name: "María García",
        email: "maria.garcia@example.es",
        department: "Sales",
        opening: "Hola! Do you have a student discount?",
        replies: &[
            "I'm at the University of Valencia.",
            "Where do I upload my student ID?",
            "Done, ¡gracias!",
        ],
    },
    Persona {
        name: "陈伟 Chen Wei",
        email: "chen.wei@example.cn",
        department: "Support",
        opening: "你好! The app keeps logging me out every few minutes.",
        replies: &[
            "Version 2.4.1 on Android 14.",
            "Clearing the cache fixed it, 谢谢!",
        ],
    },
    Persona {
        name: "Olivia Brown",
        email: "olivia@brownpartners.example",
        department: "Billing",
        opening: "Can I get an invoice with my company name on it?",
        replies: &[
            "Company: Brown & Partners Ltd, VAT GB123456789.",
            "Perfect, thank you.",
        ],
    },
    Persona {
        name: "Noah Wilson",
        email: "noah.wilson@example.com",
        department: "Sales",
        opening: "Is the 4K model worth it over the 1080p one for a small room?",
        replies: &[
            "About 3 metres from the wall.",
            "Mostly movies, some gaming.",
            "Makes sense, I'll go with the 4K. Thanks!",
        ],
    },
    Persona {
        name: "Amara Okafor",
        email: "amara.okafor@example.ng",
        department: "Support",
        opening: "My projector shows a purple tint on everything.",
        replies: &[
            "I tried another HDMI cable, same thing.",
            "Resetting the colour mode did it! Thank you.",
        ],
    },
    Persona {
        name: "Ivan Petrov",
        email: "ivan.petrov@example.com",
        department: "Billing",
        opening: "Do you accept PayPal?",
        replies: &[
            "Great, and can I pay in instalments?",
            "Thanks for the info!",
        ],
    },
];

/// A teammate: e-mail, name, departments, and the status it shows (None: offline).
struct Teammate {
    email: &'static str,
    name: &'static str,
    departments: &'static [&'static str],
    status: Option<AgentStatus>,
}

const TEAM: &[Teammate] = &[
    Teammate {
        email: "sam@demo.example",
        name: "Sam Rivera",
        departments: &["Support"],
        status: Some(AgentStatus::Online),
    },
    Teammate {
        email: "priya@demo.example",
        name: "Priya Natarajan",
        departments: &["Billing"],
        status: Some(AgentStatus::Away),
    },
    Teammate {
        email: "tom@demo.example",
        name: "Tom Becker",
        departments: &["Sales"],
        status: Some(AgentStatus::Busy),
    },
    Teammate {
        email: "lena@demo.example",
        name: "Lena Ortiz",
        departments: &["Support", "Sales"],
        status: None,
    },
];

fn scaled(speed: f64, secs: f64) -> Duration {
    Duration::from_secs_f64((secs / speed.max(0.05)).max(0.05))
}

fn jitter(speed: f64, lo: f64, hi: f64) -> Duration {
    let s = rand::rng().random_range(lo..hi);
    scaled(speed, s)
}

pub async fn run(
    args: DemoArgs,
    _user_dir: PathBuf,
    file: FileConfig,
    utc_offset: time::UtcOffset,
) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("agent-panel-demo-")
        .tempdir()
        .context("creating the demo directory")?;
    let mut config = widget_server::Config::new(tmp.path().join("data"));
    config.send_rate_limit = 0;
    // Every simulated visitor (and a browser trying the widget) comes from this machine.
    config.new_visitors_per_minute = 0;

    let admin = widget_server::admin::Admin::open(&config).await?;
    let mut depts = Vec::new();
    for d in ["Support", "Sales", "Billing"] {
        depts.push(admin.create_department(d).await?);
    }
    let all: Vec<String> = depts.iter().map(|d| d.name.clone()).collect();
    admin
        .create_agent(
            DEMO_EMAIL,
            "Maya Chen",
            Role::Supervisor,
            &all,
            DEMO_PASSWORD,
        )
        .await?;
    for t in TEAM {
        let ds: Vec<String> = t.departments.iter().map(|s| (*s).to_owned()).collect();
        admin
            .create_agent(t.email, t.name, Role::Agent, &ds, DEMO_PASSWORD)
            .await?;
    }
    admin.close().await;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .context("binding the demo server")?;
    let addr = listener.local_addr()?;
    let server = format!("http://{addr}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(widget_server::serve(listener, config, async move {
        let _ = stop_rx.await;
    }));
    wait_healthy(&server).await?;
    seed_canned(&server).await?;
    seed_kb(&server).await?;

    let dept_ids: Vec<(String, String)> = depts.into_iter().map(|d| (d.name, d.id)).collect();
    seed_tickets(&server, &dept_ids).await?;

    let sim = tokio::spawn(simulate(
        server.clone(),
        dept_ids,
        args.visitors,
        args.speed,
    ));

    let banner = vec![
        format!("Demo server:  {server}"),
        format!("Customer widget (open in a browser): {server}/widget"),
        format!("Signed in as Maya Chen <{DEMO_EMAIL}>, password {DEMO_PASSWORD}"),
        "Visitors arrive every half minute or so; Sam Rivera hands you one of the first chats \
         (g n shows the notifications) and picks up chats when the queue grows."
            .to_owned(),
    ];
    let result = if args.headless {
        for l in &banner {
            println!("{l}");
        }
        println!("Press Ctrl+C to stop.");
        tokio::signal::ctrl_c().await?;
        Ok(())
    } else {
        let rest = Rest::new(&server)?;
        let a = rest
            .login(DEMO_EMAIL, DEMO_PASSWORD, true)
            .await
            .map_err(|e| anyhow::anyhow!("demo sign-in failed: {}", e.message()))?;
        // Printed before the console takes the screen, so it is there after quitting.
        println!("Agent Panel demo");
        for l in &banner {
            println!("  {l}");
        }
        let session = Session {
            server: server.clone(),
            token: a.token,
            agent: a.agent,
            expires_at: a.expires_at,
        };
        app::run(Options {
            server: server.clone(),
            dir: tmp.path().join("console"),
            config: file,
            banner: banner.clone(),
            session: Some(session),
            utc_offset,
            greeting: Some(format!(
                "Demo on {server} · widget at {server}/widget · ? for help"
            )),
        })
        .await
    };
    sim.abort();
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
    if !args.headless {
        println!("Agent Panel demo finished.");
    }
    result
}

/// Team canned responses for projector support: `(shortcut, title, category, body)`.
const CANNED: &[(&str, &str, &str, &str)] = &[
    (
        "hello",
        "Greeting",
        "general",
        "Hi {{customer_first_name}}, this is {{agent_first_name}} from WZATCO {{department}}. How can I help you with your projector today?",
    ),
    (
        "warranty",
        "Warranty coverage",
        "policy",
        "Every WZATCO projector has a 2-year warranty from the delivery date, covering the lamp, the optics and the mainboard. Physical damage and liquid damage are not covered. Could you send me your order number and the serial number from the label underneath?",
    ),
    (
        "refund",
        "Refund policy",
        "policy",
        "You can return the projector within 30 days of delivery for a full refund, {{customer_first_name}}. Once we receive it, the refund reaches your original payment method within 5–7 working days. I will email the return label to {{customer_email}}.",
    ),
    (
        "shipping",
        "Shipping times",
        "orders",
        "Orders ship from our warehouse within 1 working day. Delivery takes 2–4 working days in the EU and the UK, and 5–8 working days elsewhere. You will get a tracking link by email as soon as it ships.",
    ),
    (
        "firmware",
        "Firmware update steps",
        "troubleshooting",
        "To update the firmware:\n1. Download the latest firmware for your model from wzatco.com/support and copy it to an empty FAT32 USB stick.\n2. Plug the stick into the projector's USB port.\n3. Open Settings > System > Software update > Local update.\n4. Keep the projector switched on until it restarts by itself (about 5 minutes).",
    ),
    (
        "purple",
        "Troubleshooting purple tint",
        "troubleshooting",
        "A purple or pink tint usually comes from the HDMI colour format. Please try:\n1. Settings > Picture > HDMI colour space: set it to RGB (or Auto).\n2. Another HDMI cable or port.\n3. Settings > Picture > Reset picture settings.\nIf the tint stays on the projector's own menu too, the LCD panel may be faulty and we will replace it under warranty.",
    ),
    (
        "keystone",
        "Blurry or trapezoid picture",
        "troubleshooting",
        "For a sharp, rectangular picture: place the projector square to the wall, turn the focus ring slowly until the text is crisp, then use Settings > Keystone to correct any remaining trapezoid shape.",
    ),
    (
        "bye",
        "Closing",
        "general",
        "Thanks for contacting WZATCO, {{customer_first_name}}! If anything else comes up, just reply to this chat. Enjoy your movies!",
    ),
];

/// Adds the team's canned responses, as the demo supervisor.
async fn seed_canned(server: &str) -> anyhow::Result<()> {
    let rest = Rest::new(server)?;
    let a = rest
        .login(DEMO_EMAIL, DEMO_PASSWORD, false)
        .await
        .map_err(|e| anyhow::anyhow!("demo sign-in failed: {}", e.message()))?;
    let rest = rest.with_token(a.token);
    for (shortcut, title, category, body) in CANNED {
        let input = shared::canned::CannedInput {
            title: (*title).to_owned(),
            shortcut: (*shortcut).to_owned(),
            body: (*body).to_owned(),
            category: Some((*category).to_owned()),
            scope: Some(shared::canned::CannedScope::Team),
        };
        rest.create_canned(&input)
            .await
            .map_err(|e| anyhow::anyhow!("seeding canned response /{shortcut}: {}", e.message()))?;
    }
    let _ = rest.logout().await;
    Ok(())
}

/// Adds the helpdesk's tickets (see `demo_tickets`), as the demo supervisor.
async fn seed_tickets(server: &str, depts: &[(String, String)]) -> anyhow::Result<()> {
    let rest = Rest::new(server)?;
    let a = rest
        .login(DEMO_EMAIL, DEMO_PASSWORD, false)
        .await
        .map_err(|e| anyhow::anyhow!("demo sign-in failed: {}", e.message()))?;
    let rest = rest.with_token(a.token);
    let agents: Vec<(String, String)> = rest
        .agents()
        .await
        .map_err(|e| anyhow::anyhow!("seeding tickets: {}", e.message()))?
        .into_iter()
        .map(|a| (a.email, a.id))
        .collect();
    crate::demo_tickets::seed(&rest, depts, &agents).await?;
    let _ = rest.logout().await;
    Ok(())
}

/// The knowledge base of a projector shop: Markdown files with front matter, the
/// same files `POST /kb/import` takes (and the server's ranking tests search).
const KB_FILES: &[(&str, &str)] = &[
    ("4k-support.md", include_str!("../demo-kb/4k-support.md")),
    (
        "apps-netflix.md",
        include_str!("../demo-kb/apps-netflix.md"),
    ),
    (
        "bluetooth-speaker-pairing.md",
        include_str!("../demo-kb/bluetooth-speaker-pairing.md"),
    ),
    (
        "brightness-dark-room.md",
        include_str!("../demo-kb/brightness-dark-room.md"),
    ),
    ("casting-lag.md", include_str!("../demo-kb/casting-lag.md")),
    (
        "ceiling-mount.md",
        include_str!("../demo-kb/ceiling-mount.md"),
    ),
    (
        "factory-reset.md",
        include_str!("../demo-kb/factory-reset.md"),
    ),
    ("fan-noise.md", include_str!("../demo-kb/fan-noise.md")),
    (
        "firmware-update.md",
        include_str!("../demo-kb/firmware-update.md"),
    ),
    (
        "first-time-setup.md",
        include_str!("../demo-kb/first-time-setup.md"),
    ),
    (
        "focus-blurry-picture.md",
        include_str!("../demo-kb/focus-blurry-picture.md"),
    ),
    (
        "hdmi-arc-soundbar.md",
        include_str!("../demo-kb/hdmi-arc-soundbar.md"),
    ),
    (
        "hdmi-no-signal.md",
        include_str!("../demo-kb/hdmi-no-signal.md"),
    ),
    (
        "internal-discount-codes.md",
        include_str!("../demo-kb/internal-discount-codes.md"),
    ),
    (
        "internal-escalation-hardware.md",
        include_str!("../demo-kb/internal-escalation-hardware.md"),
    ),
    (
        "keystone-correction.md",
        include_str!("../demo-kb/keystone-correction.md"),
    ),
    ("lamp-life.md", include_str!("../demo-kb/lamp-life.md")),
    ("no-sound.md", include_str!("../demo-kb/no-sound.md")),
    (
        "order-change-cancel.md",
        include_str!("../demo-kb/order-change-cancel.md"),
    ),
    (
        "overheating-shutdown.md",
        include_str!("../demo-kb/overheating-shutdown.md"),
    ),
    (
        "remote-not-working.md",
        include_str!("../demo-kb/remote-not-working.md"),
    ),
    (
        "returns-refunds.md",
        include_str!("../demo-kb/returns-refunds.md"),
    ),
    (
        "screen-mirroring-android.md",
        include_str!("../demo-kb/screen-mirroring-android.md"),
    ),
    (
        "screen-mirroring-iphone.md",
        include_str!("../demo-kb/screen-mirroring-iphone.md"),
    ),
    (
        "screen-size-distance.md",
        include_str!("../demo-kb/screen-size-distance.md"),
    ),
    (
        "shipping-times.md",
        include_str!("../demo-kb/shipping-times.md"),
    ),
    (
        "usb-media-playback.md",
        include_str!("../demo-kb/usb-media-playback.md"),
    ),
    (
        "warranty-policy.md",
        include_str!("../demo-kb/warranty-policy.md"),
    ),
    (
        "wifi-connect.md",
        include_str!("../demo-kb/wifi-connect.md"),
    ),
    (
        "wzatco-e3-specs.md",
        include_str!("../demo-kb/wzatco-e3-specs.md"),
    ),
];

/// Imports the demo knowledge base, as the demo supervisor.
async fn seed_kb(server: &str) -> anyhow::Result<()> {
    let rest = Rest::new(server)?;
    let a = rest
        .login(DEMO_EMAIL, DEMO_PASSWORD, false)
        .await
        .map_err(|e| anyhow::anyhow!("demo sign-in failed: {}", e.message()))?;
    let rest = rest.with_token(a.token);
    let files = KB_FILES
        .iter()
        .map(|(name, content)| shared::kb::KbFile {
            name: (*name).to_owned(),
            content: (*content).to_owned(),
        })
        .collect();
    rest.kb_import(&shared::kb::KbFiles { files })
        .await
        .map_err(|e| anyhow::anyhow!("seeding the knowledge base: {}", e.message()))?;
    let _ = rest.logout().await;
    Ok(())
}

async fn wait_healthy(server: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{server}/api/v1/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the demo server did not start")
}

async fn simulate(server: String, depts: Vec<(String, String)>, visitors: usize, speed: f64) {
    for t in TEAM {
        if let Some(st) = t.status {
            let server = server.clone();
            let pick_up = t.departments.contains(&"Support");
            tokio::spawn(colleague(server, t.email, st, pick_up, speed));
        }
    }
    let mut rng_pick: Vec<usize> = (0..PERSONAS.len()).collect();
    for i in 0..visitors {
        if i < 3 {
            tokio::time::sleep(jitter(speed, 1.0, 4.0)).await;
        } else {
            tokio::time::sleep(jitter(speed, 20.0, 45.0)).await;
        }
        if rng_pick.is_empty() {
            rng_pick = (0..PERSONAS.len()).collect();
        }
        // The first visitor asks Support, where Sam can see the chat and hand it over.
        let k = if i == 0 {
            let support: Vec<usize> = (0..rng_pick.len())
                .filter(|k| PERSONAS[rng_pick[*k]].department == "Support")
                .collect();
            match support.len() {
                0 => 0,
                n => support[rand::rng().random_range(0..n)],
            }
        } else {
            rand::rng().random_range(0..rng_pick.len())
        };
        let p = &PERSONAS[rng_pick.swap_remove(k)];
        let dept = depts
            .iter()
            .find(|(n, _)| n == p.department)
            .map(|(_, id)| id.clone());
        tokio::spawn(visitor(server.clone(), p, dept, speed));
    }
}

/// Waits for the next event matching `f`, up to `within`.
async fn next_event<F>(
    rx: &mut mpsc::UnboundedReceiver<SocketEvent>,
    within: Duration,
    mut f: F,
) -> Option<(String, Value)>
where
    F: FnMut(&str, &Value) -> bool,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let e = tokio::time::timeout_at(deadline, rx.recv()).await.ok()??;
        if let SocketEvent::Push { event, data } = e
            && f(&event, &data)
        {
            return Some((event, data));
        }
    }
}

async fn visitor(server: String, p: &'static Persona, dept: Option<String>, speed: f64) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sock = Socket::start(
        server,
        ev::CUSTOMER_NS.to_owned(),
        json!({"name": p.name, "email": p.email}),
        tx,
    );
    if next_event(&mut rx, Duration::from_secs(10), |e, _| e == ev::SESSION)
        .await
        .is_none()
    {
        sock.stop();
        return;
    }
    sock.emit(ev::TYPING, json!({"typing": true}));
    tokio::time::sleep(jitter(speed, 1.5, 4.0)).await;
    let start = sock
        .submit(
            ev::CHAT_START,
            json!({
                "body": p.opening, "name": p.name, "email": p.email,
                "department_id": dept, "client_msg_id": uuid::Uuid::new_v4().to_string(),
            }),
        )
        .await;
    let chat_id = start.ok().and_then(|v| {
        v.pointer("/data/chat/id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let Some(chat_id) = chat_id else {
        sock.stop();
        return;
    };
    let mut next_reply = 0usize;
    let mut nudged = false;
    loop {
        let got = next_event(&mut rx, scaled(speed, 90.0), |e, d| {
            (e == ev::MESSAGE_NEW
                && d.pointer("/message/author/kind").and_then(Value::as_str) == Some("agent"))
                || (e == ev::CHAT_UPDATED
                    && d.pointer("/chat/status").and_then(Value::as_str) == Some("closed"))
        })
        .await;
        match got {
            None => {
                if nudged {
                    continue;
                }
                nudged = true;
                say(&sock, &chat_id, "Hello? Is anyone there?", speed).await;
            }
            Some((e, _)) if e == ev::CHAT_UPDATED => {
                tokio::time::sleep(jitter(speed, 1.0, 3.0)).await;
                let score = rand::rng().random_range(4..=5);
                let _ = sock
                    .submit(ev::CHAT_RATE, json!({"score": score, "chat_id": chat_id}))
                    .await;
                tokio::time::sleep(Duration::from_secs(2)).await;
                sock.stop();
                return;
            }
            Some((_, d)) => {
                if let Some(seq) = d.pointer("/message/seq").and_then(Value::as_i64) {
                    tokio::time::sleep(jitter(speed, 0.8, 2.0)).await;
                    let _ = sock
                        .submit(ev::MESSAGE_READ, json!({"seq": seq, "chat_id": chat_id}))
                        .await;
                }
                if let Some(text) = p.replies.get(next_reply) {
                    next_reply += 1;
                    say(&sock, &chat_id, text, speed).await;
                }
            }
        }
    }
}

/// Types for a while (the agent sees the indicator), then sends.
async fn say(sock: &Socket, chat_id: &str, text: &str, speed: f64) {
    tokio::time::sleep(jitter(speed, 1.0, 2.5)).await;
    sock.emit(ev::TYPING, json!({"typing": true, "chat_id": chat_id}));
    let secs = (text.chars().count() as f64 / 12.0).clamp(1.5, 6.0);
    tokio::time::sleep(scaled(speed, secs)).await;
    sock.emit(ev::TYPING, json!({"typing": false, "chat_id": chat_id}));
    let _ = sock
        .submit(
            ev::MESSAGE_SEND,
            json!({"client_msg_id": uuid::Uuid::new_v4().to_string(), "body": text, "chat_id": chat_id}),
        )
        .await;
}

/// A teammate: online with a status, and (for Support) picks up the longest-waiting
/// chat when several have waited a while, so the queue moves like a real one.
async fn colleague(
    server: String,
    email: &'static str,
    status: AgentStatus,
    pick_up: bool,
    speed: f64,
) {
    let Ok(rest) = Rest::new(&server) else { return };
    let Ok(a) = rest.login(email, DEMO_PASSWORD, true).await else {
        return;
    };
    let rest = rest.with_token(a.token.clone());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sock = Socket::start(
        server,
        ev::AGENT_NS.to_owned(),
        json!({"token": a.token}),
        tx,
    );
    // Drain pushes; a teammate only acts on its own schedule.
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = sock
        .submit(ev::PRESENCE_SET, json!({"status": status}))
        .await;
    if !pick_up {
        std::future::pending::<()>().await;
    }
    hand_over_first_chat(&rest, &sock, speed).await;
    loop {
        tokio::time::sleep(jitter(speed, 40.0, 70.0)).await;
        let Ok(waiting) = rest.chats(shared::model::ChatStatus::Waiting).await else {
            continue;
        };
        if waiting.len() < 3 {
            continue;
        }
        let Some(oldest) = waiting.iter().min_by_key(|c| c.created_at) else {
            continue;
        };
        let claimed = sock
            .submit(ev::CHAT_CLAIM, json!({"chat_id": oldest.id}))
            .await;
        if claimed.is_ok_and(|v| v.get("ok") == Some(&Value::Bool(true))) {
            let first = oldest.customer.name.split(' ').next().unwrap_or("there");
            let _ = sock
                .submit(
                    ev::MESSAGE_SEND,
                    json!({
                        "chat_id": oldest.id,
                        "client_msg_id": uuid::Uuid::new_v4().to_string(),
                        "body": format!("Hi {first}, I'm Sam from Support — let me look into that for you."),
                    }),
                )
                .await;
        }
    }
}

/// Takes the first waiting chat, asks Maya in a note to take it (a mention) and
/// transfers it to her (a transfer notification), so the console's Notifications view
/// has something in it from the start.
async fn hand_over_first_chat(rest: &Rest, sock: &Socket, speed: f64) {
    let Ok(agents) = rest.agents().await else {
        return;
    };
    let Some(maya) = agents.into_iter().find(|a| a.email == DEMO_EMAIL) else {
        return;
    };
    let deadline = tokio::time::Instant::now() + scaled(speed, 60.0);
    let chat = loop {
        if let Ok(waiting) = rest.chats(shared::model::ChatStatus::Waiting).await
            && let Some(c) = waiting.into_iter().min_by_key(|c| c.created_at)
        {
            break c;
        }
        if tokio::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(scaled(speed, 1.5)).await;
    };
    // Long enough for the new chat to be seen waiting first.
    tokio::time::sleep(jitter(speed, 3.0, 5.0)).await;
    let claimed = sock
        .submit(ev::CHAT_CLAIM, json!({"chat_id": chat.id}))
        .await;
    if !claimed.is_ok_and(|v| v.get("ok") == Some(&Value::Bool(true))) {
        return;
    }
    let first = chat
        .customer
        .name
        .split(' ')
        .next()
        .unwrap_or("the customer");
    let _ = sock
        .submit(
            ev::MESSAGE_SEND,
            json!({
                "chat_id": chat.id,
                "client_msg_id": uuid::Uuid::new_v4().to_string(),
                "kind": "note",
                "body": format!("@Maya could you take {first}'s chat? I am on a call for the next half hour."),
            }),
        )
        .await;
    tokio::time::sleep(jitter(speed, 1.0, 2.0)).await;
    let _ = sock
        .submit(
            ev::CHAT_TRANSFER,
            json!({"chat_id": chat.id, "to_agent_id": maya.id}),
        )
        .await;
}
