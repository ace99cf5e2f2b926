//! Messages: starting a chat, sending (customer and agent), read receipts and ratings.

use super::*;

/// Starts (or continues) the visitor's chat; answers both as the visitor sees them.
pub(super) fn op_start_chat(
    t: &mut Tx<'_>,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> WResult<(Chat, Message)> {
    let (chat, m) = start_chat(
        t,
        customer_id,
        department_id,
        body,
        client_msg_id,
        name,
        email,
    )?;
    Ok((t.visitor_chat(&chat)?, t.visitor_message(&m)?))
}

fn start_chat(
    t: &mut Tx<'_>,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> WResult<(Chat, Message)> {
    let customer = t
        .load_customer(&customer_id)?
        .ok_or_else(|| ApiError::unauthorized("unknown visitor"))?;
    if customer.blocked {
        return Err(ApiError::forbidden("you have been blocked from starting chats").into());
    }
    let dept_exists: Option<String> =
        t.opt_one("SELECT id FROM departments WHERE id = ?", [&department_id])?;
    if dept_exists.is_none() {
        return Err(ApiError::invalid(format!("no department {department_id:?}")).into());
    }
    // An idempotent retry, or an open chat to continue.
    let open: Option<String> = t.opt_one(OPEN_CHAT_SQL, [&customer_id])?;
    if let Some(chat_id) = open {
        let author = Author {
            kind: AuthorKind::Customer,
            id: customer_id.clone(),
            name: customer.name.clone(),
        };
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id, &author)? {
            let chat = t.reload_chat(&chat_id)?;
            return Ok((chat, m));
        }
        let mut core = t.core(&chat_id)?;
        let m = t.insert_message(
            &chat_id,
            &mut core,
            &client_msg_id,
            author,
            MessageKind::Text,
            &body,
        )?;
        let chat = t.reload_chat(&chat_id)?;
        return Ok((chat, m));
    }
    if name.is_some() || email.is_some() {
        t.exec(
            "UPDATE customers SET name = COALESCE(?, name), email = COALESCE(?, email) WHERE id = ?",
            params![name.as_deref(), email.as_deref(), customer_id],
        )?;
        t.forget_customer(&customer_id);
    }
    let chat_id = new_id();
    let now = now_ms();
    t.exec(
        "INSERT INTO chats (id, customer_id, department_id, status, created_at, last_message_at, waiting_since) \
         VALUES (?, ?, ?, 'waiting', ?, ?, ?)",
        params![chat_id, customer_id, department_id, now, now, now],
    )?;
    let mut core = t.core(&chat_id)?;
    let cname: String = t.one("SELECT name FROM customers WHERE id = ?", [&customer_id])?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name: cname,
    };
    // The chat is created first so agents hear of it before its first message.
    let pre = t.reload_chat(&chat_id)?;
    t.chat_event(true, &pre, None, true)?;
    let m = t.insert_message(
        &chat_id,
        &mut core,
        &client_msg_id,
        author,
        MessageKind::Text,
        &body,
    )?;
    let chat = t.reload_chat(&chat_id)?;
    Ok((chat, m))
}

/// A visitor's message; answered as the visitor sees it.
pub(super) fn op_customer_send(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let m = customer_send(t, customer_id, chat_id, client_msg_id, body, attachment_ids)?;
    t.visitor_message(&m)
}

fn customer_send(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let chat_id = match chat_id {
        // Another visitor's chat answers exactly like a missing one.
        Some(id) => match t.core(&id) {
            Ok(c) if c.customer_id == customer_id => id,
            Ok(_) | Err(Fail::Api(_)) => {
                return Err(ApiError::not_found(format!("no chat {id:?}")).into());
            }
            Err(e) => return Err(e),
        },
        None => t.customer_chat_id(&customer_id, None)?,
    };
    let (name, blocked) = t.customer_brief(&customer_id)?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name,
    };
    let mut core = t.core(&chat_id)?;
    if let Err(refusal) = chat::customer_send(&core, blocked) {
        // A retry of a message stored before the chat closed answers the original.
        if !blocked && let Some(m) = t.existing_message(&chat_id, &client_msg_id, &author)? {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id, &author)? {
            return Ok(m);
        }
        t.unsent_attachments("customer", &customer_id, &attachment_ids)?
    };
    t.insert_message_with(
        &chat_id,
        &mut core,
        &client_msg_id,
        author,
        MessageKind::Text,
        &body,
        attachments,
    )
}

