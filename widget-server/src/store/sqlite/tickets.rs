//! Tickets on SQLite: the list and timeline reads on the reader pool, and every ticket
//! write on the writer thread, each logging its events in the same transaction.

use shared::ticket::{
    EntryKind, LinkKind, Ticket, TicketEntry, TicketEntryEvent, TicketEvent, TicketLink,
    TicketPriority, TicketSource, TicketStatus,
};

use super::*;
use crate::domain::ticket::{self as rules, TicketCore, UpdatePlan};
use crate::store::{
    AssigneeFilter, EntryView, NewTicket, SpamFilter, TicketAction, TicketCustomer, TicketFilter,
    TicketSort, TicketStore,
};

pub(super) const TICKET_SELECT: &str = "SELECT t.id, t.number, t.subject, t.status, t.priority, \
    t.department_id, t.assignee_id, t.tags, t.due_at, t.created_at, t.updated_at, t.source, \
    t.chat_id, t.merged_into, t.resolution, t.spam, t.last_seq, t.entry_count, t.public_seq, \
    (SELECT json_group_array(json_object('ticket_id', l.other_id, 'kind', l.kind)) FROM ticket_links l WHERE l.ticket_id = t.id), \
    cu.id, cu.name, cu.email, cu.phone, cu.location, cu.tags, cu.custom_fields, cu.blocked, cu.created_at \
    FROM tickets t CROSS JOIN customers cu ON cu.id = t.customer_id";

pub(super) const ENTRY_COLS: &str = "id, ticket_id, seq, public_seq, client_msg_id, author_kind, \
    author_id, author_name, kind, body, attachments, created_at";

static TICKET_BY_ID: LazyLock<String> = LazyLock::new(|| format!("{TICKET_SELECT} WHERE t.id = ?"));
static ENTRY_BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = ? AND client_msg_id = ?")
});

const CORE_SQL: &str = "SELECT id, number, subject, customer_id, department_id, status, priority, \
    assignee_id, tags, due_at, merged_into, spam, resolution FROM tickets WHERE id = ?";

/// A ticket row and its public entry count (what the customer sees).
pub(super) fn ticket_row<R: Cols>(row: &R) -> Result<(Ticket, i64), R::Err> {
    let parse = |what: &str| bad::<R>(what);
    let links: Vec<TicketLink> =
        serde_json::from_str(row.str_at(19)?).map_err(|_| parse("ticket links"))?;
    let t = Ticket {
        id: row.text_at(0)?,
        number: row.int_at(1)?,
        subject: row.text_at(2)?,
        status: TicketStatus::from_str(row.str_at(3)?).map_err(|_| parse("ticket status"))?,
        priority: TicketPriority::from_str(row.str_at(4)?).map_err(|_| parse("priority"))?,
        department_id: row.text_at(5)?,
        assignee_id: row.opt_text_at(6)?,
        tags: row.json_at(7)?,
        due_at: row.opt_int_at(8)?.map(ts),
        created_at: ts(row.int_at(9)?),
        updated_at: ts(row.int_at(10)?),
        source: TicketSource::from_str(row.str_at(11)?).map_err(|_| parse("ticket source"))?,
        chat_id: row.opt_text_at(12)?,
        merged_into: row.opt_text_at(13)?,
        resolution: row.opt_text_at(14)?,
        spam: row.int_at(15)? != 0,
        last_seq: row.int_at(16)?,
        entry_count: row.int_at(17)?,
        links,
        customer: customer_at(row, 20)?,
    };
    Ok((t, row.int_at(18)?))
}

/// An entry row and its public seq (`None` for notes and event lines).
pub(super) fn entry_row<R: Cols>(row: &R) -> Result<(TicketEntry, Option<i64>), R::Err> {
    let author_kind = match row.str_at(5)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(bad::<R>("author kind")),
    };
    let kind = EntryKind::from_str(row.str_at(8)?).map_err(|_| bad::<R>("entry kind"))?;
    let e = TicketEntry {
        id: row.text_at(0)?,
        ticket_id: row.text_at(1)?,
        seq: row.int_at(2)?,
        client_msg_id: row.text_at(4)?,
        author: Author {
            kind: author_kind,
            id: row.text_at(6)?,
            name: row.text_at(7)?,
        },
        kind,
        body: row.text_at(9)?,
        attachments: row.json_at(10)?,
        created_at: ts(row.int_at(11)?),
    };
    Ok((e, row.opt_int_at(3)?))
}

fn system_author() -> Author {
    Author {
        kind: AuthorKind::System,
        id: "system".into(),
        name: "System".into(),
    }
}

fn ticket_audience(t: &Ticket, prev_department_id: Option<String>) -> Audience {
    Audience {
        department_id: Some(t.department_id.clone()),
        prev_department_id,
        agent_id: t.assignee_id.clone(),
        broadcast: false,
        customer: None,
    }
}

