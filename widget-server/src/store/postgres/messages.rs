//! Messages: starting a chat, sending (customer and agent), read receipts and ratings.

use shared::ApiError;
use shared::events::{ReadEvent, ServerEvent};
use shared::model::{Author, AuthorKind, Chat, Message, MessageKind, Seq};
use sqlx::AssertSqlSafe;

use super::rows::{CUSTOMER_COLS, OPEN_CHAT_SQL, customer_at};
use super::tx::{agent_author, check_access};
use super::{PgResult, Tx};
use crate::domain::audience::visitor_read_receipt;
use crate::domain::chat::{self, ChatCore};
use crate::domain::mention;
use crate::store::fail::Fail;
use crate::store::{Actor, Audience, Published, new_id, now_ms};

/// Starts (or continues) the visitor's chat; answers both as the visitor sees them.
pub(super) async fn op_start_chat(
    t: &mut Tx,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> PgResult<(Chat, Message)> {
    let (chat, m) = start_chat(
        t,
        customer_id,
        department_id,
        body,
        client_msg_id,
        name,
        email,
    )
    .await?;
    Ok((t.visitor_chat(&chat).await?, t.visitor_message(&m).await?))
}

async fn start_chat(
    t: &mut Tx,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> PgResult<(Chat, Message)> {
    // The customer's row stays locked: two nodes starting a chat for the same visitor
    // take turns, so the second one continues the chat the first one opened.
    t.lock_events().await?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1 FOR UPDATE"
    )))
    .bind(&customer_id)
    .fetch_optional(t.conn())
    .await?;
    let customer = row
        .as_ref()
        .map(|r| customer_at(r, 0))
        .transpose()?
        .ok_or_else(|| ApiError::unauthorized("unknown visitor"))?;
    if customer.blocked {
        return Err(ApiError::forbidden("you have been blocked from starting chats").into());
    }
    let dept_exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM departments WHERE id = $1")
            .bind(&department_id)
            .fetch_optional(t.conn())
            .await?;
    if dept_exists.is_none() {
        return Err(ApiError::invalid(format!("no department {department_id:?}")).into());
    }
    // An idempotent retry, or an open chat to continue.
    let open: Option<String> = sqlx::query_scalar(OPEN_CHAT_SQL)
        .bind(&customer_id)
        .fetch_optional(t.conn())
        .await?;
    if let Some(chat_id) = open {
        let mut core = t.lock_chat(&chat_id).await?;
        let author = Author {
            kind: AuthorKind::Customer,
            id: customer_id.clone(),
            name: customer.name.clone(),
        };
        if let Some(m) = t
            .existing_message(&chat_id, &client_msg_id, &author)
            .await?
        {
            let chat = t.reload_chat(&chat_id).await?;
            return Ok((chat, m));
        }
        let m = t
            .insert_message(
                &chat_id,
                &mut core,
                &client_msg_id,
                author,
                MessageKind::Text,
                &body,
            )
            .await?;
        let chat = t.reload_chat(&chat_id).await?;
        return Ok((chat, m));
    }
    let mut cname = customer.name;
    if name.is_some() || email.is_some() {
        cname = sqlx::query_scalar(
            "UPDATE customers SET name = COALESCE($1, name), email = COALESCE($2, email) \
             WHERE id = $3 RETURNING name",
        )
        .bind(name.as_deref())
        .bind(email.as_deref())
        .bind(&customer_id)
        .fetch_one(t.conn())
        .await?;
    }
    let chat_id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO chats (id, customer_id, department_id, status, created_at, \
         last_message_at, waiting_since) VALUES ($1, $2, $3, 'waiting', $4, $4, $4)",
    )
    .bind(&chat_id)
    .bind(&customer_id)
    .bind(&department_id)
    .bind(now)
    .execute(t.conn())
    .await?;
    let mut core = t.lock_chat(&chat_id).await?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name: cname,
    };
    // The chat is created first so agents hear of it before its first message.
    let pre = t.reload_chat(&chat_id).await?;
    t.chat_event(true, &pre, None, true).await?;
    let m = t
        .insert_message(
            &chat_id,
            &mut core,
            &client_msg_id,
            author,
            MessageKind::Text,
            &body,
        )
        .await?;
    let chat = t.reload_chat(&chat_id).await?;
    Ok((chat, m))
}

