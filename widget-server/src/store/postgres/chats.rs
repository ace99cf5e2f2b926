//! Chats: the queue and a chat's reads, and the chat actions (claim, transfer,
//! close, reopen, tag).

use async_trait::async_trait;
use shared::ApiError;
use shared::model::{Chat, ChatStatus, Message, MessageKind, Page, Seq};
use sqlx::AssertSqlSafe;

use super::messages::{
    op_agent_read, op_agent_send, op_customer_read, op_customer_send, op_rate, op_start_chat,
};
use super::rows::{
    self, CHAT_SELECT, LATEST_CHAT_SQL, MESSAGE_COLS, chat_row, customer_chat_id, load_chat,
    message_row,
};
use super::tx::{agent_author, check_access};
use super::{PgResult, PgStore, Tx};
use crate::domain::ChatScope;
use crate::domain::chat::{self, ChatCore};
use crate::store::{
    Actor, ChatFilter, ChatSort, ChatStore, StoreResult, VisitorNumbers, like_pattern, new_id,
    now_ms,
};

async fn op_claim(t: &mut Tx, actor: Actor, chat_id: String) -> PgResult<Chat> {
    let mut core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let line = match chat::claim(&actor, &core)? {
        chat::Claim::AlreadyYours => return t.reload_chat(&chat_id).await,
        chat::Claim::HeldByAnother => {
            let who: Option<String> = sqlx::query_scalar(
                "SELECT a.name FROM chats c JOIN agents a ON a.id = c.assignee_id WHERE c.id = $1",
            )
            .bind(&chat_id)
            .fetch_optional(t.conn())
            .await?;
            return Err(chat::claim_conflict(who).into());
        }
        chat::Claim::Take { line } => line,
    };
    sqlx::query("UPDATE chats SET status = 'active', assignee_id = $1 WHERE id = $2")
        .bind(&actor.id)
        .bind(&chat_id)
        .execute(t.conn())
        .await?;
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line).await
}

/// After a chat changes hands or state: the system line ("Ada joined the chat") in the
/// history, then the updated chat to everyone who follows it, the visitor included.
async fn announce(t: &mut Tx, chat_id: &str, core: &mut ChatCore, line: String) -> PgResult<Chat> {
    t.system_message(chat_id, core, line).await?;
    let chat = t.reload_chat(chat_id).await?;
    t.chat_event(false, &chat, None, true).await?;
    Ok(chat)
}

async fn op_transfer(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    to_agent_id: Option<String>,
    to_department_id: Option<String>,
    note: Option<String>,
) -> PgResult<Chat> {
    let mut core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let holder = t.assignee_name(&core).await?;
    chat::check_transferable(&actor, &core, holder.as_deref())?;
    let department = match &to_department_id {
        Some(d) => {
            let name: Option<String> =
                sqlx::query_scalar("SELECT name FROM departments WHERE id = $1")
                    .bind(d)
                    .fetch_optional(t.conn())
                    .await?;
            let name = name.ok_or_else(|| ApiError::invalid(format!("no department {d:?}")))?;
            Some((d.clone(), name))
        }
        None => None,
    };
    let agent = match &to_agent_id {
        Some(a) => Some(
            t.load_agent(a)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("no agent {a:?}")))?,
        ),
        None => None,
    };
    let target = chat::TransferTarget {
        department: department
            .as_ref()
            .map(|(id, name)| (id.as_str(), name.as_str())),
        agent: agent.as_ref(),
    };
    let plan = chat::transfer(&actor, &core, holder.as_deref(), &target, note.as_deref())?;
    sqlx::query(
        "UPDATE chats SET department_id = $1, assignee_id = $2, status = $3, \
         waiting_since = CASE WHEN $3 = 'waiting' THEN $4 ELSE waiting_since END WHERE id = $5",
    )
    .bind(&plan.department_id)
    .bind(plan.assignee_id.as_deref())
    .bind(plan.status.as_str())
    .bind(now_ms())
    .bind(&chat_id)
    .execute(t.conn())
    .await?;
    core.department_id = plan.department_id.clone();
    core.assignee_id = plan.assignee_id.clone();
    core.status = plan.status;
    if let Some(n) = &plan.handoff_note {
        t.insert_message(
            &chat_id,
            &mut core,
            &new_id(),
            agent_author(&actor),
            MessageKind::Note,
            n,
        )
        .await?;
    }
    t.system_message(&chat_id, &mut core, plan.line).await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, plan.prev_department_id, true)
        .await?;
    if let Some(a) = &plan.notify {
        t.notify(
            a,
            chat::transfer_notification(&actor, &chat.customer.name, &chat_id),
        )
        .await?;
    }
    Ok(chat)
}

