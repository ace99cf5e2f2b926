//! Row decoding shared by both drivers (the readers' sqlx and the writer's rusqlite),
//! the column lists, and the reads on the reader pool.

use super::*;

/// Column access over a row of either driver, so the readers (sqlx) and the writer
/// (rusqlite) decode records with the same code.
pub(super) trait Cols {
    type Err;
    fn str_at(&self, i: usize) -> Result<&str, Self::Err>;
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, Self::Err>;
    fn int_at(&self, i: usize) -> Result<i64, Self::Err>;
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, Self::Err>;
    fn bad(what: String) -> Self::Err;

    fn text_at(&self, i: usize) -> Result<String, Self::Err> {
        self.str_at(i).map(str::to_owned)
    }
    fn opt_text_at(&self, i: usize) -> Result<Option<String>, Self::Err> {
        Ok(self.opt_str_at(i)?.map(str::to_owned))
    }
    fn json_at<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, Self::Err> {
        serde_json::from_str(self.str_at(i)?).map_err(|e| Self::bad(format!("column {i}: {e}")))
    }
}

impl Cols for SqliteRow {
    type Err = sqlx::Error;
    fn str_at(&self, i: usize) -> Result<&str, sqlx::Error> {
        self.try_get(i)
    }
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        self.try_get(i)
    }
    fn int_at(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.try_get(i)
    }
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(i)
    }
    fn bad(what: String) -> sqlx::Error {
        sqlx::Error::Decode(what.into())
    }
}

impl Cols for rusqlite::Row<'_> {
    type Err = rusqlite::Error;
    fn str_at(&self, i: usize) -> Result<&str, rusqlite::Error> {
        self.get_ref(i)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, rusqlite::Error> {
        self.get_ref(i)?.as_str_or_null().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    fn int_at(&self, i: usize) -> Result<i64, rusqlite::Error> {
        self.get(i)
    }
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, rusqlite::Error> {
        self.get(i)
    }
    fn bad(what: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, what.into())
    }
}

pub(super) fn bad<R: Cols>(what: &str) -> R::Err {
    R::bad(format!("bad {what} in store"))
}

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
    (SELECT group_concat(department_id) FROM agent_departments d WHERE d.agent_id = a.id), \
    (SELECT COUNT(*) FROM chats c WHERE c.assignee_id = a.id AND c.status = 'active'), \
    a.password_hash FROM agents a";

// The by-id queries both drivers run (built once: the writer's statement cache is
// keyed by the SQL text).
pub(super) static CHAT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{CHAT_SELECT} WHERE c.id = ?"));
pub(super) static AGENT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{AGENT_SELECT} WHERE a.id = ?"));
pub(super) static CUSTOMER_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = ?"));
pub(super) static MESSAGE_BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND client_msg_id = ?")
});

/// The chat a customer names, if it is theirs.
pub(super) const CHAT_OWNER_SQL: &str = "SELECT customer_id FROM chats WHERE id = ?";
/// A customer's open chat.
pub(super) const OPEN_CHAT_SQL: &str = "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' ORDER BY created_at DESC LIMIT 1";

pub(super) fn decode_err(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad {what} in store").into())
}

pub(super) fn customer_at<R: Cols>(row: &R, i: usize) -> Result<Customer, R::Err> {
    Ok(Customer {
        id: row.text_at(i)?,
        name: row.text_at(i + 1)?,
        email: row.opt_text_at(i + 2)?,
        phone: row.opt_text_at(i + 3)?,
        location: row.opt_text_at(i + 4)?,
        tags: row.json_at(i + 5)?,
        custom_fields: row.json_at(i + 6)?,
        blocked: row.int_at(i + 7)? != 0,
        created_at: ts(row.int_at(i + 8)?),
    })
}

pub(super) fn message_at<R: Cols>(row: &R, i: usize, chat_id: &str) -> Result<Message, R::Err> {
    let author_kind = match row.str_at(i + 3)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(bad::<R>("author kind")),
    };
    let kind = match row.str_at(i + 6)? {
        "text" => MessageKind::Text,
        "note" => MessageKind::Note,
        "event" => MessageKind::Event,
        _ => return Err(bad::<R>("message kind")),
    };
    let attachments: Vec<Attachment> = row.json_at(i + 8)?;
    Ok(Message {
        id: row.text_at(i)?,
        chat_id: chat_id.to_owned(),
        seq: row.int_at(i + 1)?,
        client_msg_id: row.text_at(i + 2)?,
        author: Author {
            kind: author_kind,
            id: row.text_at(i + 4)?,
            name: row.text_at(i + 5)?,
        },
        kind,
        body: row.text_at(i + 7)?,
        attachments,
        created_at: ts(row.int_at(i + 9)?),
    })
}