/// A visitor's message; answered as the visitor sees it.
pub(super) async fn op_customer_send(
    t: &mut Tx,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> PgResult<Message> {
    let m = customer_send(t, customer_id, chat_id, client_msg_id, body, attachment_ids).await?;
    t.visitor_message(&m).await
}

async fn customer_send(
    t: &mut Tx,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> PgResult<Message> {
    t.lock_events().await?;
    let chat_id = match chat_id {
        Some(id) => id,
        None => t.customer_chat_id(&customer_id, None).await?,
    };
    // Another visitor's chat answers exactly like a missing one.
    let mut core = match t.lock_chat(&chat_id).await {
        Ok(c) if c.customer_id == customer_id => c,
        Ok(_) | Err(Fail::Api(_)) => {
            return Err(ApiError::not_found(format!("no chat {chat_id:?}")).into());
        }
        Err(e) => return Err(e),
    };
    let (name, blocked) = t.customer_brief(&customer_id).await?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name,
    };
    if let Err(refusal) = chat::customer_send(&core, blocked) {
        // A retry of a message stored before the chat closed answers the original.
        if !blocked
            && let Some(m) = t
                .existing_message(&chat_id, &client_msg_id, &author)
                .await?
        {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t
            .existing_message(&chat_id, &client_msg_id, &author)
            .await?
        {
            return Ok(m);
        }
        t.unsent_attachments("customer", &customer_id, &attachment_ids)
            .await?
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
    .await
}

pub(super) async fn op_agent_send(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    client_msg_id: String,
    body: String,
    kind: MessageKind,
    attachment_ids: Vec<String>,
) -> PgResult<Message> {
    let mut core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let author = agent_author(&actor);
    if let Err(refusal) = chat::agent_send(&actor, &core, kind) {
        // A retry of a message stored before the chat changed answers the original.
        if let Some(m) = t
            .existing_message(&chat_id, &client_msg_id, &author)
            .await?
        {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let mentions = kind == MessageKind::Note && body.contains('@');
    let stored = if mentions || !attachment_ids.is_empty() {
        t.existing_message(&chat_id, &client_msg_id, &author)
            .await?
    } else {
        None
    };
    // A resend answers the stored message; its files were sent with it, and its
    // mentions were notified then.
    if let Some(m) = stored {
        return Ok(m);
    }
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        t.unsent_attachments("agent", &actor.id, &attachment_ids)
            .await?
    };
    let m = t
        .insert_message_with(
            &chat_id,
            &mut core,
            &client_msg_id,
            author,
            kind,
            &body,
            attachments,
        )
        .await?;
    // Mentions in notes notify the agents named (`@Name` or `@email`).
    if mentions {
        // Only agents who may see the chat are told.
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT a.id, a.name, a.email, a.role, \
             (SELECT string_agg(d.department_id, ',') FROM agent_departments d WHERE d.agent_id = a.id) \
             FROM agents a",
        )
        .fetch_all(t.conn())
        .await?;
        let mut agents = Vec::with_capacity(rows.len());
        for (id, name, email, role, departments) in rows {
            let role = role
                .parse::<shared::model::Role>()
                .map_err(|_| crate::store::fail::inconsistent("bad role in store"))?;
            let departments: Vec<String> = departments
                .map(|d| d.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            agents.push((id, name, email, role, departments));
        }
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
            t.notify(id, mention::notification(&actor.name, &body, &chat_id))
                .await?;
        }
    }
    Ok(m)
}

/// Logs and queues `message:read` for the chat's agents (real seq) and, with
/// `to_customer`, for its visitor (in their numbering).
async fn read_event(
    t: &mut Tx,
    core: &ChatCore,
    chat_id: &str,
    reader: Author,
    seq: Seq,
    to_customer: Option<Seq>,
) -> PgResult<()> {
    let ev = ReadEvent {
        event_id: 0,
        chat_id: chat_id.to_owned(),
        reader,
        seq,
    };
    let payload = serde_json::to_string(&ev)?;
    let mut audience = Audience::of_chat(&core.department_id, None, core.assignee_id.clone());
    let cev = to_customer.map(|seq| ReadEvent { seq, ..ev.clone() });
    let cpayload = cev.as_ref().map(serde_json::to_string).transpose()?;
    let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
    let event_id = t
        .event(shared::events::MESSAGE_READ, &payload, &audience, customer)
        .await?;
    let ev = ReadEvent { event_id, ..ev };
    if let Some(cev) = cev {
        audience.customer = Some((
            core.customer_id.clone(),
            ServerEvent::MessageRead(ReadEvent { event_id, ..cev }),
        ));
    }
    t.publish(Published {
        event: ServerEvent::MessageRead(ev),
        audience,
    });
    Ok(())
}

/// An agent read up to `seq`. The visitor hears of it in their numbering, and only
/// when that number moves (reading past a note tells them nothing).
pub(super) async fn op_agent_read(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    seq: Seq,
) -> PgResult<()> {
    let core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    chat::check_read_seq(seq, core.last_seq)?;
    let cur: Seq = sqlx::query_scalar("SELECT agent_read_seq FROM chats WHERE id = $1")
        .bind(&chat_id)
        .fetch_one(t.conn())
        .await?;
    if seq <= cur {
        return Ok(());
    }
    let before = t.customer_seq_at(&chat_id, cur).await?;
    let after = t.customer_seq_at(&chat_id, seq).await?;
    sqlx::query(
        "UPDATE chats SET agent_read_seq = $1, unread_count = (SELECT COUNT(*) FROM messages m \
         WHERE m.chat_id = chats.id AND m.seq > $1 AND m.author_kind = 'customer') \
         WHERE id = $2",
    )
    .bind(seq)
    .bind(&chat_id)
    .execute(t.conn())
    .await?;
    let to_customer = visitor_read_receipt(before, after);
    read_event(t, &core, &chat_id, agent_author(&actor), seq, to_customer).await
}

/// A visitor read up to `seq` of their numbering; agents hear of it by the chat's seq
/// of that message.
pub(super) async fn op_customer_read(
    t: &mut Tx,
    customer_id: String,
    chat_id: Option<String>,
    seq: Seq,
) -> PgResult<()> {
    t.lock_events().await?;
    let chat_id = t.customer_chat_id(&customer_id, chat_id.as_deref()).await?;
    let core = t.lock_chat(&chat_id).await?;
    let numbers = t.visitor_numbers(&chat_id).await?;
    chat::check_read_seq(seq, numbers.last_seq)?;
    let real: Seq = sqlx::query_scalar(
        "SELECT seq FROM messages WHERE chat_id = $1 AND customer_seq = $2 AND kind <> 'note'",
    )
    .bind(&chat_id)
    .bind(seq)
    .fetch_optional(t.conn())
    .await?
    .ok_or_else(|| crate::store::fail::inconsistent("a visitor number without its message"))?;
    let changed = sqlx::query(
        "UPDATE chats SET customer_read_seq = $1 WHERE id = $2 AND customer_read_seq < $1",
    )
    .bind(real)
    .bind(&chat_id)
    .execute(t.conn())
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(());
    }
    let name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(&customer_id)
        .fetch_one(t.conn())
        .await?;
    let reader = Author {
        kind: AuthorKind::Customer,
        id: customer_id,
        name,
    };
    read_event(t, &core, &chat_id, reader, real, None).await
}

pub(super) async fn op_rate(
    t: &mut Tx,
    customer_id: String,
    chat_id: Option<String>,
    score: u8,
    comment: Option<String>,
) -> PgResult<()> {
    t.lock_events().await?;
    let chat_id = match chat_id {
        Some(c) => t.customer_chat_id(&customer_id, Some(&c)).await?,
        None => {
            let last: Option<String> = sqlx::query_scalar(
                "SELECT id FROM chats WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(&customer_id)
            .fetch_optional(t.conn())
            .await?;
            last.ok_or_else(|| ApiError::not_found("you have no chat to rate"))?
        }
    };
    t.lock_chat(&chat_id).await?;
    sqlx::query("UPDATE chats SET rating_score = $1, rating_comment = $2 WHERE id = $3")
        .bind(i64::from(score))
        .bind(comment.as_deref())
        .bind(&chat_id)
        .execute(t.conn())
        .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, true).await
}
