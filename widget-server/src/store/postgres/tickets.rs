//! Tickets on PostgreSQL: the same operations as on SQLite. Every write takes the
//! event-log lock first (so numbers, seqs and event ids are issued in one order across
//! nodes) and then locks the ticket rows it decides on.

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use shared::ApiError;
use shared::events::ServerEvent;
use shared::model::{
    Agent, Attachment, Author, AuthorKind, ChatStatus, Customer, Message, MessageKind,
    Notification, Page, Seq,
};
use shared::ticket::{
    EntryKind, LinkKind, Ticket, TicketEntry, TicketEntryEvent, TicketEvent, TicketLink,
    TicketPriority, TicketSource, TicketStatus,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::{AGENT_SELECT, MESSAGE_COLS, agent_row, customer_at, decode_err, message_row};
use super::tx::agent_author;
use super::{PgResult, PgStore, Tx};
use crate::domain::ChatScope;
use crate::domain::chat::ChatCore;
use crate::domain::mention;
use crate::domain::ticket::{self as rules, TicketCore, UpdatePlan};
use crate::store::fail::{Fail, inconsistent};
use crate::store::{
    Actor, AssigneeFilter, Audience, EntryView, NewTicket, Published, SpamFilter, StoreResult,
    TicketAction, TicketCustomer, TicketFilter, TicketSort, TicketStore, like_pattern, new_id,
    now_ms, ts,
};

const TICKET_SELECT: &str = "SELECT t.id, t.number, t.subject, t.status, t.priority, \
    t.department_id, t.assignee_id, t.tags, t.due_at, t.created_at, t.updated_at, t.source, \
    t.chat_id, t.merged_into, t.resolution, t.spam, t.last_seq, t.entry_count, t.public_seq, \
    COALESCE((SELECT json_agg(json_build_object('ticket_id', l.other_id, 'kind', l.kind) ORDER BY l.created_at, l.other_id)::text \
      FROM ticket_links l WHERE l.ticket_id = t.id), '[]'), \
    cu.id, cu.name, cu.email, cu.phone, cu.location, cu.tags, cu.custom_fields, cu.blocked, cu.created_at \
    FROM tickets t JOIN customers cu ON cu.id = t.customer_id";

const ENTRY_COLS: &str = "id, ticket_id, seq, public_seq, client_msg_id, author_kind, \
    author_id, author_name, kind, body, attachments, created_at";

fn json_text<T: serde::de::DeserializeOwned>(row: &PgRow, i: usize) -> Result<T, sqlx::Error> {
    let text: &str = row.try_get(i)?;
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(format!("column {i}: {e}").into()))
}

fn ticket_row(row: &PgRow) -> Result<(Ticket, i64), sqlx::Error> {
    let links: Vec<TicketLink> = json_text(row, 19)?;
    let t = Ticket {
        id: row.try_get(0)?,
        number: row.try_get(1)?,
        subject: row.try_get(2)?,
        status: TicketStatus::from_str(row.try_get(3)?).map_err(|_| decode_err("ticket status"))?,
        priority: TicketPriority::from_str(row.try_get(4)?).map_err(|_| decode_err("priority"))?,
        department_id: row.try_get(5)?,
        assignee_id: row.try_get(6)?,
        tags: json_text(row, 7)?,
        due_at: row.try_get::<Option<i64>, _>(8)?.map(ts),
        created_at: ts(row.try_get(9)?),
        updated_at: ts(row.try_get(10)?),
        source: TicketSource::from_str(row.try_get(11)?)
            .map_err(|_| decode_err("ticket source"))?,
        chat_id: row.try_get(12)?,
        merged_into: row.try_get(13)?,
        resolution: row.try_get(14)?,
        spam: row.try_get(15)?,
        last_seq: row.try_get(16)?,
        entry_count: row.try_get(17)?,
        links,
        customer: customer_at(row, 20)?,
    };
    Ok((t, row.try_get(18)?))
}

fn entry_row(row: &PgRow) -> Result<(TicketEntry, Option<i64>), sqlx::Error> {
    let author_kind = match row.try_get::<&str, _>(5)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(decode_err("author kind")),
    };
    let kind = EntryKind::from_str(row.try_get(8)?).map_err(|_| decode_err("entry kind"))?;
    let e = TicketEntry {
        id: row.try_get(0)?,
        ticket_id: row.try_get(1)?,
        seq: row.try_get(2)?,
        client_msg_id: row.try_get(4)?,
        author: Author {
            kind: author_kind,
            id: row.try_get(6)?,
            name: row.try_get(7)?,
        },
        kind,
        body: row.try_get(9)?,
        attachments: json_text(row, 10)?,
        created_at: ts(row.try_get(11)?),
    };
    Ok((e, row.try_get(3)?))
}

fn system_author() -> Author {
    Author {
        kind: AuthorKind::System,
        id: "system".into(),
        name: "System".into(),
    }
}

impl Tx {
    /// The ticket's write-relevant state, its row locked until the commit.
    async fn ticket_core(&mut self, id: &str) -> PgResult<TicketCore> {
        self.lock_events().await?;
        let row = sqlx::query(
            "SELECT id, number, subject, customer_id, department_id, status, priority, \
             assignee_id, tags, due_at, merged_into, spam, resolution FROM tickets WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        let Some(r) = row else {
            return Err(ApiError::not_found(format!("no ticket {id:?}")).into());
        };
        Ok(TicketCore {
            id: r.try_get(0)?,
            number: r.try_get(1)?,
            subject: r.try_get(2)?,
            customer_id: r.try_get(3)?,
            department_id: r.try_get(4)?,
            status: TicketStatus::from_str(r.try_get(5)?)
                .map_err(|_| decode_err("ticket status"))?,
            priority: TicketPriority::from_str(r.try_get(6)?)
                .map_err(|_| decode_err("priority"))?,
            assignee_id: r.try_get(7)?,
            tags: json_text(&r, 8)?,
            due_at_ms: r.try_get(9)?,
            merged_into: r.try_get(10)?,
            spam: r.try_get(11)?,
            resolution: r.try_get(12)?,
        })
    }

    async fn load_ticket(&mut self, id: &str) -> PgResult<(Ticket, i64)> {
        let row = sqlx::query(AssertSqlSafe(format!("{TICKET_SELECT} WHERE t.id = $1")))
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        match row {
            Some(r) => Ok(ticket_row(&r)?),
            None => Err(inconsistent("ticket vanished")),
        }
    }

