//! The demo's tickets: a projector shop's helpdesk in every status, priority and
//! department — some overdue, some with internal notes, an escalated one, a spam
//! one, a merged pair and a split — created over REST like an agent would.

use serde_json::{Value, json};
use shared::ticket::{Ticket, TicketEntry};
use time::{Duration, OffsetDateTime};

use crate::net::rest::Rest;

struct Seed {
    subject: &'static str,
    name: &'static str,
    email: &'static str,
    dept: &'static str,
    priority: &'static str,
    tags: &'static [&'static str],
    /// Hours from now; negative is overdue.
    due_h: Option<i64>,
    /// Who holds it: an agent's e-mail, or nobody.
    assignee: Option<&'static str>,
    /// The customer's first message.
    body: &'static str,
    /// Then: `r:` a reply to the customer, `n:` an internal note.
    then: &'static [&'static str],
    /// Where it ends: `open`, `pending`, `resolved`, `closed:<resolution>`, `spam`,
    /// `escalate`.
    end: &'static str,
}

const SEEDS: &[Seed] = &[
    Seed {
        subject: "Fan gets loud after firmware 2.3.1",
        name: "Fatima Zahra",
        email: "fatima.zahra@example.com",
        dept: "Support",
        priority: "high",
        tags: &["firmware", "noise"],
        due_h: Some(-3),
        assignee: Some("maya@demo.example"),
        body: "Since the 2.3.1 update my X2 Pro's fan runs at full speed even in eco mode. It is louder than the film.",
        then: &[
            "r:Thanks Fatima! Could you send a short video of the noise and the serial number from the label under the projector?",
            "n:Known issue with 2.3.1 on X2 Pro units from the March batch — firmware 2.3.2 fixes the fan curve. @Sam can you confirm the rollout date?",
        ],
        end: "open",
    },
    Seed {
        subject: "Charged twice for order #48213",
        name: "Kenji Watanabe",
        email: "kenji.watanabe@example.com",
        dept: "Billing",
        priority: "urgent",
        tags: &["refund", "payment"],
        due_h: Some(4),
        assignee: Some("priya@demo.example"),
        body: "My card statement shows two payments of 349.00 for order #48213. Please refund one of them.",
        then: &[
            "n:Both captures are visible in the payment dashboard; the second one is a retry that should have been voided.",
        ],
        end: "open",
    },
    Seed {
        subject: "Remote does not pair with the X2 Pro",
        name: "Amara Okafor",
        email: "amara.okafor@example.com",
        dept: "Support",
        priority: "medium",
        tags: &["remote"],
        due_h: Some(24),
        assignee: Some("sam@demo.example"),
        body: "The new remote blinks red three times and nothing happens. Batteries are new.",
        then: &[
            "r:Please hold the Home and Back buttons together for 5 seconds while pointing at the projector, then tell us what the light does.",
        ],
        end: "pending",
    },
    Seed {
        subject: "Quote for 20 classroom projectors",
        name: "Lukas Schmidt",
        email: "lukas.schmidt@example.com",
        dept: "Sales",
        priority: "high",
        tags: &["b2b", "quote"],
        due_h: Some(48),
        assignee: Some("tom@demo.example"),
        body: "Our school wants 20 short-throw projectors with ceiling mounts. Can you send a quote with education pricing?",
        then: &[
            "n:Education discount is 12% above 10 units; check the mount stock before quoting.",
        ],
        end: "open",
    },
    Seed {
        subject: "Price of a replacement lamp",
        name: "Ivan Petrov",
        email: "ivan.petrov@example.com",
        dept: "Sales",
        priority: "low",
        tags: &["parts"],
        due_h: None,
        assignee: Some("lena@demo.example"),
        body: "How much is a replacement lamp for the Y1 and how long does delivery take?",
        then: &[
            "r:The Y1 lamp is 59.00 and ships in 2 working days. Here is the link to order it.",
        ],
        end: "resolved",
    },
    Seed {
        subject: "Purple tint on the HDMI input",
        name: "Chen Wei",
        email: "chen.wei@example.com",
        dept: "Support",
        priority: "medium",
        tags: &["hdmi", "colour"],
        due_h: None,
        assignee: Some("sam@demo.example"),
        body: "Everything on HDMI 1 looks purple. HDMI 2 is fine.",
        then: &[
            "r:Please set Colour Space to RGB under Picture > Advanced — some players send YCbCr that the HDMI 1 input reads wrongly.",
        ],
        end: "closed:Colour space set to RGB; customer confirmed the picture is right.",
    },
    Seed {
        subject: "Invoice needs our company VAT number",
        name: "Sofia Rossi",
        email: "sofia.rossi@example.com",
        dept: "Billing",
        priority: "low",
        tags: &["invoice"],
        due_h: Some(-26),
        assignee: None,
        body: "Could you reissue invoice INV-2026-0193 with our VAT number IT01234567890?",
        then: &[],
        end: "pending",
    },
    Seed {
        subject: "Customs fees when shipping to Japan?",
        name: "Kenji Watanabe",
        email: "kenji.watanabe@example.com",
        dept: "Sales",
        priority: "medium",
        tags: &["shipping"],
        due_h: Some(30),
        assignee: None,
        body: "If I order the X2 to Osaka, will I have to pay import duties on delivery?",
        then: &[],
        end: "open",
    },
    Seed {
        subject: "\"No signal\" with a Fire TV stick",
        name: "Grace Mensah",
        email: "grace.mensah@example.com",
        dept: "Support",
        priority: "urgent",
        tags: &["hdmi"],
        due_h: Some(-1),
        assignee: None,
        body: "The projector says No signal as soon as I plug in my Fire TV stick. Movie night is tonight!",
        then: &[],
        end: "open",
    },
    Seed {
        subject: "Projector smells of burning plastic",
        name: "Tomás García",
        email: "tomas.garcia@example.com",
        dept: "Support",
        priority: "high",
        tags: &["safety"],
        due_h: Some(2),
        assignee: Some("sam@demo.example"),
        body: "After an hour there is a burning smell from the vents. I have unplugged it.",
        then: &["r:Please keep it unplugged. We are arranging a replacement right away."],
        end: "escalate",
    },
    Seed {
        subject: "Dead pixel on a 3-week-old unit",
        name: "Aiko Tanaka",
        email: "aiko.tanaka@example.com",
        dept: "Support",
        priority: "medium",
        tags: &["warranty"],
        due_h: None,
        assignee: Some("lena@demo.example"),
        body: "There is a bright dot in the same place on every picture.",
        then: &[
            "r:That is covered by the warranty: a courier will collect the unit on Thursday and bring a new one.",
        ],
        end: "resolved",
    },
    Seed {
        subject: "Grow your shop with cheap SEO!!!",
        name: "Best Ranking",
        email: "offers@seo-best-ranking.example",
        dept: "Sales",
        priority: "low",
        tags: &[],
        due_h: None,
        assignee: None,
        body: "We put your shop on page one of every search engine for 99 a month.",
        then: &[],
        end: "spam",
    },
];