impl Tx<'_> {
    pub(super) fn ticket_core(&self, id: &str) -> WResult<TicketCore> {
        let core = self
            .conn
            .prepare_cached(CORE_SQL)?
            .query_row([id], |r| {
                Ok(TicketCore {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    subject: r.get(2)?,
                    customer_id: r.get(3)?,
                    department_id: r.get(4)?,
                    status: TicketStatus::from_str(r.str_at(5)?)
                        .map_err(|_| bad::<rusqlite::Row<'_>>("ticket status"))?,
                    priority: TicketPriority::from_str(r.str_at(6)?)
                        .map_err(|_| bad::<rusqlite::Row<'_>>("priority"))?,
                    assignee_id: r.get(7)?,
                    tags: r.json_at(8)?,
                    due_at_ms: r.get(9)?,
                    merged_into: r.get(10)?,
                    spam: r.get::<_, i64>(11)? != 0,
                    resolution: r.get(12)?,
                })
            })
            .optional()?;
        core.ok_or_else(|| ApiError::not_found(format!("no ticket {id:?}")).into())
    }

    pub(super) fn load_ticket(&self, id: &str) -> WResult<(Ticket, i64)> {
        self.conn
            .prepare_cached(&TICKET_BY_ID)?
            .query_row([id], |r| ticket_row(r))
            .optional()?
            .ok_or_else(|| inconsistent("ticket vanished"))
    }

    fn ticket_number(&self, id: &str) -> WResult<i64> {
        let n: Option<i64> = self.opt_one("SELECT number FROM tickets WHERE id = ?", [id])?;
        n.ok_or_else(|| inconsistent("ticket vanished"))
    }

    /// Logs and queues `ticket:created`/`ticket:updated` for the ticket's agents.
    pub(super) fn ticket_event(
        &mut self,
        created: bool,
        id: &str,
        prev_department_id: Option<String>,
    ) -> WResult<Ticket> {
        let (ticket, _) = self.load_ticket(id)?;
        let audience = ticket_audience(&ticket, prev_department_id);
        let payload = serde_json::to_string(&ticket)?;
        let name = if created {
            shared::events::TICKET_CREATED
        } else {
            shared::events::TICKET_UPDATED
        };
        let event_id = self.event(name, &payload, &audience, None)?;
        let ev = TicketEvent {
            event_id,
            ticket: ticket.clone(),
        };
        let event = if created {
            ServerEvent::TicketCreated(ev)
        } else {
            ServerEvent::TicketUpdated(ev)
        };
        self.publish.push(Published { event, audience });
        Ok(ticket)
    }

    /// The stored entry under `client_msg_id`, if its author is `author`; `conflict`
    /// if someone else used it.
    fn existing_entry(
        &self,
        ticket_id: &str,
        client_msg_id: &str,
        author: &Author,
    ) -> WResult<Option<TicketEntry>> {
        let stored = self
            .conn
            .prepare_cached(&ENTRY_BY_CLIENT_ID)?
            .query_row([ticket_id, client_msg_id], |r| entry_row(r))
            .optional()?;
        match stored {
            Some((e, _)) if e.author.kind == author.kind && e.author.id == author.id => Ok(Some(e)),
            Some(_) => Err(ApiError::conflict(
                "client_msg_id is already used by another entry; use a new one",
            )
            .into()),
            None => Ok(None),
        }
    }

    /// Appends an entry with the next seq (and public seq for replies), logs
    /// `ticket:entry` for the ticket's agents and, for replies, for the customer.
    #[allow(clippy::too_many_arguments)]
    fn insert_entry(
        &mut self,
        core: &TicketCore,
        client_msg_id: &str,
        author: Author,
        kind: EntryKind,
        body: &str,
        attachments: Vec<Attachment>,
    ) -> WResult<TicketEntry> {
        let (seq, public): (i64, i64) = self
            .conn
            .prepare_cached("SELECT last_seq, public_seq FROM tickets WHERE id = ?")?
            .query_row([&core.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let seq = seq + 1;
        let visible = rules::visible_to_customer(kind);
        let public_seq = visible.then_some(public + 1);
        let now = now_ms();
        let id = new_id();
        self.exec(
            &format!("INSERT INTO ticket_entries ({ENTRY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            params![
                id,
                core.id,
                seq,
                public_seq,
                client_msg_id,
                author.kind.as_str(),
                author.id,
                author.name,
                kind.as_str(),
                body,
                serde_json::to_string(&attachments)?,
                now
            ],
        )?;
        self.exec(
            "UPDATE tickets SET last_seq = ?, public_seq = ?, entry_count = entry_count + 1, updated_at = ? WHERE id = ?",
            params![seq, public_seq.unwrap_or(public), now, core.id],
        )?;
        for a in &attachments {
            self.exec(
                "UPDATE attachments SET message_id = ? WHERE id = ?",
                params![id, a.id],
            )?;
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
        let mut audience = Audience {
            department_id: Some(core.department_id.clone()),
            prev_department_id: None,
            agent_id: core.assignee_id.clone(),
            broadcast: false,
            customer: None,
        };
        let cview = if core.spam {
            None
        } else {
            rules::customer_entry_view(&entry, public_seq)
        };
        let cpayload = cview.as_ref().map(serde_json::to_string).transpose()?;
        let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
        let event_id = self.event(shared::events::TICKET_ENTRY, &payload, &audience, customer)?;
        if let Some(cv) = cview {
            audience.customer = Some((
                core.customer_id.clone(),
                ServerEvent::TicketEntry(TicketEntryEvent {
                    event_id,
                    entry: cv,
                }),
            ));
        }
        self.publish.push(Published {
            event: ServerEvent::TicketEntry(TicketEntryEvent {
                event_id,
                entry: entry.clone(),
            }),
            audience,
        });
        Ok(entry)
    }

    fn event_line(&mut self, core: &TicketCore, line: &str) -> WResult<TicketEntry> {
        self.insert_entry(
            core,
            &new_id(),
            system_author(),
            EntryKind::Event,
            line,
            Vec::new(),
        )
    }

    /// Writes a decided plan: the fields, the tag index, the event lines, then
    /// `ticket:updated` (to the department it left too) and the notification.
    fn apply_plan(&mut self, actor: &Actor, plan: UpdatePlan) -> WResult<Ticket> {
        let c = &plan.core;
        self.exec(
            "UPDATE tickets SET subject = ?, status = ?, priority = ?, priority_rank = ?, department_id = ?, \
             assignee_id = ?, tags = ?, due_at = ?, spam = ?, resolution = ?, updated_at = ? WHERE id = ?",
            params![
                c.subject,
                c.status.as_str(),
                c.priority.as_str(),
                rules::priority_rank(c.priority),
                c.department_id,
                c.assignee_id,
                serde_json::to_string(&c.tags)?,
                c.due_at_ms,
                i64::from(c.spam),
                c.resolution,
                now_ms(),
                c.id
            ],
        )?;
        self.sync_tags(&c.id, &c.tags)?;
        for line in &plan.lines {
            self.event_line(c, line)?;
        }
        let ticket = self.ticket_event(false, &c.id, plan.prev_department_id.clone())?;
        if let Some(agent) = &plan.notify {
            self.notify(
                agent,
                Notification {
                    kind: "ticket_assigned".into(),
                    title: format!("{} gave you ticket {}", actor.name, ticket.label()),
                    body: ticket.subject.clone(),
                    chat_id: None,
                },
            )?;
        }
        Ok(ticket)
    }

    fn sync_tags(&self, id: &str, tags: &[String]) -> WResult<()> {
        self.exec("DELETE FROM ticket_tags WHERE ticket_id = ?", [id])?;
        for t in tags {
            self.exec(
                "INSERT OR IGNORE INTO ticket_tags (tag, ticket_id) VALUES (?, ?)",
                [t, id],
            )?;
        }
        Ok(())
    }

    fn department_name(&self, id: &str) -> WResult<String> {
        let name: Option<String> =
            self.opt_one("SELECT name FROM departments WHERE id = ?", [id])?;
        name.ok_or_else(|| ApiError::invalid(format!("no department {id:?}")).into())
    }

    fn agent_name_of(&self, id: &str) -> WResult<Option<String>> {
        self.opt_one("SELECT name FROM agents WHERE id = ?", [id])
    }

    /// May this agent hold a ticket of `department_id`? (Supervisors and admins: any.)
    fn may_hold(&self, agent_id: &str, department_id: &str) -> WResult<bool> {
        let Some(agent) = self.load_agent(agent_id)? else {
            return Ok(false);
        };
        Ok(crate::domain::actor::may_take_chat_of(
            agent.role,
            &agent.department_ids,
            department_id,
        ))
    }

    fn next_number(&self) -> WResult<i64> {
        let n: i64 = self.one("SELECT next_number FROM ticket_counter WHERE id = 1", [])?;
        self.exec(
            "UPDATE ticket_counter SET next_number = next_number + 1 WHERE id = 1",
            [],
        )?;
        Ok(n)
    }

    /// Inserts the ticket row (no entries yet) and its tag index.
    #[allow(clippy::too_many_arguments)]
    fn insert_ticket(
        &self,
        subject: &str,
        customer_id: &str,
        department_id: &str,
        priority: TicketPriority,
        assignee_id: Option<&str>,
        tags: &[String],
        due_at_ms: Option<i64>,
        source: TicketSource,
        chat_id: Option<&str>,
    ) -> WResult<TicketCore> {
        let id = new_id();
        let number = self.next_number()?;
        let now = now_ms();
        self.exec(
            "INSERT INTO tickets (id, number, subject, status, priority, priority_rank, customer_id, department_id, \
             assignee_id, tags, due_at, created_at, updated_at, source, chat_id) \
             VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                id,
                number,
                subject,
                priority.as_str(),
                rules::priority_rank(priority),
                customer_id,
                department_id,
                assignee_id,
                serde_json::to_string(tags)?,
                due_at_ms,
                now,
                now,
                source.as_str(),
                chat_id
            ],
        )?;
        self.sync_tags(&id, tags)?;
        self.ticket_core(&id)
    }

    fn notify_mentions(&mut self, actor: &Actor, core: &TicketCore, body: &str) -> WResult<()> {
        let agents: Vec<Agent> = self
            .conn
            .prepare_cached(AGENT_SELECT)?
            .query_map([], |r| agent_row(r))?
            .collect::<Result<_, _>>()?;
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
        for id in mention::notified(body, &actor.id, &team, &as_chat) {
            self.notify(
                id,
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
            )?;
        }
        Ok(())
    }
}

/// The customer named by id, or found by email (created when unknown).
fn resolve_customer(t: &mut Tx<'_>, who: &TicketCustomer) -> WResult<Customer> {
    match who {
        TicketCustomer::Id(id) => Ok(t
            .load_customer(id)?
            .ok_or_else(|| ApiError::invalid(format!("no customer {id:?}")))?),
        TicketCustomer::Email { email, name } => {
            let found: Option<String> = t.opt_one(
                "SELECT id FROM customers WHERE email = ? ORDER BY created_at LIMIT 1",
                [email],
            )?;
            if let Some(id) = found {
                return t
                    .load_customer(&id)?
                    .ok_or_else(|| inconsistent("customer vanished"));
            }
            let id = new_id();
            let display = name
                .clone()
                .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
            t.exec(
                "INSERT INTO customers (id, name, email, created_at) VALUES (?, ?, ?, ?)",
                params![id, display, email, now_ms()],
            )?;
            t.load_customer(&id)?
                .ok_or_else(|| inconsistent("customer vanished"))
        }
    }
}

fn default_department(t: &Tx<'_>, actor: &Actor) -> WResult<String> {
    if let Some(d) = actor.department_ids.first() {
        return Ok(d.clone());
    }
    let d: Option<String> = t.opt_one(
        "SELECT id FROM departments ORDER BY created_at, id LIMIT 1",
        [],
    )?;
    d.ok_or_else(|| ApiError::invalid("there is no department yet; create one first").into())
}

fn op_create_ticket(t: &mut Tx<'_>, actor: Actor, new: NewTicket) -> WResult<Ticket> {
    let customer = resolve_customer(t, &new.customer)?;
    let department_id = match &new.department_id {
        Some(d) => {
            t.department_name(d)?;
            d.clone()
        }
        None => default_department(t, &actor)?,
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
        if t.agent_name_of(a)?.is_none() {
            return Err(ApiError::invalid(format!("no agent {a:?}")).into());
        }
        if a != &actor.id && !t.may_hold(a, &department_id)? {
            return Err(ApiError::invalid(format!(
                "agent {a:?} does not work this ticket's department"
            ))
            .into());
        }
    }
    // A replay of the same creation answers the ticket it made.
    let author = if new.on_behalf {
        Author {
            kind: AuthorKind::Customer,
            id: customer.id.clone(),
            name: customer.name.clone(),
        }
    } else {
        agent_author(&actor)
    };
    let replay: Option<String> = t.opt_one(
        "SELECT e.ticket_id FROM ticket_entries e JOIN tickets k ON k.id = e.ticket_id \
         WHERE e.client_msg_id = ? AND e.seq = 1 AND e.author_id = ? AND k.customer_id = ?",
        params![new.client_msg_id, author.id, customer.id],
    )?;
    if let Some(id) = replay {
        return Ok(t.load_ticket(&id)?.0);
    }
    let core = t.insert_ticket(
        &new.subject,
        &customer.id,
        &department_id,
        new.priority,
        new.assignee_id.as_deref(),
        &new.tags,
        new.due_at_ms,
        TicketSource::Agent,
        None,
    )?;
    t.ticket_event(true, &core.id, None)?;
    t.insert_entry(
        &core,
        &new.client_msg_id,
        author,
        EntryKind::Reply,
        &new.body,
        Vec::new(),
    )?;
    if new.on_behalf {
        t.event_line(
            &core,
            &rules::created_on_behalf_line(&actor.name, &customer.name),
        )?;
    }
    if let Some(a) = &new.assignee_id
        && a != &actor.id
    {
        t.notify(
            a,
            Notification {
                kind: "ticket_assigned".into(),
                title: format!(
                    "{} gave you ticket {}",
                    actor.name,
                    rules::label(core.number)
                ),
                body: core.subject.clone(),
                chat_id: None,
            },
        )?;
    }
    t.ticket_event(false, &core.id, None)
}

fn op_ticket_action(
    t: &mut Tx<'_>,
    actor: Actor,
    id: String,
    action: TicketAction,
) -> WResult<Ticket> {
    let core = t.ticket_core(&id)?;
    rules::check_access(&actor, &core)?;
    let plan = match action {
        TicketAction::Update {
            mut changes,
            department_id,
        } => {
            if let Some(d) = department_id {
                let name = t.department_name(&d)?;
                changes.department = Some((d, name));
            }
            let mut names = HashMap::new();
            let mut holds = HashMap::new();
            if let Some(Some(a)) = &changes.assignee_id {
                let dept = changes
                    .department
                    .as_ref()
                    .map_or(core.department_id.clone(), |(d, _)| d.clone());
                if let Some(n) = t.agent_name_of(a)? {
                    names.insert(a.clone(), n);
                }
                holds.insert((a.clone(), dept.clone()), t.may_hold(a, &dept)?);
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
                    let n = t.department_name(&d)?;
                    Some((d, n))
                }
                None => None,
            };
            let agent = match to_agent_id {
                Some(a) => {
                    let n = t
                        .agent_name_of(&a)?
                        .ok_or_else(|| ApiError::invalid(format!("no agent {a:?}")))?;
                    Some((a, n))
                }
                None => None,
            };
            let target_dept = dept
                .as_ref()
                .map_or(core.department_id.clone(), |(d, _)| d.clone());
            let hold = match &agent {
                Some((a, _)) => t.may_hold(a, &target_dept)?,
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
                )?;
            }
            if agent.is_none() {
                // Nobody named: the supervisors hear of it.
                let sups: Vec<String> = t
                    .conn
                    .prepare_cached(
                        "SELECT id FROM agents WHERE role IN ('supervisor', 'admin') AND id != ? ORDER BY id",
                    )?
                    .query_map([&actor.id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
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
                    )?;
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
                t.exec(
                    "UPDATE customers SET blocked = 1 WHERE id = ?",
                    [&core.customer_id],
                )?;
                t.forget_customer(&core.customer_id);
                let customer = t
                    .load_customer(&core.customer_id)?
                    .ok_or_else(|| inconsistent("customer vanished"))?;
                let audience = Audience {
                    department_id: Some(core.department_id.clone()),
                    ..Audience::default()
                };
                let payload = serde_json::to_string(&customer)?;
                let event_id =
                    t.event(shared::events::CUSTOMER_UPDATED, &payload, &audience, None)?;
                t.publish.push(Published {
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
            let other = t.ticket_core(&other_id).map_err(|e| match e {
                Fail::Api(_) => ApiError::invalid(format!("no ticket {other_id:?} to link")).into(),
                e => e,
            })?;
            let existing: i64 = t.one(
                "SELECT COUNT(*) FROM ticket_links WHERE ticket_id = ?",
                [&id],
            )?;
            let line = rules::check_link(
                &actor,
                &core,
                &other,
                kind,
                usize::try_from(existing).unwrap_or(usize::MAX),
            )?;
            link(t, &id, &other_id, kind)?;
            let back = match kind {
                LinkKind::DuplicateOf => LinkKind::Related,
                k => k,
            };
            link(t, &other_id, &id, back)?;
            t.event_line(
                &other,
                &line.replace(&rules::label(other.number), &rules::label(core.number)),
            )?;
            t.ticket_event(false, &other_id, None)?;
            UpdatePlan {
                core: core.clone(),
                lines: vec![line],
                prev_department_id: None,
                notify: None,
            }
        }
        TicketAction::Unlink { other_id } => {
            let removed = t.exec(
                "DELETE FROM ticket_links WHERE ticket_id = ? AND other_id = ?",
                [&id, &other_id],
            )?;
            if removed == 0 {
                return Err(ApiError::not_found(format!(
                    "ticket {} is not linked to {other_id:?}",
                    rules::label(core.number)
                ))
                .into());
            }
            t.exec(
                "DELETE FROM ticket_links WHERE ticket_id = ? AND other_id = ?",
                [&other_id, &id],
            )?;
            let n = t.ticket_number(&other_id)?;
            UpdatePlan {
                core: core.clone(),
                lines: vec![format!("Unlinked {} by {}", rules::label(n), actor.name)],
                prev_department_id: None,
                notify: None,
            }
        }
    };
    t.apply_plan(&actor, plan)
}

fn link(t: &Tx<'_>, from: &str, to: &str, kind: LinkKind) -> WResult<()> {
    t.exec(
        "INSERT INTO ticket_links (ticket_id, other_id, kind, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (ticket_id, other_id) DO UPDATE SET kind = excluded.kind",
        params![from, to, kind.as_str(), now_ms()],
    )?;
    Ok(())
}

fn op_add_entry(
    t: &mut Tx<'_>,
    actor: Actor,
    id: String,
    kind: EntryKind,
    body: String,
    client_msg_id: String,
    attachment_ids: Vec<String>,
) -> WResult<(TicketEntry, bool)> {
    let core = t.ticket_core(&id)?;
    rules::check_access(&actor, &core)?;
    let author = agent_author(&actor);
    if let Some(e) = t.existing_entry(&id, &client_msg_id, &author)? {
        return Ok((e, true));
    }
    rules::agent_entry(&core, kind)?;
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        t.unsent_attachments("agent", &actor.id, &attachment_ids)?
    };
    let e = t.insert_entry(&core, &client_msg_id, author, kind, &body, attachments)?;
    if kind == EntryKind::Note && body.contains('@') {
        t.notify_mentions(&actor, &core, &body)?;
    }
    t.ticket_event(false, &id, None)?;
    Ok((e, false))
}

/// The entries of a ticket in seq order: (id, kind).
fn entry_list(t: &Tx<'_>, id: &str) -> WResult<Vec<(String, EntryKind)>> {
    Ok(t.conn
        .prepare_cached("SELECT id, kind FROM ticket_entries WHERE ticket_id = ? ORDER BY seq")?
        .query_map([id], |r| {
            let kind = EntryKind::from_str(r.str_at(1)?)
                .map_err(|_| bad::<rusqlite::Row<'_>>("entry kind"))?;
            Ok((r.get(0)?, kind))
        })?
        .collect::<Result<_, _>>()?)
}

/// Moves entries (in their order) to the end of `to`'s timeline, renumbering seq and
/// public seq; a client id the target already holds gets the source's number added.
fn move_entries(t: &Tx<'_>, ids: &[String], from_number: i64, to: &str) -> WResult<()> {
    let (mut seq, mut public): (i64, i64) = t
        .conn
        .prepare_cached("SELECT last_seq, public_seq FROM tickets WHERE id = ?")?
        .query_row([to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    for id in ids {
        let (kind, client): (String, String) = t
            .conn
            .prepare_cached("SELECT kind, client_msg_id FROM ticket_entries WHERE id = ?")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let taken: Option<String> = t.opt_one(
            "SELECT id FROM ticket_entries WHERE ticket_id = ? AND client_msg_id = ?",
            [to, &client],
        )?;
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
        t.exec(
            "UPDATE ticket_entries SET ticket_id = ?, seq = ?, public_seq = ?, client_msg_id = ? WHERE id = ?",
            params![to, seq, p, client, id],
        )?;
    }
    t.exec(
        "UPDATE tickets SET last_seq = ?, public_seq = ?, entry_count = (SELECT COUNT(*) FROM ticket_entries WHERE ticket_id = ?), updated_at = ? WHERE id = ?",
        params![seq, public, to, now_ms(), to],
    )?;
    Ok(())
}

/// Renumbers what is left of a ticket after entries moved out (seq stays increasing:
/// the remaining entries keep their order, numbered 1..n again, and last_seq too).
fn renumber(t: &Tx<'_>, id: &str) -> WResult<()> {
    let rows: Vec<(String, String)> = t
        .conn
        .prepare_cached("SELECT id, kind FROM ticket_entries WHERE ticket_id = ? ORDER BY seq")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Two passes so the UNIQUE (ticket_id, seq) never collides midway.
    t.exec(
        "UPDATE ticket_entries SET seq = -seq WHERE ticket_id = ?",
        [id],
    )?;
    let (mut seq, mut public) = (0i64, 0i64);
    for (eid, kind) in &rows {
        seq += 1;
        let p = if kind == EntryKind::Reply.as_str() {
            public += 1;
            Some(public)
        } else {
            None
        };
        t.exec(
            "UPDATE ticket_entries SET seq = ?, public_seq = ? WHERE id = ?",
            params![seq, p, eid],
        )?;
    }
    t.exec(
        "UPDATE tickets SET last_seq = ?, public_seq = ?, entry_count = ?, updated_at = ? WHERE id = ?",
        params![seq, public, seq, now_ms(), id],
    )?;
    Ok(())
}

fn op_merge(t: &mut Tx<'_>, actor: Actor, id: String, into: String) -> WResult<Ticket> {
    let source = t.ticket_core(&id)?;
    let target = t.ticket_core(&into).map_err(|e| match e {
        Fail::Api(_) => ApiError::invalid(format!("no ticket {into:?} to merge into")).into(),
        e => e,
    })?;
    let entries = entry_list(t, &id)?;
    let (on_source, on_target) = rules::check_merge(&actor, &source, &target, entries.len())?;
    let ids: Vec<String> = entries.into_iter().map(|e| e.0).collect();
    move_entries(t, &ids, source.number, &into)?;
    t.exec(
        "UPDATE tickets SET merged_into = ?, last_seq = 0, public_seq = 0, entry_count = 0, updated_at = ? WHERE id = ?",
        params![into, now_ms(), id],
    )?;
    link(t, &id, &into, LinkKind::DuplicateOf)?;
    link(t, &into, &id, LinkKind::Related)?;
    // The source keeps one line saying where its timeline went.
    let src = t.ticket_core(&id)?;
    t.event_line(&src, &on_source)?;
    t.ticket_event(false, &id, None)?;
    t.event_line(&target, &on_target)?;
    t.ticket_event(false, &into, None)
}

fn op_split(
    t: &mut Tx<'_>,
    actor: Actor,
    id: String,
    entry_ids: Vec<String>,
    subject: String,
) -> WResult<Ticket> {
    let core = t.ticket_core(&id)?;
    let entries = entry_list(t, &id)?;
    rules::check_split(&actor, &core, &entry_ids, &entries)?;
    // In the source's order, whatever order they were named in.
    let chosen: Vec<String> = entries
        .iter()
        .filter(|e| entry_ids.contains(&e.0))
        .map(|e| e.0.clone())
        .collect();
    let new = t.insert_ticket(
        &subject,
        &core.customer_id,
        &core.department_id,
        core.priority,
        core.assignee_id.as_deref(),
        &core.tags,
        core.due_at_ms,
        TicketSource::Agent,
        None,
    )?;
    t.ticket_event(true, &new.id, None)?;
    move_entries(t, &chosen, core.number, &new.id)?;
    renumber(t, &id)?;
    link(t, &new.id, &id, LinkKind::SplitFrom)?;
    link(t, &id, &new.id, LinkKind::Related)?;
    t.event_line(
        &new,
        &rules::split_line_new(core.number, chosen.len(), &actor),
    )?;
    t.event_line(
        &core,
        &rules::split_line_source(new.number, chosen.len(), &actor),
    )?;
    t.ticket_event(false, &id, None)?;
    t.ticket_event(false, &new.id, None)
}

fn op_clone(t: &mut Tx<'_>, actor: Actor, id: String) -> WResult<Ticket> {
    let core = t.ticket_core(&id)?;
    rules::check_access(&actor, &core)?;
    let first: Option<String> = t.opt_one(
        "SELECT body FROM ticket_entries WHERE ticket_id = ? AND kind = 'reply' ORDER BY seq LIMIT 1",
        [&id],
    )?;
    let new = t.insert_ticket(
        &core.subject,
        &core.customer_id,
        &core.department_id,
        core.priority,
        None,
        &core.tags,
        core.due_at_ms,
        TicketSource::Agent,
        None,
    )?;
    t.ticket_event(true, &new.id, None)?;
    if let Some(body) = first {
        t.insert_entry(
            &new,
            &new_id(),
            agent_author(&actor),
            EntryKind::Note,
            &body,
            Vec::new(),
        )?;
    }
    t.event_line(&new, &rules::cloned_line(core.number, &actor))?;
    link(t, &new.id, &id, LinkKind::Related)?;
    link(t, &id, &new.id, LinkKind::Related)?;
    t.ticket_event(false, &id, None)?;
    t.ticket_event(false, &new.id, None)
}

fn op_customer_entry(
    t: &mut Tx<'_>,
    customer_id: String,
    id: String,
    body: String,
    client_msg_id: String,
) -> WResult<(TicketEntry, bool)> {
    let hidden = || ApiError::not_found(format!("no request {id:?}"));
    let core = match t.ticket_core(&id) {
        Ok(c) if rules::customer_may_see(&customer_id, &c) => c,
        Ok(_) | Err(Fail::Api(_)) => return Err(hidden().into()),
        Err(e) => return Err(e),
    };
    let (name, blocked) = t.customer_brief(&customer_id)?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name,
    };
    if let Some(e) = t.existing_entry(&id, &client_msg_id, &author)? {
        let (row, public) = t
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLS} FROM ticket_entries WHERE id = ?"
            ))?
            .query_row([&e.id], |r| entry_row(r))?;
        let view = rules::customer_entry_view(&row, public)
            .ok_or_else(|| inconsistent("customer entry not visible"))?;
        return Ok((view, true));
    }
    let reopen = rules::customer_entry(&core, blocked)?;
    let entry = t.insert_entry(
        &core,
        &client_msg_id,
        author,
        EntryKind::Reply,
        &body,
        Vec::new(),
    )?;
    if let Some(status) = reopen {
        let mut next = core.clone();
        next.status = status;
        next.resolution = None;
        t.exec(
            "UPDATE tickets SET status = ?, resolution = NULL WHERE id = ?",
            [status.as_str(), &id],
        )?;
        t.event_line(
            &next,
            &format!("Status: {} → {status} (the customer answered)", core.status),
        )?;
    }
    t.ticket_event(false, &id, None)?;
    let public: Option<i64> = t.opt_one(
        "SELECT public_seq FROM ticket_entries WHERE id = ?",
        [&entry.id],
    )?;
    let view = rules::customer_entry_view(&entry, public)
        .ok_or_else(|| inconsistent("customer entry not visible"))?;
    Ok((view, false))
}

fn op_customer_create(
    t: &mut Tx<'_>,
    customer_id: String,
    subject: String,
    body: String,
    email: String,
    name: Option<String>,
    client_msg_id: String,
) -> WResult<Ticket> {
    let (_, blocked) = t.customer_brief(&customer_id)?;
    if blocked {
        return Err(ApiError::forbidden("you have been blocked from writing").into());
    }
    let replay: Option<String> = t.opt_one(
        "SELECT e.ticket_id FROM ticket_entries e WHERE e.client_msg_id = ? AND e.seq = 1 \
         AND e.author_kind = 'customer' AND e.author_id = ?",
        [&client_msg_id, &customer_id],
    )?;
    if let Some(id) = replay {
        let (tk, public) = t.load_ticket(&id)?;
        return Ok(rules::customer_ticket(&tk, public));
    }
    t.exec(
        "UPDATE customers SET email = ?, name = COALESCE(?, name) WHERE id = ?",
        params![email, name, customer_id],
    )?;
    t.forget_customer(&customer_id);
    let dept: Option<String> = t.opt_one(
        "SELECT id FROM departments ORDER BY created_at, id LIMIT 1",
        [],
    )?;
    let dept = dept.ok_or_else(|| {
        ApiError::new(
            shared::ErrorCode::Unavailable,
            "no department takes requests yet",
        )
    })?;
    let core = t.insert_ticket(
        &subject,
        &customer_id,
        &dept,
        TicketPriority::Medium,
        None,
        &[],
        None,
        TicketSource::Widget,
        None,
    )?;
    t.ticket_event(true, &core.id, None)?;
    let (cname, _) = t.customer_brief(&customer_id)?;
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
    )?;
    let tk = t.ticket_event(false, &core.id, None)?;
    let public: i64 = t.one("SELECT public_seq FROM tickets WHERE id = ?", [&core.id])?;
    Ok(rules::customer_ticket(&tk, public))
}

fn op_chat_to_ticket(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    subject: Option<String>,
    priority: Option<TicketPriority>,
) -> WResult<Ticket> {
    let core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let existing: Option<i64> = t.opt_one(
        "SELECT number FROM tickets WHERE chat_id = ? ORDER BY created_at LIMIT 1",
        [&chat_id],
    )?;
    rules::check_convert(existing)?;
    let messages: Vec<Message> = t
        .conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? ORDER BY seq"
        ))?
        .query_map([&chat_id], |r| message_row(r))?
        .collect::<Result<_, _>>()?;
    let (customer_name, _) = t.customer_brief(&core.customer_id)?;
    let first = messages
        .iter()
        .find(|m| m.author.kind == AuthorKind::Customer && m.kind == MessageKind::Text)
        .map(|m| m.body.as_str());
    let subject = rules::chat_subject(subject.as_deref(), first, &customer_name);
    let new = t.insert_ticket(
        &subject,
        &core.customer_id,
        &core.department_id,
        priority.unwrap_or(TicketPriority::Medium),
        core.assignee_id.as_deref(),
        &core.tags,
        None,
        TicketSource::Chat,
        Some(&chat_id),
    )?;
    // The transcript as it was, in order, without a push per line.
    let (mut seq, mut public) = (0i64, 0i64);
    for m in &messages {
        let kind = rules::entry_kind_of(m.kind);
        seq += 1;
        let p = rules::visible_to_customer(kind).then(|| {
            public += 1;
            public
        });
        t.exec(
            &format!("INSERT INTO ticket_entries ({ENTRY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            params![
                new_id(),
                new.id,
                seq,
                p,
                format!("chat-{}", m.seq),
                m.author.kind.as_str(),
                m.author.id,
                m.author.name,
                kind.as_str(),
                m.body,
                serde_json::to_string(&m.attachments)?,
                (m.created_at.unix_timestamp_nanos() / 1_000_000) as i64
            ],
        )?;
    }
    t.exec(
        "UPDATE tickets SET last_seq = ?, public_seq = ?, entry_count = ? WHERE id = ?",
        params![seq, public, seq, new.id],
    )?;
    t.ticket_event(true, &new.id, None)?;
    t.event_line(&new, &rules::converted_line(&actor))?;
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, None, false)?;
    t.ticket_event(false, &new.id, None)
}

