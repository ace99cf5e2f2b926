//! Row decoding, the column lists, and the lookups both the reader pool and the
//! writer's transaction run.
//!
//! Text is ordered `COLLATE "C"` wherever an answer's order depends on it: byte
//! order, as SQLite compares, whatever collation the database was created with.

use std::str::FromStr;
use std::sync::LazyLock;

use shared::ApiError;
use shared::model::{
    Agent, AgentStatus, Attachment, Author, AuthorKind, Chat, ChatStatus, Customer, Department,
    Message, MessageKind, Rating, Role,
};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

use crate::store::ts;

pub(super) const CHAT_SELECT: &str = "SELECT c.id, c.status, c.department_id, c.assignee_id, a.name, c.tags, \
    c.created_at, c.last_message_at, c.unread_count, c.rating_score, c.rating_comment, \
    c.last_seq, c.customer_read_seq, c.agent_read_seq, c.closed_at, c.resolution, \
    CASE WHEN c.status = 'waiting' THEN (SELECT COUNT(*) FROM chats w WHERE w.status = 'waiting' \
      AND w.department_id = c.department_id AND w.waiting_since < c.waiting_since) + 1 END, \
    cu.id, cu.name, cu.email, cu.phone, cu.location, cu.tags, cu.custom_fields, cu.blocked, cu.created_at, \
    m.id, m.seq, m.client_msg_id, m.author_kind, m.author_id, m.author_name, m.kind, m.body, m.attachments, m.created_at, \
    (SELECT tk.id FROM tickets tk WHERE tk.chat_id = c.id ORDER BY tk.created_at LIMIT 1) \
    FROM chats c JOIN customers cu ON cu.id = c.customer_id \
    LEFT JOIN agents a ON a.id = c.assignee_id \
    LEFT JOIN messages m ON m.id = c.last_message_id";

pub(super) const CUSTOMER_COLS: &str =
    "id, name, email, phone, location, tags, custom_fields, blocked, created_at";

pub(super) const MESSAGE_COLS: &str = "id, seq, client_msg_id, author_kind, author_id, author_name, kind, body, attachments, created_at, chat_id";

pub(super) const AGENT_SELECT: &str = "SELECT a.id, a.name, a.email, a.role, a.status, a.max_chats, \
    ARRAY(SELECT department_id FROM agent_departments d WHERE d.agent_id = a.id), \
    (SELECT COUNT(*) FROM chats c WHERE c.assignee_id = a.id AND c.status = 'active'), \
    a.password_hash FROM agents a";

pub(super) static CHAT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{CHAT_SELECT} WHERE c.id = $1"));
pub(super) static AGENT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{AGENT_SELECT} WHERE a.id = $1"));
pub(super) static CUSTOMER_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1"));
pub(super) static MESSAGE_BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = $1 AND client_msg_id = $2")
});

/// The chat a customer names, if it is theirs.
pub(super) const CHAT_OWNER_SQL: &str = "SELECT customer_id FROM chats WHERE id = $1";
/// A customer's open chat.
pub(super) const OPEN_CHAT_SQL: &str = "SELECT id FROM chats WHERE customer_id = $1 \
    AND status != 'closed' ORDER BY created_at DESC LIMIT 1";
/// A customer's open chat, else their latest one.
pub(super) const LATEST_CHAT_SQL: &str = "SELECT id FROM chats WHERE customer_id = $1 \
    ORDER BY (status != 'closed') DESC, created_at DESC LIMIT 1";

pub(super) fn decode_err(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad {what} in store").into())
}

fn json_at<T: serde::de::DeserializeOwned>(row: &PgRow, i: usize) -> Result<T, sqlx::Error> {
    let text: &str = row.try_get(i)?;
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(format!("column {i}: {e}").into()))
}

pub(super) fn customer_at(row: &PgRow, i: usize) -> Result<Customer, sqlx::Error> {
    Ok(Customer {
        id: row.try_get(i)?,
        name: row.try_get(i + 1)?,
        email: row.try_get(i + 2)?,
        phone: row.try_get(i + 3)?,
        location: row.try_get(i + 4)?,
        tags: json_at(row, i + 5)?,
        custom_fields: json_at(row, i + 6)?,
        blocked: row.try_get(i + 7)?,
        created_at: ts(row.try_get(i + 8)?),
    })
}

pub(super) fn message_at(row: &PgRow, i: usize, chat_id: &str) -> Result<Message, sqlx::Error> {
    let author_kind = match row.try_get::<&str, _>(i + 3)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(decode_err("author kind")),
    };
    let kind = match row.try_get::<&str, _>(i + 6)? {
        "text" => MessageKind::Text,
        "note" => MessageKind::Note,
        "event" => MessageKind::Event,
        _ => return Err(decode_err("message kind")),
    };
    let attachments: Vec<Attachment> = json_at(row, i + 8)?;
    Ok(Message {
        id: row.try_get(i)?,
        chat_id: chat_id.to_owned(),
        seq: row.try_get(i + 1)?,
        client_msg_id: row.try_get(i + 2)?,
        author: Author {
            kind: author_kind,
            id: row.try_get(i + 4)?,
            name: row.try_get(i + 5)?,
        },
        kind,
        body: row.try_get(i + 7)?,
        attachments,
        created_at: ts(row.try_get(i + 9)?),
    })
}