async fn op_close(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    resolution: Option<String>,
) -> PgResult<Chat> {
    let mut core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let holder = t.assignee_name(&core).await?;
    let line = chat::close(&actor, &core, holder.as_deref())?;
    sqlx::query(
        "UPDATE chats SET status = 'closed', closed_at = $1, resolution = $2 WHERE id = $3",
    )
    .bind(now_ms())
    .bind(resolution.as_deref())
    .bind(&chat_id)
    .execute(t.conn())
    .await?;
    core.status = ChatStatus::Closed;
    announce(t, &chat_id, &mut core, line).await
}

async fn op_reopen(t: &mut Tx, actor: Actor, chat_id: String) -> PgResult<Chat> {
    let mut core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    if core.status != ChatStatus::Closed {
        return Err(ApiError::conflict("chat is not closed").into());
    }
    let other_open: Option<String> = sqlx::query_scalar(
        "SELECT id FROM chats WHERE customer_id = $1 AND status != 'closed' AND id != $2 LIMIT 1",
    )
    .bind(&core.customer_id)
    .bind(&chat_id)
    .fetch_optional(t.conn())
    .await?;
    let line = chat::reopen(&actor, &core, other_open.as_deref())?;
    sqlx::query(
        "UPDATE chats SET status = 'active', assignee_id = $1, closed_at = NULL, \
         resolution = NULL WHERE id = $2",
    )
    .bind(&actor.id)
    .bind(&chat_id)
    .execute(t.conn())
    .await?;
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line).await
}