    async fn opt_text(&mut self, sql: &'static str, arg: &str) -> PgResult<Option<String>> {
        Ok(sqlx::query_scalar(sql)
            .bind(arg)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn ticket_event(
        &mut self,
        created: bool,
        id: &str,
        prev_department_id: Option<String>,
    ) -> PgResult<Ticket> {
        let (ticket, _) = self.load_ticket(id).await?;
        let audience = Audience::of_chat(
            &ticket.department_id,
            prev_department_id,
            ticket.assignee_id.clone(),
        );
        let payload = serde_json::to_string(&ticket)?;
        let name = if created {
            shared::events::TICKET_CREATED
        } else {
            shared::events::TICKET_UPDATED
        };
        let event_id = self.event(name, &payload, &audience, None).await?;
        let ev = TicketEvent {
            event_id,
            ticket: ticket.clone(),
        };
        let event = if created {
            ServerEvent::TicketCreated(ev)
        } else {
            ServerEvent::TicketUpdated(ev)
        };
        self.publish(Published { event, audience });
        Ok(ticket)
    }

    async fn entry_by_client_id(
        &mut self,
        ticket_id: &str,
        client_msg_id: &str,
    ) -> PgResult<Option<(TicketEntry, Option<i64>)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = $1 AND client_msg_id = $2"
        )))
        .bind(ticket_id)
        .bind(client_msg_id)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.as_ref().map(entry_row).transpose()?)
    }

    async fn existing_entry(
        &mut self,
        ticket_id: &str,
        client_msg_id: &str,
        author: &Author,
    ) -> PgResult<Option<(TicketEntry, Option<i64>)>> {
        match self.entry_by_client_id(ticket_id, client_msg_id).await? {
            Some((e, p)) if e.author.kind == author.kind && e.author.id == author.id => {
                Ok(Some((e, p)))
            }
            Some(_) => Err(ApiError::conflict(
                "client_msg_id is already used by another entry; use a new one",
            )
            .into()),
            None => Ok(None),
        }
    }

    async fn insert_entry(
        &mut self,
        core: &TicketCore,
        client_msg_id: &str,
        author: Author,
        kind: EntryKind,
        body: &str,
        attachments: Vec<Attachment>,
    ) -> PgResult<(TicketEntry, Option<i64>)> {
        let (seq, public): (i64, i64) =
            sqlx::query_as("SELECT last_seq, public_seq FROM tickets WHERE id = $1")
                .bind(&core.id)
                .fetch_one(self.conn())
                .await?;
        let seq = seq + 1;
        let public_seq = rules::visible_to_customer(kind).then_some(public + 1);
        let now = now_ms();
        let id = new_id();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO ticket_entries ({ENTRY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(&id)
        .bind(&core.id)
        .bind(seq)
        .bind(public_seq)
        .bind(client_msg_id)
        .bind(author.kind.as_str())
        .bind(&author.id)
        .bind(&author.name)
        .bind(kind.as_str())
        .bind(body)
        .bind(serde_json::to_string(&attachments)?)
        .bind(now)
        .execute(self.conn())
        .await?;
        sqlx::query(
            "UPDATE tickets SET last_seq = $1, public_seq = $2, entry_count = entry_count + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(seq)
        .bind(public_seq.unwrap_or(public))
        .bind(now)
        .bind(&core.id)
        .execute(self.conn())
        .await?;
        for a in &attachments {
            sqlx::query("UPDATE attachments SET message_id = $1 WHERE id = $2")
                .bind(&id)
                .bind(&a.id)
                .execute(self.conn())
                .await?;
        }
        let entry = TicketEntry {
            id,
            ticket_id: core.id.clone(),
            seq,
            client_msg_id: client_msg_id.to_owned(),
            author,
            kind,
            body: body.to_owned(),
            attachments,
            created_at: ts(now),
        };
        let payload = serde_json::to_string(&entry)?;
        let mut audience = Audience::of_chat(&core.department_id, None, core.assignee_id.clone());
        let cview = if core.spam {
            None
        } else {
            rules::customer_entry_view(&entry, public_seq)
        };
        let cpayload = cview.as_ref().map(serde_json::to_string).transpose()?;
        let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
        let event_id = self
            .event(shared::events::TICKET_ENTRY, &payload, &audience, customer)
            .await?;
        if let Some(cv) = cview {
            audience.customer = Some((
                core.customer_id.clone(),
                ServerEvent::TicketEntry(TicketEntryEvent {
                    event_id,
                    entry: cv,
                }),
            ));
        }
        self.publish(Published {
            event: ServerEvent::TicketEntry(TicketEntryEvent {
                event_id,
                entry: entry.clone(),
            }),
            audience,
        });
        Ok((entry, public_seq))
    }

    async fn event_line(&mut self, core: &TicketCore, line: &str) -> PgResult<()> {
        self.insert_entry(
            core,
            &new_id(),
            system_author(),
            EntryKind::Event,
            line,
            Vec::new(),
        )
        .await?;
        Ok(())
    }

    async fn apply_plan(&mut self, actor: &Actor, plan: UpdatePlan) -> PgResult<Ticket> {
        let c = &plan.core;
        sqlx::query(
            "UPDATE tickets SET subject = $1, status = $2, priority = $3, priority_rank = $4, department_id = $5, \
             assignee_id = $6, tags = $7, due_at = $8, spam = $9, resolution = $10, updated_at = $11 WHERE id = $12",
        )
        .bind(&c.subject)
        .bind(c.status.as_str())
        .bind(c.priority.as_str())
        .bind(rules::priority_rank(c.priority))
        .bind(&c.department_id)
        .bind(&c.assignee_id)
        .bind(serde_json::to_string(&c.tags)?)
        .bind(c.due_at_ms)
        .bind(c.spam)
        .bind(&c.resolution)
        .bind(now_ms())
        .bind(&c.id)
        .execute(self.conn())
        .await?;
        self.sync_tags(&c.id, &c.tags).await?;
        for line in &plan.lines {
            self.event_line(c, line).await?;
        }
        let ticket = self
            .ticket_event(false, &c.id, plan.prev_department_id.clone())
            .await?;
        if let Some(agent) = &plan.notify {
            self.notify(
                agent,
                Notification {
                    kind: "ticket_assigned".into(),
                    title: format!("{} gave you ticket {}", actor.name, ticket.label()),
                    body: ticket.subject.clone(),
                    chat_id: None,
                },
            )
            .await?;
        }
        Ok(ticket)
    }

    async fn sync_tags(&mut self, id: &str, tags: &[String]) -> PgResult<()> {
        sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        for t in tags {
            sqlx::query(
                "INSERT INTO ticket_tags (tag, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(t)
            .bind(id)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    async fn department_name(&mut self, id: &str) -> PgResult<String> {
        self.opt_text("SELECT name FROM departments WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("no department {id:?}")).into())
    }

    async fn agent_name_of(&mut self, id: &str) -> PgResult<Option<String>> {
        self.opt_text("SELECT name FROM agents WHERE id = $1", id)
            .await
    }

    async fn may_hold(&mut self, agent_id: &str, department_id: &str) -> PgResult<bool> {
        let Some(agent) = self.load_agent(agent_id).await? else {
            return Ok(false);
        };
        Ok(crate::domain::actor::may_take_chat_of(
            agent.role,
            &agent.department_ids,
            department_id,
        ))
    }

    async fn next_number(&mut self) -> PgResult<i64> {
        Ok(sqlx::query_scalar(
            "UPDATE ticket_counter SET next_number = next_number + 1 WHERE id = 1 RETURNING next_number - 1",
        )
        .fetch_one(self.conn())
        .await?)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_ticket(
        &mut self,
        subject: &str,
        customer_id: &str,
        department_id: &str,
        priority: TicketPriority,
        assignee_id: Option<&str>,
        tags: &[String],
        due_at_ms: Option<i64>,
        source: TicketSource,
        chat_id: Option<&str>,
    ) -> PgResult<TicketCore> {
        self.lock_events().await?;
        let id = new_id();
        let number = self.next_number().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO tickets (id, number, subject, status, priority, priority_rank, customer_id, department_id, \
             assignee_id, tags, due_at, created_at, updated_at, source, chat_id) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&id)
        .bind(number)
        .bind(subject)
        .bind(priority.as_str())
        .bind(rules::priority_rank(priority))
        .bind(customer_id)
        .bind(department_id)
        .bind(assignee_id)
        .bind(serde_json::to_string(tags)?)
        .bind(due_at_ms)
        .bind(now)
        .bind(now)
        .bind(source.as_str())
        .bind(chat_id)
        .execute(self.conn())
        .await?;
        self.sync_tags(&id, tags).await?;
        self.ticket_core(&id).await
    }

    async fn notify_mentions(
        &mut self,
        actor: &Actor,
        core: &TicketCore,
        body: &str,
    ) -> PgResult<()> {
        let rows = sqlx::query(AGENT_SELECT).fetch_all(self.conn()).await?;
        let agents: Vec<Agent> = rows.iter().map(agent_row).collect::<Result<_, _>>()?;
        let team: Vec<mention::Mentionable<'_>> = agents
            .iter()
            .map(|a| mention::Mentionable {
                id: &a.id,
                name: &a.name,
                email: &a.email,
                role: a.role,
                department_ids: &a.department_ids,
            })
            .collect();
        let as_chat = ChatCore {
            customer_id: core.customer_id.clone(),
            department_id: core.department_id.clone(),
            status: ChatStatus::Active,
            assignee_id: core.assignee_id.clone(),
            last_seq: 0,
            tags: Vec::new(),
        };
        let ids: Vec<String> = mention::notified(body, &actor.id, &team, &as_chat)
            .into_iter()
            .map(str::to_owned)
            .collect();
        for id in ids {
            self.notify(
                &id,
                Notification {
                    kind: "mention".into(),
                    title: format!(
                        "{} mentioned you on ticket {}",
                        actor.name,
                        rules::label(core.number)
                    ),
                    body: body.chars().take(200).collect(),
                    chat_id: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn link(&mut self, from: &str, to: &str, kind: LinkKind) -> PgResult<()> {
        sqlx::query(
            "INSERT INTO ticket_links (ticket_id, other_id, kind, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id, other_id) DO UPDATE SET kind = excluded.kind",
        )
        .bind(from)
        .bind(to)
        .bind(kind.as_str())
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn entry_list(&mut self, id: &str) -> PgResult<Vec<(String, EntryKind)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, kind FROM ticket_entries WHERE ticket_id = $1 ORDER BY seq")
                .bind(id)
                .fetch_all(self.conn())
                .await?;
        rows.into_iter()
            .map(|(i, k)| {
                EntryKind::from_str(&k)
                    .map(|k| (i, k))
                    .map_err(|_| Fail::from(decode_err("entry kind")))
            })
            .collect()
    }

    async fn move_entries(&mut self, ids: &[String], from_number: i64, to: &str) -> PgResult<()> {
        let (mut seq, mut public): (i64, i64) =
            sqlx::query_as("SELECT last_seq, public_seq FROM tickets WHERE id = $1")
                .bind(to)
                .fetch_one(self.conn())
                .await?;
        for id in ids {
            let (kind, client): (String, String) =
                sqlx::query_as("SELECT kind, client_msg_id FROM ticket_entries WHERE id = $1")
                    .bind(id)
                    .fetch_one(self.conn())
                    .await?;
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT id FROM ticket_entries WHERE ticket_id = $1 AND client_msg_id = $2",
            )
            .bind(to)
            .bind(&client)
            .fetch_optional(self.conn())
            .await?;
            let client = if taken.is_some() {
                format!("{client}-{from_number}")
            } else {
                client
            };
            seq += 1;
            let p = if kind == EntryKind::Reply.as_str() {
                public += 1;
                Some(public)
            } else {
                None
            };
            sqlx::query(
                "UPDATE ticket_entries SET ticket_id = $1, seq = $2, public_seq = $3, client_msg_id = $4 WHERE id = $5",
            )
            .bind(to)
            .bind(seq)
            .bind(p)
            .bind(&client)
            .bind(id)
            .execute(self.conn())
            .await?;
        }
        sqlx::query(
            "UPDATE tickets SET last_seq = $1, public_seq = $2, \
             entry_count = (SELECT COUNT(*) FROM ticket_entries WHERE ticket_id = $3), updated_at = $4 WHERE id = $3",
        )
        .bind(seq)
        .bind(public)
        .bind(to)
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn renumber(&mut self, id: &str) -> PgResult<()> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, kind FROM ticket_entries WHERE ticket_id = $1 ORDER BY seq")
                .bind(id)
                .fetch_all(self.conn())
                .await?;
        sqlx::query("UPDATE ticket_entries SET seq = -seq WHERE ticket_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        let (mut seq, mut public) = (0i64, 0i64);
        for (eid, kind) in &rows {
            seq += 1;
            let p = if kind == EntryKind::Reply.as_str() {
                public += 1;
                Some(public)
            } else {
                None
            };
            sqlx::query("UPDATE ticket_entries SET seq = $1, public_seq = $2 WHERE id = $3")
                .bind(seq)
                .bind(p)
                .bind(eid)
                .execute(self.conn())
                .await?;
        }
        sqlx::query(
            "UPDATE tickets SET last_seq = $1, public_seq = $2, entry_count = $1, updated_at = $3 WHERE id = $4",
        )
        .bind(seq)
        .bind(public)
        .bind(now_ms())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

async fn resolve_customer(t: &mut Tx, who: &TicketCustomer) -> PgResult<Customer> {
    match who {
        TicketCustomer::Id(id) => Ok(t
            .load_customer(id)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("no customer {id:?}")))?),
        TicketCustomer::Email { email, name } => {
            let found = t
                .opt_text(
                    "SELECT id FROM customers WHERE email = $1 ORDER BY created_at LIMIT 1",
                    email,
                )
                .await?;
            if let Some(id) = found {
                return t
                    .load_customer(&id)
                    .await?
                    .ok_or_else(|| inconsistent("customer vanished"));
            }
            let id = new_id();
            let display = name
                .clone()
                .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
            sqlx::query(
                "INSERT INTO customers (id, name, email, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(&display)
            .bind(email)
            .bind(now_ms())
            .execute(t.conn())
            .await?;
            t.load_customer(&id)
                .await?
                .ok_or_else(|| inconsistent("customer vanished"))
        }
    }
}

async fn first_department(t: &mut Tx) -> PgResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM departments ORDER BY created_at, id LIMIT 1")
            .fetch_optional(t.conn())
            .await?,
    )
}

fn assigned_note(actor: &Actor, number: i64, subject: &str) -> Notification {
    Notification {
        kind: "ticket_assigned".into(),
        title: format!("{} gave you ticket {}", actor.name, rules::label(number)),
        body: subject.to_owned(),
        chat_id: None,
    }
}

async fn op_create_ticket(t: &mut Tx, actor: Actor, new: NewTicket) -> PgResult<Ticket> {
    t.lock_events().await?;
    let customer = resolve_customer(t, &new.customer).await?;
    let department_id = match &new.department_id {
        Some(d) => {
            t.department_name(d).await?;
            d.clone()
        }
        None => match actor.department_ids.first() {
            Some(d) => d.clone(),
            None => first_department(t)
                .await?
                .ok_or_else(|| ApiError::invalid("there is no department yet; create one first"))?,
        },
    };
    if !crate::domain::actor::may_take_chat_of(actor.role, &actor.department_ids, &department_id)
        && new.assignee_id.as_deref() != Some(actor.id.as_str())
    {
        return Err(ApiError::forbidden(
            "you may create tickets in your own departments (or assign them to yourself)",
        )
        .into());
    }
    if let Some(a) = &new.assignee_id {
        if t.agent_name_of(a).await?.is_none() {
            return Err(ApiError::invalid(format!("no agent {a:?}")).into());
        }
        if a != &actor.id && !t.may_hold(a, &department_id).await? {
            return Err(ApiError::invalid(format!(
                "agent {a:?} does not work this ticket's department"
            ))
            .into());
        }
    }
    let author = if new.on_behalf {
        Author {
            kind: AuthorKind::Customer,
            id: customer.id.clone(),
            name: customer.name.clone(),
        }
    } else {
        agent_author(&actor)
    };
    let replay: Option<String> = sqlx::query_scalar(
        "SELECT e.ticket_id FROM ticket_entries e JOIN tickets k ON k.id = e.ticket_id \
         WHERE e.client_msg_id = $1 AND e.seq = 1 AND e.author_id = $2 AND k.customer_id = $3",
    )
    .bind(&new.client_msg_id)
    .bind(&author.id)
    .bind(&customer.id)
    .fetch_optional(t.conn())
    .await?;
    if let Some(id) = replay {
        return Ok(t.load_ticket(&id).await?.0);
    }
    let core = t
        .insert_ticket(
            &new.subject,
            &customer.id,
            &department_id,
            new.priority,
            new.assignee_id.as_deref(),
            &new.tags,
            new.due_at_ms,
            TicketSource::Agent,
            None,
        )
        .await?;
    t.ticket_event(true, &core.id, None).await?;
    t.insert_entry(
        &core,
        &new.client_msg_id,
        author,
        EntryKind::Reply,
        &new.body,
        Vec::new(),
    )
    .await?;
    if new.on_behalf {
        t.event_line(
            &core,
            &rules::created_on_behalf_line(&actor.name, &customer.name),
        )
        .await?;
    }
    if let Some(a) = &new.assignee_id
        && a != &actor.id
    {
        t.notify(a, assigned_note(&actor, core.number, &core.subject))
            .await?;
    }
    t.ticket_event(false, &core.id, None).await
}

async fn op_ticket_action(
    t: &mut Tx,
    actor: Actor,
    id: String,
    action: TicketAction,
) -> PgResult<Ticket> {
    let core = t.ticket_core(&id).await?;
    rules::check_access(&actor, &core)?;
    let plan = match action {
        TicketAction::Update {
            mut changes,
            department_id,
        } => {
            if let Some(d) = department_id {
                let name = t.department_name(&d).await?;
                changes.department = Some((d, name));
            }
            let mut names = HashMap::new();
            let mut holds = HashMap::new();
            if let Some(Some(a)) = &changes.assignee_id {
                let dept = changes
                    .department
                    .as_ref()
                    .map_or(core.department_id.clone(), |(d, _)| d.clone());
                if let Some(n) = t.agent_name_of(a).await? {
                    names.insert(a.clone(), n);
                }
                let h = t.may_hold(a, &dept).await?;
                holds.insert((a.clone(), dept), h);
            }
            rules::plan_update(
                &actor,
                &core,
                &changes,
                &|a| names.get(a).cloned(),
                &|a, d| {
                    holds
                        .get(&(a.to_owned(), d.to_owned()))
                        .copied()
                        .unwrap_or(false)
                },
            )?
        }
        TicketAction::Close { resolution } => rules::close(&actor, &core, &resolution)?,
        TicketAction::Reopen => rules::reopen(&actor, &core)?,
        TicketAction::Escalate {
            to_department_id,
            to_agent_id,
            note,
        } => {
            let dept = match to_department_id {
                Some(d) => {
                    let n = t.department_name(&d).await?;
                    Some((d, n))
                }
                None => None,
            };
            let agent = match to_agent_id {
                Some(a) => {
                    let n = t
                        .agent_name_of(&a)
                        .await?
                        .ok_or_else(|| ApiError::invalid(format!("no agent {a:?}")))?;
                    Some((a, n))
                }
                None => None,
            };
            let target_dept = dept
                .as_ref()
                .map_or(core.department_id.clone(), |(d, _)| d.clone());
            let hold = match &agent {
                Some((a, _)) => t.may_hold(a, &target_dept).await?,
                None => false,
            };
            let plan = rules::escalate(&actor, &core, dept, agent.clone(), &|_, _| hold)?;
            if let Some(n) = note {
                t.insert_entry(
                    &core,
                    &new_id(),
                    agent_author(&actor),
                    EntryKind::Note,
                    &n,
                    Vec::new(),
                )
                .await?;
            }
            if agent.is_none() {
                let sups: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM agents WHERE role IN ('supervisor', 'admin') AND id != $1 ORDER BY id",
                )
                .bind(&actor.id)
                .fetch_all(t.conn())
                .await?;
                for s in sups {
                    t.notify(
                        &s,
                        Notification {
                            kind: "ticket_escalated".into(),
                            title: format!(
                                "{} escalated ticket {}",
                                actor.name,
                                rules::label(core.number)
                            ),
                            body: core.subject.clone(),
                            chat_id: None,
                        },
                    )
                    .await?;
                }
            }
            plan
        }
        TicketAction::Spam {
            spam,
            block_customer,
        } => {
            let plan = rules::mark_spam(&actor, &core, spam)?;
            if spam && block_customer {
                sqlx::query("UPDATE customers SET blocked = TRUE WHERE id = $1")
                    .bind(&core.customer_id)
                    .execute(t.conn())
                    .await?;
                let customer = t
                    .load_customer(&core.customer_id)
                    .await?
                    .ok_or_else(|| inconsistent("customer vanished"))?;
                let audience = Audience {
                    department_id: Some(core.department_id.clone()),
                    ..Audience::default()
                };
                let payload = serde_json::to_string(&customer)?;
                let event_id = t
                    .event(shared::events::CUSTOMER_UPDATED, &payload, &audience, None)
                    .await?;
                t.publish(Published {
                    event: ServerEvent::CustomerUpdated(shared::events::CustomerEvent {
                        event_id,
                        customer,
                    }),
                    audience,
                });
            }
            plan
        }
        TicketAction::Link { other_id, kind } => {
            let other = match t.ticket_core(&other_id).await {
                Ok(o) => o,
                Err(Fail::Api(_)) => {
                    return Err(ApiError::invalid(format!("no ticket {other_id:?} to link")).into());
                }
                Err(e) => return Err(e),
            };
            let existing: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM ticket_links WHERE ticket_id = $1")
                    .bind(&id)
                    .fetch_one(t.conn())
                    .await?;
            let line = rules::check_link(
                &actor,
                &core,
                &other,
                kind,
                usize::try_from(existing).unwrap_or(usize::MAX),
            )?;
            t.link(&id, &other_id, kind).await?;
            let back = match kind {
                LinkKind::DuplicateOf => LinkKind::Related,
                k => k,
            };
            t.link(&other_id, &id, back).await?;
            let back_line = line.replace(&rules::label(other.number), &rules::label(core.number));
            t.event_line(&other, &back_line).await?;
            t.ticket_event(false, &other_id, None).await?;
            UpdatePlan {
                core: core.clone(),
                lines: vec![line],
                prev_department_id: None,
                notify: None,
            }
        }
        TicketAction::Unlink { other_id } => {
            let removed =
                sqlx::query("DELETE FROM ticket_links WHERE ticket_id = $1 AND other_id = $2")
                    .bind(&id)
                    .bind(&other_id)
                    .execute(t.conn())
                    .await?
                    .rows_affected();
            if removed == 0 {
                return Err(ApiError::not_found(format!(
                    "ticket {} is not linked to {other_id:?}",
                    rules::label(core.number)
                ))
                .into());
            }
            sqlx::query("DELETE FROM ticket_links WHERE ticket_id = $1 AND other_id = $2")
                .bind(&other_id)
                .bind(&id)
                .execute(t.conn())
                .await?;
            let n: i64 = sqlx::query_scalar("SELECT number FROM tickets WHERE id = $1")
                .bind(&other_id)
                .fetch_one(t.conn())
                .await?;
            UpdatePlan {
                core: core.clone(),
                lines: vec![format!("Unlinked {} by {}", rules::label(n), actor.name)],
                prev_department_id: None,
                notify: None,
            }
        }
    };
    t.apply_plan(&actor, plan).await
}

#[allow(clippy::too_many_arguments)]
async fn op_add_entry(
    t: &mut Tx,
    actor: Actor,
    id: String,
    kind: EntryKind,
    body: String,
    client_msg_id: String,
    attachment_ids: Vec<String>,
) -> PgResult<(TicketEntry, bool)> {
    let core = t.ticket_core(&id).await?;
    rules::check_access(&actor, &core)?;
    let author = agent_author(&actor);
    if let Some((e, _)) = t.existing_entry(&id, &client_msg_id, &author).await? {
        return Ok((e, true));
    }
    rules::agent_entry(&core, kind)?;
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        t.unsent_attachments("agent", &actor.id, &attachment_ids)
            .await?
    };
    let (e, _) = t
        .insert_entry(&core, &client_msg_id, author, kind, &body, attachments)
        .await?;
    if kind == EntryKind::Note && body.contains('@') {
        t.notify_mentions(&actor, &core, &body).await?;
    }
    t.ticket_event(false, &id, None).await?;
    Ok((e, false))
}

async fn op_merge(t: &mut Tx, actor: Actor, id: String, into: String) -> PgResult<Ticket> {
    let source = t.ticket_core(&id).await?;
    let target = match t.ticket_core(&into).await {
        Ok(c) => c,
        Err(Fail::Api(_)) => {
            return Err(ApiError::invalid(format!("no ticket {into:?} to merge into")).into());
        }
        Err(e) => return Err(e),
    };
    let entries = t.entry_list(&id).await?;
    let (on_source, on_target) = rules::check_merge(&actor, &source, &target, entries.len())?;
    let ids: Vec<String> = entries.into_iter().map(|e| e.0).collect();
    t.move_entries(&ids, source.number, &into).await?;
    sqlx::query(
        "UPDATE tickets SET merged_into = $1, last_seq = 0, public_seq = 0, entry_count = 0, updated_at = $2 WHERE id = $3",
    )
    .bind(&into)
    .bind(now_ms())
    .bind(&id)
    .execute(t.conn())
    .await?;
    t.link(&id, &into, LinkKind::DuplicateOf).await?;
    t.link(&into, &id, LinkKind::Related).await?;
    let src = t.ticket_core(&id).await?;
    t.event_line(&src, &on_source).await?;
    t.ticket_event(false, &id, None).await?;
    t.event_line(&target, &on_target).await?;
    t.ticket_event(false, &into, None).await
}

async fn op_split(
    t: &mut Tx,
    actor: Actor,
    id: String,
    entry_ids: Vec<String>,
    subject: String,
) -> PgResult<Ticket> {
    let core = t.ticket_core(&id).await?;
    let entries = t.entry_list(&id).await?;
    rules::check_split(&actor, &core, &entry_ids, &entries)?;
    let chosen: Vec<String> = entries
        .iter()
        .filter(|e| entry_ids.contains(&e.0))
        .map(|e| e.0.clone())
        .collect();
    let new = t
        .insert_ticket(
            &subject,
            &core.customer_id,
            &core.department_id,
            core.priority,
            core.assignee_id.as_deref(),
            &core.tags,
            core.due_at_ms,
            TicketSource::Agent,
            None,
        )
        .await?;
    t.ticket_event(true, &new.id, None).await?;
    t.move_entries(&chosen, core.number, &new.id).await?;
    t.renumber(&id).await?;
    t.link(&new.id, &id, LinkKind::SplitFrom).await?;
    t.link(&id, &new.id, LinkKind::Related).await?;
    t.event_line(
        &new,
        &rules::split_line_new(core.number, chosen.len(), &actor),
    )
    .await?;
    t.event_line(
        &core,
        &rules::split_line_source(new.number, chosen.len(), &actor),
    )
    .await?;
    t.ticket_event(false, &id, None).await?;
    t.ticket_event(false, &new.id, None).await
}

async fn op_clone(t: &mut Tx, actor: Actor, id: String) -> PgResult<Ticket> {
    let core = t.ticket_core(&id).await?;
    rules::check_access(&actor, &core)?;
    let first: Option<String> = sqlx::query_scalar(
        "SELECT body FROM ticket_entries WHERE ticket_id = $1 AND kind = 'reply' ORDER BY seq LIMIT 1",
    )
    .bind(&id)
    .fetch_optional(t.conn())
    .await?;
    let new = t
        .insert_ticket(
            &core.subject,
            &core.customer_id,
            &core.department_id,
            core.priority,
            None,
            &core.tags,
            core.due_at_ms,
            TicketSource::Agent,
            None,
        )
        .await?;
    t.ticket_event(true, &new.id, None).await?;
    if let Some(body) = first {
        t.insert_entry(
            &new,
            &new_id(),
            agent_author(&actor),
            EntryKind::Note,
            &body,
            Vec::new(),
        )
        .await?;
    }
    t.event_line(&new, &rules::cloned_line(core.number, &actor))
        .await?;
    t.link(&new.id, &id, LinkKind::Related).await?;
    t.link(&id, &new.id, LinkKind::Related).await?;
    t.ticket_event(false, &id, None).await?;
    t.ticket_event(false, &new.id, None).await
}

async fn op_customer_entry(
    t: &mut Tx,
    customer_id: String,
    id: String,
    body: String,
    client_msg_id: String,
) -> PgResult<(TicketEntry, bool)> {
    let core = match t.ticket_core(&id).await {
        Ok(c) if rules::customer_may_see(&customer_id, &c) => c,
        Ok(_) | Err(Fail::Api(_)) => {
            return Err(ApiError::not_found(format!("no request {id:?}")).into());
        }
        Err(e) => return Err(e),
    };
    let (name, blocked) = t.customer_brief(&customer_id).await?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name,
    };
    if let Some((e, public)) = t.existing_entry(&id, &client_msg_id, &author).await? {
        let view = rules::customer_entry_view(&e, public)
            .ok_or_else(|| inconsistent("customer entry not visible"))?;
        return Ok((view, true));
    }
    let reopen = rules::customer_entry(&core, blocked)?;
    let (entry, public) = t
        .insert_entry(
            &core,
            &client_msg_id,
            author,
            EntryKind::Reply,
            &body,
            Vec::new(),
        )
        .await?;
    if let Some(status) = reopen {
        let mut next = core.clone();
        next.status = status;
        next.resolution = None;
        sqlx::query("UPDATE tickets SET status = $1, resolution = NULL WHERE id = $2")
            .bind(status.as_str())
            .bind(&id)
            .execute(t.conn())
            .await?;
        t.event_line(
            &next,
            &format!("Status: {} → {status} (the customer answered)", core.status),
        )
        .await?;
    }
    t.ticket_event(false, &id, None).await?;
    let view = rules::customer_entry_view(&entry, public)
        .ok_or_else(|| inconsistent("customer entry not visible"))?;
    Ok((view, false))
}

async fn op_customer_create(
    t: &mut Tx,
    customer_id: String,
    subject: String,
    body: String,
    email: String,
    name: Option<String>,
    client_msg_id: String,
) -> PgResult<Ticket> {
    t.lock_events().await?;
    let (_, blocked) = t.customer_brief(&customer_id).await?;
    if blocked {
        return Err(ApiError::forbidden("you have been blocked from writing").into());
    }
    let replay: Option<String> = sqlx::query_scalar(
        "SELECT ticket_id FROM ticket_entries WHERE client_msg_id = $1 AND seq = 1 \
         AND author_kind = 'customer' AND author_id = $2",
    )
    .bind(&client_msg_id)
    .bind(&customer_id)
    .fetch_optional(t.conn())
    .await?;
    if let Some(id) = replay {
        let (tk, public) = t.load_ticket(&id).await?;
        return Ok(rules::customer_ticket(&tk, public));
    }
    sqlx::query("UPDATE customers SET email = $1, name = COALESCE($2, name) WHERE id = $3")
        .bind(&email)
        .bind(&name)
        .bind(&customer_id)
        .execute(t.conn())
        .await?;
    let dept = first_department(t).await?.ok_or_else(|| {
        ApiError::new(
            shared::ErrorCode::Unavailable,
            "no department takes requests yet",
        )
    })?;
    let core = t
        .insert_ticket(
            &subject,
            &customer_id,
            &dept,
            TicketPriority::Medium,
            None,
            &[],
            None,
            TicketSource::Widget,
            None,
        )
        .await?;
    t.ticket_event(true, &core.id, None).await?;
    let (cname, _) = t.customer_brief(&customer_id).await?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name: cname,
    };
    t.insert_entry(
        &core,
        &client_msg_id,
        author,
        EntryKind::Reply,
        &body,
        Vec::new(),
    )
    .await?;
    t.ticket_event(false, &core.id, None).await?;
    let (tk, public) = t.load_ticket(&core.id).await?;
    Ok(rules::customer_ticket(&tk, public))
}

async fn op_chat_to_ticket(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    subject: Option<String>,
    priority: Option<TicketPriority>,
) -> PgResult<Ticket> {
    let core = t.lock_chat(&chat_id).await?;
    crate::domain::chat::check_access(&actor, &core, &chat_id)?;
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT number FROM tickets WHERE chat_id = $1 ORDER BY created_at LIMIT 1",
    )
    .bind(&chat_id)
    .fetch_optional(t.conn())
    .await?;
    rules::check_convert(existing)?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = $1 ORDER BY seq"
    )))
    .bind(&chat_id)
    .fetch_all(t.conn())
    .await?;
    let messages: Vec<Message> = rows.iter().map(message_row).collect::<Result<_, _>>()?;
    let (customer_name, _) = t.customer_brief(&core.customer_id).await?;
    let first = messages
        .iter()
        .find(|m| m.author.kind == AuthorKind::Customer && m.kind == MessageKind::Text)
        .map(|m| m.body.as_str());
    let subject = rules::chat_subject(subject.as_deref(), first, &customer_name);
    let new = t
        .insert_ticket(
            &subject,
            &core.customer_id,
            &core.department_id,
            priority.unwrap_or(TicketPriority::Medium),
            core.assignee_id.as_deref(),
            &core.tags,
            None,
            TicketSource::Chat,
            Some(&chat_id),
        )
        .await?;
    let (mut seq, mut public) = (0i64, 0i64);
    for m in &messages {
        let kind = rules::entry_kind_of(m.kind);
        seq += 1;
        let p = rules::visible_to_customer(kind).then(|| {
            public += 1;
            public
        });
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO ticket_entries ({ENTRY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(new_id())
        .bind(&new.id)
        .bind(seq)
        .bind(p)
        .bind(format!("chat-{}", m.seq))
        .bind(m.author.kind.as_str())
        .bind(&m.author.id)
        .bind(&m.author.name)
        .bind(kind.as_str())
        .bind(&m.body)
        .bind(serde_json::to_string(&m.attachments)?)
        .bind((m.created_at.unix_timestamp_nanos() / 1_000_000) as i64)
        .execute(t.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE tickets SET last_seq = $1, public_seq = $2, entry_count = $1 WHERE id = $3",
    )
    .bind(seq)
    .bind(public)
    .bind(&new.id)
    .execute(t.conn())
    .await?;
    t.ticket_event(true, &new.id, None).await?;
    t.event_line(&new, &rules::converted_line(&actor)).await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, false).await?;
    t.ticket_event(false, &new.id, None).await
}

/// A bound value of a list query.
enum Arg {
    Text(String),
    Int(i64),
}

#[async_trait]
impl TicketStore for PgStore {
    async fn chat_to_ticket(
        &self,
        actor: &Actor,
        chat_id: &str,
        subject: Option<&str>,
        priority: Option<TicketPriority>,
    ) -> StoreResult<Ticket> {
        let (a, c, s) = (
            actor.clone(),
            chat_id.to_owned(),
            subject.map(str::to_owned),
        );
        self.run(move |t| Box::pin(op_chat_to_ticket(t, a, c, s, priority)))
            .await
    }

    async fn tickets(&self, viewer: &Actor, f: &TicketFilter) -> StoreResult<Page<Ticket>> {
        let mut w = String::from(" WHERE TRUE");
        let mut args: Vec<Arg> = Vec::new();
        let mut n = 0usize;
        let mut next = |args: &mut Vec<Arg>, a: Arg| {
            args.push(a);
            n += 1;
            format!("${n}")
        };
        if let ChatScope::Visible { agent_id, .. } = viewer.chat_scope() {
            let a = next(&mut args, Arg::Text(agent_id.clone()));
            let b = next(&mut args, Arg::Text(agent_id));
            w.push_str(&format!(
                " AND (t.assignee_id = {a} OR t.department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = {b}))"
            ));
        }
        if !f.statuses.is_empty() {
            let marks: Vec<String> = f
                .statuses
                .iter()
                .map(|s| next(&mut args, Arg::Text(s.as_str().into())))
                .collect();
            w.push_str(&format!(" AND t.status IN ({})", marks.join(", ")));
        }
        if !f.priorities.is_empty() {
            let marks: Vec<String> = f
                .priorities
                .iter()
                .map(|p| next(&mut args, Arg::Int(rules::priority_rank(*p))))
                .collect();
            w.push_str(&format!(" AND t.priority_rank IN ({})", marks.join(", ")));
        }
        if let Some(p) = f.priority_min {
            let m = next(&mut args, Arg::Int(rules::priority_rank(p)));
            w.push_str(&format!(" AND t.priority_rank >= {m}"));
        }
        if let Some(d) = &f.department_id {
            let m = next(&mut args, Arg::Text(d.clone()));
            w.push_str(&format!(" AND t.department_id = {m}"));
        }
        match &f.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => w.push_str(" AND t.assignee_id IS NULL"),
            AssigneeFilter::Agent(a) => {
                let m = next(&mut args, Arg::Text(a.clone()));
                w.push_str(&format!(" AND t.assignee_id = {m}"));
            }
        }
        if let Some(tag) = &f.tag {
            let m = next(&mut args, Arg::Text(tag.clone()));
            w.push_str(&format!(
                " AND t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = {m})"
            ));
        }
        if let Some(c) = &f.customer_id {
            let m = next(&mut args, Arg::Text(c.clone()));
            w.push_str(&format!(" AND t.customer_id = {m}"));
        }
        match f.spam {
            SpamFilter::Hide => w.push_str(" AND NOT t.spam"),
            SpamFilter::Only => w.push_str(" AND t.spam"),
            SpamFilter::Any => {}
        }
        if !f.include_merged {
            w.push_str(" AND t.merged_into IS NULL");
        }
        let by_number =
            f.q.as_deref()
                .filter(|q| q.trim_start().starts_with('#'))
                .and_then(rules::number_in_query);
        if let Some(num) = by_number {
            // `#1042` names a ticket by its number only.
            let m = next(&mut args, Arg::Int(num));
            w.push_str(&format!(" AND t.number = {m}"));
        } else if let Some(q) = &f.q {
            let num = next(&mut args, Arg::Int(rules::number_in_query(q).unwrap_or(-1)));
            let p = next(&mut args, Arg::Text(like_pattern(q)));
            w.push_str(&format!(
                " AND (t.number = {num} OR t.subject LIKE {p} ESCAPE '\\' OR cu.name LIKE {p} ESCAPE '\\' \
                 OR cu.email LIKE {p} ESCAPE '\\' OR EXISTS (SELECT 1 FROM ticket_entries e \
                 WHERE e.ticket_id = t.id AND e.body LIKE {p} ESCAPE '\\'))"
            ));
        }
        let order = match f.sort {
            TicketSort::Newest => " ORDER BY t.created_at DESC, t.id DESC",
            TicketSort::Oldest => " ORDER BY t.created_at ASC, t.id ASC",
            TicketSort::Priority => " ORDER BY t.priority_rank DESC, t.updated_at DESC, t.id DESC",
            TicketSort::Due => " ORDER BY t.due_at ASC NULLS LAST, t.id ASC",
            TicketSort::Updated => " ORDER BY t.updated_at DESC, t.id DESC",
        };
        let limit = format!("${}", n + 1);
        let offset = format!("${}", n + 2);
        let count_sql =
            format!("SELECT COUNT(*) FROM tickets t JOIN customers cu ON cu.id = t.customer_id{w}");
        let sql = format!("{TICKET_SELECT}{w}{order} LIMIT {limit} OFFSET {offset}");
        let per_page = i64::from(f.per_page);
        let skip = i64::from(f.page - 1) * per_page;
        let (total, rows) = self
            .read(move |c| {
                Box::pin(async move {
                    let mut cq = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
                    for a in &args {
                        cq = match a {
                            Arg::Text(s) => cq.bind(s.clone()),
                            Arg::Int(i) => cq.bind(*i),
                        };
                    }
                    let total = cq.fetch_one(&mut *c).await?;
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for a in &args {
                        q = match a {
                            Arg::Text(s) => q.bind(s.clone()),
                            Arg::Int(i) => q.bind(*i),
                        };
                    }
                    let rows = q.bind(per_page).bind(skip).fetch_all(&mut *c).await?;
                    let items = rows
                        .iter()
                        .map(|r| ticket_row(r).map(|(t, _)| t))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((total, items))
                })
            })
            .await?;
        Ok(Page {
            items: rows,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn ticket(&self, id: &str) -> StoreResult<Option<Ticket>> {
        let id = id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(format!("{TICKET_SELECT} WHERE t.id = $1")))
                    .bind(&id)
                    .fetch_optional(&mut *c)
                    .await?;
                row.as_ref()
                    .map(|r| ticket_row(r).map(|(t, _)| t))
                    .transpose()
            })
        })
        .await
    }

    async fn ticket_entries(
        &self,
        ticket_id: &str,
        after_seq: Seq,
        limit: u32,
        view: EntryView,
    ) -> StoreResult<Vec<TicketEntry>> {
        let sql = match view {
            EntryView::Agent => format!(
                "SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            EntryView::Customer => format!(
                "SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = $1 AND public_seq > $2 \
                 AND kind = 'reply' ORDER BY public_seq LIMIT $3"
            ),
        };
        let id = ticket_id.to_owned();
        let rows = self
            .read(move |c| {
                Box::pin(async move {
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(&id)
                        .bind(after_seq)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *c)
                        .await?;
                    rows.iter().map(entry_row).collect::<Result<Vec<_>, _>>()
                })
            })
            .await?;
        Ok(match view {
            EntryView::Agent => rows.into_iter().map(|(e, _)| e).collect(),
            EntryView::Customer => rows
                .into_iter()
                .filter_map(|(e, p)| rules::customer_entry_view(&e, p))
                .collect(),
        })
    }

    async fn create_ticket(&self, actor: &Actor, new: NewTicket) -> StoreResult<Ticket> {
        let a = actor.clone();
        self.run(move |t| Box::pin(op_create_ticket(t, a, new)))
            .await
    }

    async fn ticket_action(
        &self,
        actor: &Actor,
        ticket_id: &str,
        action: TicketAction,
    ) -> StoreResult<Ticket> {
        let (a, id) = (actor.clone(), ticket_id.to_owned());
        self.run(move |t| Box::pin(op_ticket_action(t, a, id, action)))
            .await
    }

    async fn add_ticket_entry(
        &self,
        actor: &Actor,
        ticket_id: &str,
        kind: EntryKind,
        body: &str,
        client_msg_id: &str,
        attachment_ids: &[String],
    ) -> StoreResult<(TicketEntry, bool)> {
        let (a, id, b, m) = (
            actor.clone(),
            ticket_id.to_owned(),
            body.to_owned(),
            client_msg_id.to_owned(),
        );
        let files = attachment_ids.to_vec();
        self.run(move |t| Box::pin(op_add_entry(t, a, id, kind, b, m, files)))
            .await
    }

    async fn merge_ticket(
        &self,
        actor: &Actor,
        ticket_id: &str,
        into: &str,
    ) -> StoreResult<Ticket> {
        let (a, id, into) = (actor.clone(), ticket_id.to_owned(), into.to_owned());
        self.run(move |t| Box::pin(op_merge(t, a, id, into))).await
    }

    async fn split_ticket(
        &self,
        actor: &Actor,
        ticket_id: &str,
        entry_ids: &[String],
        subject: &str,
    ) -> StoreResult<Ticket> {
        let (a, id, e, s) = (
            actor.clone(),
            ticket_id.to_owned(),
            entry_ids.to_vec(),
            subject.to_owned(),
        );
        self.run(move |t| Box::pin(op_split(t, a, id, e, s))).await
    }

    async fn clone_ticket(&self, actor: &Actor, ticket_id: &str) -> StoreResult<Ticket> {
        let (a, id) = (actor.clone(), ticket_id.to_owned());
        self.run(move |t| Box::pin(op_clone(t, a, id))).await
    }

    async fn customer_tickets(&self, customer_id: &str) -> StoreResult<Vec<Ticket>> {
        let cid = customer_id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "{TICKET_SELECT} WHERE t.customer_id = $1 AND NOT t.spam AND t.merged_into IS NULL \
                     ORDER BY t.created_at DESC LIMIT 100"
                )))
                .bind(&cid)
                .fetch_all(&mut *c)
                .await?;
                rows.iter()
                    .map(|r| ticket_row(r).map(|(t, p)| rules::customer_ticket(&t, p)))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .await
    }

    async fn tickets_of_customer(&self, customer_id: &str) -> StoreResult<Vec<Ticket>> {
        let cid = customer_id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "{TICKET_SELECT} WHERE t.customer_id = $1 ORDER BY t.created_at DESC LIMIT 100"
                )))
                .bind(&cid)
                .fetch_all(&mut *c)
                .await?;
                rows.iter()
                    .map(|r| ticket_row(r).map(|(t, _)| t))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .await
    }

    async fn customer_ticket_entry(
        &self,
        customer_id: &str,
        ticket_id: &str,
        body: &str,
        client_msg_id: &str,
    ) -> StoreResult<(TicketEntry, bool)> {
        let (c, id, b, m) = (
            customer_id.to_owned(),
            ticket_id.to_owned(),
            body.to_owned(),
            client_msg_id.to_owned(),
        );
        self.run(move |t| Box::pin(op_customer_entry(t, c, id, b, m)))
            .await
    }

    async fn customer_create_ticket(
        &self,
        customer_id: &str,
        subject: &str,
        body: &str,
        email: &str,
        name: Option<&str>,
        client_msg_id: &str,
    ) -> StoreResult<Ticket> {
        let (c, s, b, e, n, m) = (
            customer_id.to_owned(),
            subject.to_owned(),
            body.to_owned(),
            email.to_owned(),
            name.map(str::to_owned),
            client_msg_id.to_owned(),
        );
        self.run(move |t| Box::pin(op_customer_create(t, c, s, b, e, n, m)))
            .await
    }
}