/// A row of [`MESSAGE_COLS`].
pub(super) fn message_row(row: &PgRow) -> Result<Message, sqlx::Error> {
    let chat_id: String = row.try_get(10)?;
    message_at(row, 0, &chat_id)
}

/// A row of [`CHAT_SELECT`].
pub(super) fn chat_row(row: &PgRow) -> Result<Chat, sqlx::Error> {
    let id: String = row.try_get(0)?;
    let status = ChatStatus::from_str(row.try_get(1)?).map_err(|_| decode_err("chat status"))?;
    let rating = match row.try_get::<Option<i64>, _>(9)? {
        Some(score) => Some(Rating {
            score: u8::try_from(score).map_err(|_| decode_err("rating"))?,
            comment: row.try_get(10)?,
        }),
        None => None,
    };
    let last_message = match row.try_get::<Option<&str>, _>(26)? {
        Some(_) => Some(message_at(row, 26, &id)?),
        None => None,
    };
    Ok(Chat {
        status,
        department_id: row.try_get(2)?,
        assignee_id: row.try_get(3)?,
        assignee_name: row.try_get(4)?,
        tags: json_at(row, 5)?,
        created_at: ts(row.try_get(6)?),
        last_message_at: ts(row.try_get(7)?),
        unread_count: u32::try_from(row.try_get::<i64, _>(8)?).unwrap_or(0),
        rating,
        last_seq: row.try_get(11)?,
        customer_read_seq: row.try_get(12)?,
        agent_read_seq: row.try_get(13)?,
        closed_at: row.try_get::<Option<i64>, _>(14)?.map(ts),
        resolution: row.try_get(15)?,
        queue_position: row
            .try_get::<Option<i64>, _>(16)?
            .and_then(|p| u32::try_from(p).ok()),
        customer: customer_at(row, 17)?,
        last_message,
        ticket_id: row.try_get(36)?,
        id,
    })
}

/// A row of [`AGENT_SELECT`].
pub(super) fn agent_row(row: &PgRow) -> Result<Agent, sqlx::Error> {
    let role = Role::from_str(row.try_get(3)?).map_err(|_| decode_err("role"))?;
    let status = AgentStatus::from_str(row.try_get(4)?).map_err(|_| decode_err("status"))?;
    let mut department_ids: Vec<String> = row.try_get(6)?;
    department_ids.sort();
    Ok(Agent {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        role,
        status,
        max_chats: u32::try_from(row.try_get::<i64, _>(5)?).unwrap_or(0),
        department_ids,
        active_chats: u32::try_from(row.try_get::<i64, _>(7)?).unwrap_or(0),
    })
}

pub(super) fn department_row(row: &PgRow) -> Result<Department, sqlx::Error> {
    Ok(Department {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: ts(row.try_get(2)?),
    })
}

// Lookups by id, on a pooled connection or inside the writer's transaction.

pub(super) async fn load_chat(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Chat>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(CHAT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(chat_row).transpose()
}

pub(super) async fn load_agent(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Agent>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(AGENT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(agent_row).transpose()
}

pub(super) async fn load_customer(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Customer>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(CUSTOMER_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(|r| customer_at(r, 0)).transpose()
}

/// The chat a customer named, if it is theirs (another visitor's chat answers exactly
/// like a missing one).
pub(super) fn owned_chat(
    id: &str,
    owner: Option<String>,
    customer_id: &str,
) -> Result<String, ApiError> {
    match owner {
        Some(o) if o == customer_id => Ok(id.to_owned()),
        _ => Err(ApiError::not_found(format!("no chat {id:?}"))),
    }
}

pub(super) fn open_chat(open: Option<String>) -> Result<String, ApiError> {
    open.ok_or_else(|| ApiError::not_found("you have no open chat; start one with chat:start"))
}

/// The chat a customer means: the one named (theirs), else their open one. The outer
/// error is storage; the inner one the refusal.
pub(super) async fn customer_chat_id(
    conn: &mut PgConnection,
    customer_id: &str,
    chat_id: Option<&str>,
) -> Result<Result<String, ApiError>, sqlx::Error> {
    Ok(match chat_id {
        Some(id) => {
            let owner: Option<String> = sqlx::query_scalar(CHAT_OWNER_SQL)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            owned_chat(id, owner, customer_id)
        }
        None => {
            let open: Option<String> = sqlx::query_scalar(OPEN_CHAT_SQL)
                .bind(customer_id)
                .fetch_optional(&mut *conn)
                .await?;
            open_chat(open)
        }
    })
}