pub(super) fn op_agent_send(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    client_msg_id: String,
    body: String,
    kind: MessageKind,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let author = agent_author(&actor);
    let refusal = chat::agent_send(&actor, &core, kind).err();
    if let Some(refusal) = refusal {
        // A retry of a message stored before the chat changed answers the original.
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id, &author)? {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let is_new = kind != MessageKind::Note
        || !body.contains('@')
        || t.existing_message(&chat_id, &client_msg_id, &author)?
            .is_none();
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id, &author)? {
            return Ok(m);
        }
        t.unsent_attachments("agent", &actor.id, &attachment_ids)?
    };
    let m = t.insert_message_with(
        &chat_id,
        &mut core,
        &client_msg_id,
        author,
        kind,
        &body,
        attachments,
    )?;
    // Mentions in notes notify the agents named (`@Name` or `@email`) — once: a
    // resend of the same note answers the stored one without notifying again.
    // Only agents who may see the chat are told.
    if kind == MessageKind::Note && body.contains('@') && is_new {
        let agents: Vec<(String, String, String, Role, Vec<String>)> = t
            .conn
            .prepare_cached(
                "SELECT a.id, a.name, a.email, a.role, \
                 (SELECT group_concat(d.department_id) FROM agent_departments d WHERE d.agent_id = a.id) \
                 FROM agents a",
            )?
            .query_map([], |r| {
                let role = Role::from_str(r.str_at(3)?).map_err(|_| bad::<rusqlite::Row<'_>>("role"))?;
                let departments = r
                    .opt_str_at(4)?
                    .map(|d| d.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, role, departments))
            })?
            .collect::<Result<_, _>>()?;
        let team: Vec<mention::Mentionable<'_>> = agents
            .iter()
            .map(
                |(id, name, email, role, departments)| mention::Mentionable {
                    id,
                    name,
                    email,
                    role: *role,
                    department_ids: departments,
                },
            )
            .collect();
        for id in mention::notified(&body, &actor.id, &team, &core) {
            t.notify(id, mention::notification(&actor.name, &body, &chat_id))?;
        }
    }
    Ok(m)
}

/// Logs and queues `message:read` for the chat's agents (real seq) and, with
/// `to_customer`, for its visitor (in their numbering).
pub(super) fn read_event(
    t: &mut Tx<'_>,
    core: &ChatCore,
    chat_id: &str,
    reader: Author,
    seq: Seq,
    to_customer: Option<Seq>,
) -> WResult<()> {
    let ev = ReadEvent {
        event_id: 0,
        chat_id: chat_id.to_owned(),
        reader,
        seq,
    };
    let payload = serde_json::to_string(&ev)?;
    let mut audience = Audience {
        department_id: Some(core.department_id.clone()),
        agent_id: core.assignee_id.clone(),
        ..Audience::default()
    };
    let cev = to_customer.map(|seq| ReadEvent { seq, ..ev.clone() });
    let cpayload = cev.as_ref().map(serde_json::to_string).transpose()?;
    let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
    let event_id = t.event(shared::events::MESSAGE_READ, &payload, &audience, customer)?;
    let ev = ReadEvent { event_id, ..ev };
    if let Some(cev) = cev {
        audience.customer = Some((
            core.customer_id.clone(),
            ServerEvent::MessageRead(ReadEvent { event_id, ..cev }),
        ));
    }
    t.publish.push(Published {
        event: ServerEvent::MessageRead(ev),
        audience,
    });
    Ok(())
}

/// An agent read up to `seq`. The visitor hears of it in their numbering, and only
/// when that number moves (reading past a note tells them nothing).
pub(super) fn op_agent_read(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    seq: Seq,
) -> WResult<()> {
    let core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    chat::check_read_seq(seq, core.last_seq)?;
    let cur: i64 = t.one("SELECT agent_read_seq FROM chats WHERE id = ?", [&chat_id])?;
    if seq <= cur {
        return Ok(());
    }
    let before = t.customer_seq_at(&chat_id, cur)?;
    let after = t.customer_seq_at(&chat_id, seq)?;
    t.exec(
        "UPDATE chats SET agent_read_seq = ?, unread_count = (SELECT COUNT(*) FROM messages m \
         WHERE m.chat_id = chats.id AND m.seq > ? AND m.author_kind = 'customer') WHERE id = ?",
        params![seq, seq, chat_id],
    )?;
    let to_customer = visitor_read_receipt(before, after);
    read_event(t, &core, &chat_id, agent_author(&actor), seq, to_customer)
}

/// A visitor read up to `seq` of their numbering; agents hear of it by the chat's seq
/// of that message.
pub(super) fn op_customer_read(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    seq: Seq,
) -> WResult<()> {
    let chat_id = t.customer_chat_id(&customer_id, chat_id.as_deref())?;
    let core = t.core(&chat_id)?;
    let numbers = t.visitor_numbers(&chat_id)?;
    chat::check_read_seq(seq, numbers.last_seq)?;
    let real: Seq = t
        .opt_one(
            "SELECT seq FROM messages WHERE chat_id = ? AND customer_seq = ? AND kind != 'note'",
            params![chat_id, seq],
        )?
        .ok_or_else(|| inconsistent("a visitor number without its message"))?;
    let changed = t.exec(
        "UPDATE chats SET customer_read_seq = ? WHERE id = ? AND customer_read_seq < ?",
        params![real, chat_id, real],
    )?;
    if changed == 0 {
        return Ok(());
    }
    let name: String = t.one("SELECT name FROM customers WHERE id = ?", [&customer_id])?;
    let reader = Author {
        kind: AuthorKind::Customer,
        id: customer_id,
        name,
    };
    read_event(t, &core, &chat_id, reader, real, None)
}

pub(super) fn op_rate(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    score: u8,
    comment: Option<String>,
) -> WResult<()> {
    let chat_id = match chat_id {
        Some(c) => t.customer_chat_id(&customer_id, Some(&c))?,
        None => {
            let last: Option<String> = t.opt_one(
                "SELECT id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
                [&customer_id],
            )?;
            last.ok_or_else(|| ApiError::not_found("you have no chat to rate"))?
        }
    };
    t.exec(
        "UPDATE chats SET rating_score = ?, rating_comment = ? WHERE id = ?",
        params![i64::from(score), comment.as_deref(), chat_id],
    )?;
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, None, true)
}