pub(super) fn message_row<R: Cols>(row: &R) -> Result<Message, R::Err> {
    let chat_id = row.text_at(10)?;
    message_at(row, 0, &chat_id)
}

pub(super) fn chat_row<R: Cols>(row: &R) -> Result<Chat, R::Err> {
    let id = row.text_at(0)?;
    let status = ChatStatus::from_str(row.str_at(1)?).map_err(|_| bad::<R>("chat status"))?;
    let rating = match row.opt_int_at(9)? {
        Some(score) => Some(Rating {
            score: u8::try_from(score).map_err(|_| bad::<R>("rating"))?,
            comment: row.opt_text_at(10)?,
        }),
        None => None,
    };
    let last_message = match row.opt_str_at(26)? {
        Some(_) => Some(message_at(row, 26, &id)?),
        None => None,
    };
    Ok(Chat {
        status,
        department_id: row.text_at(2)?,
        assignee_id: row.opt_text_at(3)?,
        assignee_name: row.opt_text_at(4)?,
        tags: row.json_at(5)?,
        created_at: ts(row.int_at(6)?),
        last_message_at: ts(row.int_at(7)?),
        unread_count: u32::try_from(row.int_at(8)?).unwrap_or(0),
        rating,
        last_seq: row.int_at(11)?,
        customer_read_seq: row.int_at(12)?,
        agent_read_seq: row.int_at(13)?,
        closed_at: row.opt_int_at(14)?.map(ts),
        resolution: row.opt_text_at(15)?,
        queue_position: row.opt_int_at(16)?.and_then(|p| u32::try_from(p).ok()),
        customer: customer_at(row, 17)?,
        last_message,
        ticket_id: row.opt_text_at(36)?,
        id,
    })
}

pub(super) fn agent_row<R: Cols>(row: &R) -> Result<Agent, R::Err> {
    let role = Role::from_str(row.str_at(3)?).map_err(|_| bad::<R>("role"))?;
    let status = AgentStatus::from_str(row.str_at(4)?).map_err(|_| bad::<R>("status"))?;
    let mut department_ids: Vec<String> = row
        .opt_str_at(6)?
        .map(|d| d.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    department_ids.sort();
    Ok(Agent {
        id: row.text_at(0)?,
        name: row.text_at(1)?,
        email: row.text_at(2)?,
        role,
        status,
        max_chats: u32::try_from(row.int_at(5)?).unwrap_or(0),
        department_ids,
        active_chats: u32::try_from(row.int_at(7)?).unwrap_or(0),
    })
}

pub(super) fn department_row<R: Cols>(row: &R) -> Result<Department, R::Err> {
    Ok(Department {
        id: row.text_at(0)?,
        name: row.text_at(1)?,
        created_at: ts(row.int_at(2)?),
    })
}

// ---------------------------------------------------------------------------
// Reads on the reader pool

pub(super) async fn load_chat(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Chat>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(CHAT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(chat_row).transpose()
}

pub(super) async fn load_agent(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Agent>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(AGENT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(agent_row).transpose()
}

pub(super) async fn load_customer(
    conn: &mut SqliteConnection,
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
pub(super) fn owned_chat(id: &str, owner: Option<String>, customer_id: &str) -> WResult<String> {
    match owner {
        Some(o) if o == customer_id => Ok(id.to_owned()),
        _ => Err(ApiError::not_found(format!("no chat {id:?}")).into()),
    }
}

pub(super) fn open_chat(open: Option<String>) -> WResult<String> {
    open.ok_or_else(|| {
        ApiError::not_found("you have no open chat; start one with chat:start").into()
    })
}

/// The chat a customer means: the one named (theirs), else their open one.
pub(super) async fn customer_chat_id(
    conn: &mut SqliteConnection,
    customer_id: &str,
    chat_id: Option<&str>,
) -> WResult<String> {
    match chat_id {
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
    }
}

// ---------------------------------------------------------------------------
// Statements and reads on the writer (inside its transaction)