async fn act(rest: &Rest, path: &str, body: Value) -> anyhow::Result<Ticket> {
    rest.post_as::<Ticket>(path, &body)
        .await
        .map_err(|e| anyhow::anyhow!("seeding tickets ({path}): {}", e.message()))
}

async fn patch(rest: &Rest, id: &str, body: Value) -> anyhow::Result<Ticket> {
    rest.patch_as::<Ticket>(&format!("/tickets/{id}"), &body)
        .await
        .map_err(|e| anyhow::anyhow!("seeding tickets (update): {}", e.message()))
}

async fn entry(rest: &Rest, id: &str, kind: &str, body: &str) -> anyhow::Result<TicketEntry> {
    rest.post_as::<TicketEntry>(
        &format!("/tickets/{id}/entries"),
        &json!({"kind": kind, "body": body, "client_msg_id": uuid::Uuid::new_v4().to_string()}),
    )
    .await
    .map_err(|e| anyhow::anyhow!("seeding tickets (entry): {}", e.message()))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Creates the demo tickets, signed in as the demo supervisor (`rest` has the token).
/// `depts` and `agents` map names and e-mails to ids.
pub async fn seed(
    rest: &Rest,
    depts: &[(String, String)],
    agents: &[(String, String)],
) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let dept = |name: &str| {
        depts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.clone())
    };
    let agent = |email: &str| {
        agents
            .iter()
            .find(|(e, _)| e == email)
            .map(|(_, id)| id.clone())
    };
    let mut made: Vec<Ticket> = Vec::new();
    for s in SEEDS {
        let mut body = json!({
            "subject": s.subject,
            "body": s.body,
            "customer_email": s.email,
            "customer_name": s.name,
            "priority": s.priority,
            "tags": s.tags,
            "client_msg_id": uuid::Uuid::new_v4().to_string(),
        });
        if let Some(d) = dept(s.dept) {
            body["department_id"] = Value::String(d);
        }
        if let Some(h) = s.due_h {
            body["due_at"] = Value::String(rfc3339(now + Duration::hours(h)));
        }
        if let Some(a) = s.assignee.and_then(agent) {
            body["assignee_id"] = Value::String(a);
        }
        let t = act(rest, "/tickets", body).await?;
        for step in s.then {
            match step.split_once(':') {
                Some(("r", text)) => entry(rest, &t.id, "reply", text).await.map(|_| ())?,
                Some(("n", text)) => entry(rest, &t.id, "note", text).await.map(|_| ())?,
                _ => {}
            }
        }
        let id = t.id.clone();
        let t = match s.end.split_once(':') {
            Some(("closed", why)) => {
                act(rest, &format!("/tickets/{id}/close"), json!({"resolution": why})).await?
            }
            _ => match s.end {
                "pending" | "resolved" => patch(rest, &id, json!({"status": s.end})).await?,
                "spam" => {
                    act(rest, &format!("/tickets/{id}/spam"), json!({"spam": true})).await?
                }
                "escalate" => {
                    act(
                        rest,
                        &format!("/tickets/{id}/escalate"),
                        json!({"note": "Possible overheating: replace the unit today and send it to the lab."}),
                    )
                    .await?
                }
                _ => t,
            },
        };
        made.push(t);
    }
    // A duplicate of the remote ticket, merged into it.
    let remote = made.iter().find(|t| t.subject.starts_with("Remote"));
    if let Some(remote) = remote {
        let dup = act(
            rest,
            "/tickets",
            json!({
                "subject": "Remote still blinking red",
                "body": "I wrote earlier about the remote: it still blinks red three times. Same problem.",
                "customer_email": "amara.okafor@example.com",
                "customer_name": "Amara Okafor",
                "department_id": dept("Support"),
                "priority": "medium",
                "client_msg_id": uuid::Uuid::new_v4().to_string(),
            }),
        )
        .await?;
        act(
            rest,
            &format!("/tickets/{}/merge", dup.id),
            json!({"into": remote.id}),
        )
        .await?;
    }
    // Two problems in one ticket: the second one is split off.
    let both = act(
        rest,
        "/tickets",
        json!({
            "subject": "Keystone is off, and the app will not connect",
            "body": "The picture is a trapezoid even after auto keystone.",
            "customer_email": "noah.williams@example.com",
            "customer_name": "Noah Williams",
            "department_id": dept("Support"),
            "priority": "medium",
            "client_msg_id": uuid::Uuid::new_v4().to_string(),
        }),
    )
    .await?;
    entry(
        rest,
        &both.id,
        "reply",
        "Please try Settings > Display > Keystone > Reset, then run auto keystone on a flat wall.",
    )
    .await?;
    let app = entry(
        rest,
        &both.id,
        "note",
        "The customer also says the WZATCO app cannot find the projector on Wi-Fi: separate issue.",
    )
    .await?;
    act(
        rest,
        &format!("/tickets/{}/split", both.id),
        json!({"entry_ids": [app.id], "subject": "App cannot find the projector on Wi-Fi"}),
    )
    .await?;
    Ok(())
}