async fn op_tag(
    t: &mut Tx,
    actor: Actor,
    chat_id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> PgResult<Chat> {
    let core = t.lock_chat(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let Some(tags) = chat::retag(&core, &add, &remove)? else {
        return t.reload_chat(&chat_id).await;
    };
    sqlx::query("UPDATE chats SET tags = $1 WHERE id = $2")
        .bind(serde_json::to_string(&tags)?)
        .bind(&chat_id)
        .execute(t.conn())
        .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, false).await?;
    Ok(chat)
}

/// A query's text with its arguments, numbered as they are added.
struct Filter {
    sql: String,
    args: Vec<String>,
}

impl Filter {
    /// Adds an argument; answers its placeholder.
    fn arg(&mut self, v: impl Into<String>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }
}

/// The `WHERE` of a chat listing: what the viewer may see, narrowed by the filter.
fn chat_filter(viewer: &Actor, f: &ChatFilter) -> Filter {
    let mut w = Filter {
        sql: String::from(" WHERE TRUE"),
        args: Vec::new(),
    };
    if let ChatScope::Visible { agent_id, .. } = viewer.chat_scope() {
        // The departments come from the table, so a change of membership applies at once.
        let p = w.arg(agent_id);
        w.push(&format!(
            " AND (c.assignee_id = {p} OR c.department_id IN \
             (SELECT department_id FROM agent_departments WHERE agent_id = {p}))"
        ));
    }
    if let Some(s) = f.status {
        let p = w.arg(s.as_str());
        w.push(&format!(" AND c.status = {p}"));
    }
    if let Some(d) = &f.department_id {
        let p = w.arg(d.as_str());
        w.push(&format!(" AND c.department_id = {p}"));
    }
    if let Some(a) = &f.assignee_id {
        let p = w.arg(a.as_str());
        w.push(&format!(" AND c.assignee_id = {p}"));
    }
    if let Some(cu) = &f.customer_id {
        let p = w.arg(cu.as_str());
        w.push(&format!(" AND c.customer_id = {p}"));
    }
    if let Some(q) = &f.q {
        // ILIKE: case-insensitive as SQLite's LIKE is (which folds ASCII only).
        let p = w.arg(like_pattern(q));
        w.push(&format!(
            " AND (cu.name ILIKE {p} ESCAPE '\\' OR cu.email ILIKE {p} ESCAPE '\\')"
        ));
    }
    w
}

#[async_trait]
impl ChatStore for PgStore {
    async fn chats(&self, viewer: &Actor, f: &ChatFilter) -> StoreResult<Page<Chat>> {
        let w = chat_filter(viewer, f);
        let order = match f.sort {
            ChatSort::Newest => " ORDER BY c.last_message_at DESC, c.id COLLATE \"C\" DESC",
            ChatSort::Oldest => " ORDER BY c.created_at ASC, c.id COLLATE \"C\" ASC",
            ChatSort::Wait => {
                " ORDER BY CASE c.status WHEN 'waiting' THEN 0 ELSE 1 END, c.waiting_since ASC, \
                 c.id COLLATE \"C\" ASC"
            }
        };
        let count_sql = format!(
            "SELECT COUNT(*) FROM chats c JOIN customers cu ON cu.id = c.customer_id{}",
            w.sql
        );
        let n = w.args.len();
        let sql = format!(
            "{CHAT_SELECT}{}{order} LIMIT ${} OFFSET ${}",
            w.sql,
            n + 1,
            n + 2
        );
        let limit = i64::from(f.per_page);
        let offset = i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page);
        let (total, items) = self
            .read(move |c| {
                Box::pin(async move {
                    let mut count_q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
                    for a in &w.args {
                        count_q = count_q.bind(a);
                    }
                    let total = count_q.fetch_one(&mut *c).await?;
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for a in &w.args {
                        q = q.bind(a);
                    }
                    let rows = q.bind(limit).bind(offset).fetch_all(&mut *c).await?;
                    let items = rows.iter().map(chat_row).collect::<Result<Vec<_>, _>>()?;
                    Ok((total, items))
                })
            })
            .await?;
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn chat(&self, id: &str) -> StoreResult<Option<Chat>> {
        let id = id.to_owned();
        self.read(move |c| Box::pin(async move { load_chat(c, &id).await }))
            .await
    }

    async fn messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
        include_notes: bool,
    ) -> StoreResult<Vec<Message>> {
        let notes = if include_notes {
            ""
        } else {
            " AND kind != 'note'"
        };
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = $1 AND seq < $2{notes} \
             ORDER BY seq DESC LIMIT $3"
        );
        let chat_id = chat_id.to_owned();
        let mut items = self
            .read(move |c| {
                Box::pin(async move {
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(&chat_id)
                        .bind(before_seq.unwrap_or(i64::MAX))
                        .bind(i64::from(limit))
                        .fetch_all(c)
                        .await?;
                    rows.iter().map(message_row).collect::<Result<Vec<_>, _>>()
                })
            })
            .await?;
        items.reverse();
        Ok(items)
    }

    async fn visitor_numbers(&self, chat_id: &str) -> StoreResult<VisitorNumbers> {
        let id = chat_id.to_owned();
        self.read(move |c| Box::pin(async move { rows::visitor_numbers(c, &id).await }))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no chat {chat_id:?}")))
    }

    async fn visitor_messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = $1 AND customer_seq < $2 \
             AND kind <> 'note' ORDER BY customer_seq DESC LIMIT $3"
        );
        let chat_id = chat_id.to_owned();
        let mut items = self
            .read(move |c| {
                Box::pin(async move {
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(&chat_id)
                        .bind(before_seq.unwrap_or(i64::MAX))
                        .bind(i64::from(limit))
                        .fetch_all(c)
                        .await?;
                    rows.iter()
                        .map(rows::visitor_message_row)
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .await?;
        items.reverse();
        Ok(items)
    }

    async fn start_chat(
        &self,
        customer_id: &str,
        department_id: &str,
        body: &str,
        client_msg_id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<(Chat, Message)> {
        let (c, d, b, m) = (
            customer_id.to_owned(),
            department_id.to_owned(),
            body.to_owned(),
            client_msg_id.to_owned(),
        );
        let (n, e) = (name.map(str::to_owned), email.map(str::to_owned));
        run_op!(self, op_start_chat(c, d, b, m, n, e))
    }

    async fn customer_send(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        client_msg_id: &str,
        body: &str,
        attachment_ids: &[String],
    ) -> StoreResult<Message> {
        let (c, ch, m, b) = (
            customer_id.to_owned(),
            chat_id.map(str::to_owned),
            client_msg_id.to_owned(),
            body.to_owned(),
        );
        let ids = attachment_ids.to_vec();
        run_op!(self, op_customer_send(c, ch, m, b, ids))
    }

    async fn agent_send(
        &self,
        actor: &Actor,
        chat_id: &str,
        client_msg_id: &str,
        body: &str,
        kind: MessageKind,
        attachment_ids: &[String],
    ) -> StoreResult<Message> {
        let ids = attachment_ids.to_vec();
        let (a, ch, m, b) = (
            actor.clone(),
            chat_id.to_owned(),
            client_msg_id.to_owned(),
            body.to_owned(),
        );
        run_op!(self, op_agent_send(a, ch, m, b, kind, ids))
    }

    async fn claim(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_claim(a, c))
    }

    async fn transfer(
        &self,
        actor: &Actor,
        chat_id: &str,
        to_agent_id: Option<&str>,
        to_department_id: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        let (ta, td, n) = (
            to_agent_id.map(str::to_owned),
            to_department_id.map(str::to_owned),
            note.map(str::to_owned),
        );
        run_op!(self, op_transfer(a, c, ta, td, n))
    }

    async fn close(
        &self,
        actor: &Actor,
        chat_id: &str,
        resolution: Option<&str>,
    ) -> StoreResult<Chat> {
        let (a, c, r) = (
            actor.clone(),
            chat_id.to_owned(),
            resolution.map(str::to_owned),
        );
        run_op!(self, op_close(a, c, r))
    }

    async fn reopen(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_reopen(a, c))
    }

    async fn tag(
        &self,
        actor: &Actor,
        chat_id: &str,
        add: &[String],
        remove: &[String],
    ) -> StoreResult<Chat> {
        let (a, c, ad, rm) = (
            actor.clone(),
            chat_id.to_owned(),
            add.to_vec(),
            remove.to_vec(),
        );
        run_op!(self, op_tag(a, c, ad, rm))
    }

    async fn agent_read(&self, actor: &Actor, chat_id: &str, seq: Seq) -> StoreResult<()> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_agent_read(a, c, seq))
    }

    async fn customer_read(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        seq: Seq,
    ) -> StoreResult<()> {
        let (c, ch) = (customer_id.to_owned(), chat_id.map(str::to_owned));
        run_op!(self, op_customer_read(c, ch, seq))
    }

    async fn rate(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        score: u8,
        comment: Option<&str>,
    ) -> StoreResult<()> {
        let (c, ch, cm) = (
            customer_id.to_owned(),
            chat_id.map(str::to_owned),
            comment.map(str::to_owned),
        );
        run_op!(self, op_rate(c, ch, score, cm))
    }

    async fn customer_chat(&self, customer_id: &str, chat_id: Option<&str>) -> StoreResult<Chat> {
        let (customer_id, chat_id) = (customer_id.to_owned(), chat_id.map(str::to_owned));
        self.read(move |c| {
            Box::pin(async move {
                let id = match customer_chat_id(c, &customer_id, chat_id.as_deref()).await? {
                    Ok(id) => id,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                Ok(load_chat(c, &id).await?.ok_or_else(no_such_chat))
            })
        })
        .await?
    }

    async fn customer_chat_any(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> StoreResult<Chat> {
        let (customer_id, chat_id) = (customer_id.to_owned(), chat_id.map(str::to_owned));
        let found = self
            .read(move |c| {
                Box::pin(async move {
                    let id: Option<String> = match &chat_id {
                        Some(id) => {
                            sqlx::query_scalar(
                                "SELECT id FROM chats WHERE id = $1 AND customer_id = $2",
                            )
                            .bind(id)
                            .bind(&customer_id)
                            .fetch_optional(&mut *c)
                            .await?
                        }
                        None => {
                            sqlx::query_scalar(LATEST_CHAT_SQL)
                                .bind(&customer_id)
                                .fetch_optional(&mut *c)
                                .await?
                        }
                    };
                    let Some(id) = id else {
                        return Ok(None);
                    };
                    load_chat(c, &id).await
                })
            })
            .await?;
        found.ok_or_else(no_such_chat)
    }
}

fn no_such_chat() -> ApiError {
    ApiError::not_found("no such chat")
}