#[async_trait]
impl TicketStore for SqliteStore {
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
        run_op!(self, op_chat_to_ticket(a, c, s, priority))
    }

    async fn tickets(&self, viewer: &Actor, f: &TicketFilter) -> StoreResult<Page<Ticket>> {
        use rusqlite::types::Value as V;
        // The filters, without who may see what.
        let mut w = String::new();
        let mut args: Vec<V> = Vec::new();
        if !f.statuses.is_empty() {
            let marks = vec!["?"; f.statuses.len()].join(", ");
            w.push_str(&format!(" AND t.status IN ({marks})"));
            args.extend(f.statuses.iter().map(|s| V::Text(s.as_str().into())));
        }
        if !f.priorities.is_empty() {
            let marks = vec!["?"; f.priorities.len()].join(", ");
            w.push_str(&format!(" AND t.priority_rank IN ({marks})"));
            args.extend(
                f.priorities
                    .iter()
                    .map(|p| V::Integer(rules::priority_rank(*p))),
            );
        }
        if let Some(p) = f.priority_min {
            w.push_str(" AND t.priority_rank >= ?");
            args.push(V::Integer(rules::priority_rank(p)));
        }
        if let Some(d) = &f.department_id {
            w.push_str(" AND t.department_id = ?");
            args.push(V::Text(d.clone()));
        }
        match &f.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => w.push_str(" AND t.assignee_id IS NULL"),
            AssigneeFilter::Agent(a) => {
                w.push_str(" AND t.assignee_id = ?");
                args.push(V::Text(a.clone()));
            }
        }
        if let Some(tag) = &f.tag {
            w.push_str(" AND t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?)");
            args.push(V::Text(tag.clone()));
        }
        if let Some(c) = &f.customer_id {
            w.push_str(" AND t.customer_id = ?");
            args.push(V::Text(c.clone()));
        }
        match f.spam {
            SpamFilter::Hide => w.push_str(" AND t.spam = 0"),
            SpamFilter::Only => w.push_str(" AND t.spam = 1"),
            SpamFilter::Any => {}
        }
        if !f.include_merged {
            w.push_str(" AND t.merged_into IS NULL");
        }
        let mut join = "";
        let by_number =
            f.q.as_deref()
                .filter(|q| q.trim_start().starts_with('#'))
                .and_then(rules::number_in_query);
        if let Some(n) = by_number {
            // `#1042` names a ticket by its number only.
            w.push_str(" AND t.number = ?");
            args.push(V::Integer(n));
        } else if let Some(q) = &f.q {
            join = " CROSS JOIN customers cu ON cu.id = t.customer_id";
            let p = like_pattern(q);
            w.push_str(
                " AND (t.number = ? OR t.subject LIKE ? ESCAPE '\\' OR cu.name LIKE ? ESCAPE '\\' \
                 OR cu.email LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM ticket_entries e \
                 WHERE e.ticket_id = t.id AND e.body LIKE ? ESCAPE '\\'))",
            );
            args.push(V::Integer(rules::number_in_query(q).unwrap_or(-1)));
            for _ in 0..4 {
                args.push(V::Text(p.clone()));
            }
        }
        // Who may see what: an agent's departments (as loaded for this request) and
        // what is assigned to them.
        let visible = match viewer.chat_scope() {
            ChatScope::All => None,
            ChatScope::Visible {
                agent_id,
                department_ids,
            } => Some((agent_id, department_ids)),
        };
        let dept_marks = |n: usize| vec!["?"; n.max(1)].join(", ");
        let (count_sql, count_args, scope_sql, scope_args) = match &visible {
            None => (
                format!("SELECT COUNT(*) FROM tickets t{join} WHERE 1=1{w}"),
                args.clone(),
                String::new(),
                Vec::new(),
            ),
            Some((agent, depts)) => {
                let marks = dept_marks(depts.len());
                let mut dept_vals: Vec<V> = depts.iter().map(|d| V::Text(d.clone())).collect();
                if dept_vals.is_empty() {
                    // No department: a value no department id has.
                    dept_vals.push(V::Text(String::new()));
                }
                // Counted in two disjoint parts, each served by an index range: the
                // departments' tickets, and the agent's own outside them.
                let count = format!(
                    "SELECT (SELECT COUNT(*) FROM tickets t{join} WHERE t.department_id IN ({marks}){w}) + \
                     (SELECT COUNT(*) FROM tickets t{join} WHERE t.assignee_id = ? AND t.department_id NOT IN ({marks}){w})"
                );
                let mut cargs = dept_vals.clone();
                cargs.extend(args.iter().cloned());
                cargs.push(V::Text(agent.clone()));
                cargs.extend(dept_vals.iter().cloned());
                cargs.extend(args.iter().cloned());
                let mut sargs = vec![V::Text(agent.clone())];
                sargs.extend(dept_vals);
                (
                    count,
                    cargs,
                    format!(" AND (t.assignee_id = ? OR t.department_id IN ({marks}))"),
                    sargs,
                )
            }
        };
        let order = match f.sort {
            TicketSort::Newest => " ORDER BY t.created_at DESC, t.id DESC",
            TicketSort::Oldest => " ORDER BY t.created_at ASC, t.id ASC",
            TicketSort::Priority => " ORDER BY t.priority_rank DESC, t.updated_at DESC, t.id DESC",
            TicketSort::Due => " ORDER BY t.due_at IS NULL, t.due_at ASC, t.id ASC",
            TicketSort::Updated => " ORDER BY t.updated_at DESC, t.id DESC",
        };
        let mut cq = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for a in &count_args {
            cq = bind_value(cq, a);
        }
        let total = cq.fetch_one(&self.read).await.map_err(read_failed)?;
        // The page's row ids from the indexes first, then their rows.
        let sql = format!(
            "{TICKET_SELECT} WHERE t.rowid IN (SELECT t.rowid FROM tickets t{join} WHERE 1=1{scope_sql}{w}{order} LIMIT ? OFFSET ?){order}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in scope_args.iter().chain(args.iter()) {
            q = bind_value_q(q, a);
        }
        let offset = i64::from(f.page - 1) * i64::from(f.per_page);
        let rows = q
            .bind(i64::from(f.per_page))
            .bind(offset)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        let items = rows
            .iter()
            .map(|r| ticket_row(r).map(|(t, _)| t))
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn ticket(&self, id: &str) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query(AssertSqlSafe(TICKET_BY_ID.as_str()))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
        row.as_ref()
            .map(|r| ticket_row(r).map(|(t, _)| t))
            .transpose()
            .map_err(read_failed)
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
                "SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = ? AND seq > ? ORDER BY seq LIMIT ?"
            ),
            EntryView::Customer => format!(
                "SELECT {ENTRY_COLS} FROM ticket_entries WHERE ticket_id = ? AND public_seq > ? \
                 AND kind = 'reply' ORDER BY public_seq LIMIT ?"
            ),
        };
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ticket_id)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (e, public) = entry_row(r).map_err(read_failed)?;
            match view {
                EntryView::Agent => out.push(e),
                EntryView::Customer => {
                    if let Some(c) = rules::customer_entry_view(&e, public) {
                        out.push(c);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn create_ticket(&self, actor: &Actor, new: NewTicket) -> StoreResult<Ticket> {
        let a = actor.clone();
        run_op!(self, op_create_ticket(a, new))
    }

    async fn ticket_action(
        &self,
        actor: &Actor,
        ticket_id: &str,
        action: TicketAction,
    ) -> StoreResult<Ticket> {
        let (a, id) = (actor.clone(), ticket_id.to_owned());
        run_op!(self, op_ticket_action(a, id, action))
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
        run_op!(self, op_add_entry(a, id, kind, b, m, files))
    }

    async fn merge_ticket(
        &self,
        actor: &Actor,
        ticket_id: &str,
        into: &str,
    ) -> StoreResult<Ticket> {
        let (a, id, into) = (actor.clone(), ticket_id.to_owned(), into.to_owned());
        run_op!(self, op_merge(a, id, into))
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
        run_op!(self, op_split(a, id, e, s))
    }

    async fn clone_ticket(&self, actor: &Actor, ticket_id: &str) -> StoreResult<Ticket> {
        let (a, id) = (actor.clone(), ticket_id.to_owned());
        run_op!(self, op_clone(a, id))
    }

    async fn customer_tickets(&self, customer_id: &str) -> StoreResult<Vec<Ticket>> {
        let sql = format!(
            "{TICKET_SELECT} WHERE t.customer_id = ? AND t.spam = 0 AND t.merged_into IS NULL \
             ORDER BY t.created_at DESC LIMIT 100"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(customer_id)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        rows.iter()
            .map(|r| ticket_row(r).map(|(t, p)| rules::customer_ticket(&t, p)))
            .collect::<Result<_, _>>()
            .map_err(read_failed)
    }

    async fn tickets_of_customer(&self, customer_id: &str) -> StoreResult<Vec<Ticket>> {
        let sql =
            format!("{TICKET_SELECT} WHERE t.customer_id = ? ORDER BY t.created_at DESC LIMIT 100");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(customer_id)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        rows.iter()
            .map(|r| ticket_row(r).map(|(t, _)| t))
            .collect::<Result<_, _>>()
            .map_err(read_failed)
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
        run_op!(self, op_customer_entry(c, id, b, m))
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
        run_op!(self, op_customer_create(c, s, b, e, n, m))
    }
}

type ScalarQ<'q> = sqlx::query::QueryScalar<'q, sqlx::Sqlite, i64, sqlx::sqlite::SqliteArguments>;
type RowQ<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_value<'q>(q: ScalarQ<'q>, v: &rusqlite::types::Value) -> ScalarQ<'q> {
    match v {
        rusqlite::types::Value::Integer(i) => q.bind(*i),
        rusqlite::types::Value::Text(s) => q.bind(s.clone()),
        _ => q.bind(None::<String>),
    }
}

fn bind_value_q<'q>(q: RowQ<'q>, v: &rusqlite::types::Value) -> RowQ<'q> {
    match v {
        rusqlite::types::Value::Integer(i) => q.bind(*i),
        rusqlite::types::Value::Text(s) => q.bind(s.clone()),
        _ => q.bind(None::<String>),
    }
}
