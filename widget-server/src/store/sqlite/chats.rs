//! Chats: the queue and a chat's reads, and the chat actions (claim, transfer,
//! close, reopen, tag).

use super::*;

pub(super) fn op_claim(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let line = match chat::claim(&actor, &core)? {
        chat::Claim::AlreadyYours => return t.reload_chat(&chat_id),
        chat::Claim::HeldByAnother => {
            let who: Option<String> = t.opt_one(
                "SELECT a.name FROM chats c JOIN agents a ON a.id = c.assignee_id WHERE c.id = ?",
                [&chat_id],
            )?;
            return Err(chat::claim_conflict(who).into());
        }
        chat::Claim::Take { line } => line,
    };
    t.exec(
        "UPDATE chats SET status = 'active', assignee_id = ? WHERE id = ?",
        [&actor.id, &chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line)
}

/// After a chat changes hands or state: the system line ("Ada joined the chat") in the
/// history, then the updated chat to everyone who follows it, the visitor included.
pub(super) fn announce(
    t: &mut Tx<'_>,
    chat_id: &str,
    core: &mut ChatCore,
    line: String,
) -> WResult<Chat> {
    t.system_message(chat_id, core, line)?;
    let chat = t.reload_chat(chat_id)?;
    t.chat_event(false, &chat, None, true)?;
    Ok(chat)
}

pub(super) fn op_transfer(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    to_agent_id: Option<String>,
    to_department_id: Option<String>,
    note: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let holder = t.assignee_name(&core)?;
    chat::check_transferable(&actor, &core, holder.as_deref())?;
    let department = match &to_department_id {
        Some(d) => {
            let name: Option<String> =
                t.opt_one("SELECT name FROM departments WHERE id = ?", [d])?;
            let name = name.ok_or_else(|| ApiError::invalid(format!("no department {d:?}")))?;
            Some((d.clone(), name))
        }
        None => None,
    };
    let agent = match &to_agent_id {
        Some(a) => Some(
            t.load_agent(a)?
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
    t.exec(
        "UPDATE chats SET department_id = ?, assignee_id = ?, status = ?, \
         waiting_since = CASE WHEN ? = 'waiting' THEN ? ELSE waiting_since END WHERE id = ?",
        params![
            plan.department_id,
            plan.assignee_id.as_deref(),
            plan.status.as_str(),
            plan.status.as_str(),
            now_ms(),
            chat_id
        ],
    )?;
    t.forget_chat(&chat_id);
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
        )?;
    }
    t.system_message(&chat_id, &mut core, plan.line)?;
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, plan.prev_department_id, true)?;
    if let Some(a) = &plan.notify {
        t.notify(
            a,
            chat::transfer_notification(&actor, &chat.customer.name, &chat_id),
        )?;
    }
    Ok(chat)
}

pub(super) fn op_close(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    resolution: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let holder = t.assignee_name(&core)?;
    let line = chat::close(&actor, &core, holder.as_deref())?;
    t.exec(
        "UPDATE chats SET status = 'closed', closed_at = ?, resolution = ? WHERE id = ?",
        params![now_ms(), resolution.as_deref(), chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Closed;
    announce(t, &chat_id, &mut core, line)
}

pub(super) fn op_reopen(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    if core.status != ChatStatus::Closed {
        return Err(ApiError::conflict("chat is not closed").into());
    }
    let other_open: Option<String> = t.opt_one(
        "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' AND id != ? LIMIT 1",
        [&core.customer_id, &chat_id],
    )?;
    let line = chat::reopen(&actor, &core, other_open.as_deref())?;
    t.exec(
        "UPDATE chats SET status = 'active', assignee_id = ?, closed_at = NULL, resolution = NULL WHERE id = ?",
        [&actor.id, &chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line)
}

pub(super) fn op_tag(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> WResult<Chat> {
    let core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let Some(tags) = chat::retag(&core, &add, &remove)? else {
        return t.reload_chat(&chat_id);
    };
    t.exec(
        "UPDATE chats SET tags = ? WHERE id = ?",
        [serde_json::to_string(&tags)?, chat_id.clone()],
    )?;
    t.forget_chat(&chat_id);
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, None, false)?;
    Ok(chat)
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn chats(&self, viewer: &Actor, f: &ChatFilter) -> StoreResult<Page<Chat>> {
        let mut where_sql = String::from(" WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        if let ChatScope::Visible { agent_id, .. } = viewer.chat_scope() {
            // The departments come from the table, so a change of membership applies at once.
            where_sql.push_str(
                " AND (c.assignee_id = ? OR c.department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?))",
            );
            args.push(agent_id.clone());
            args.push(agent_id);
        }
        if let Some(s) = f.status {
            where_sql.push_str(" AND c.status = ?");
            args.push(s.as_str().to_owned());
        }
        if let Some(d) = &f.department_id {
            where_sql.push_str(" AND c.department_id = ?");
            args.push(d.clone());
        }
        if let Some(a) = &f.assignee_id {
            where_sql.push_str(" AND c.assignee_id = ?");
            args.push(a.clone());
        }
        if let Some(cu) = &f.customer_id {
            where_sql.push_str(" AND c.customer_id = ?");
            args.push(cu.clone());
        }
        if let Some(q) = &f.q {
            where_sql.push_str(" AND (cu.name LIKE ? ESCAPE '\\' OR cu.email LIKE ? ESCAPE '\\')");
            let p = like_pattern(q);
            args.push(p.clone());
            args.push(p);
        }
        let order = match f.sort {
            ChatSort::Newest => " ORDER BY c.last_message_at DESC, c.id DESC",
            ChatSort::Oldest => " ORDER BY c.created_at ASC, c.id ASC",
            ChatSort::Wait => {
                " ORDER BY CASE c.status WHEN 'waiting' THEN 0 ELSE 1 END, c.waiting_since ASC, c.id ASC"
            }
        };
        let count_sql = format!(
            "SELECT COUNT(*) FROM chats c JOIN customers cu ON cu.id = c.customer_id{where_sql}"
        );
        let mut count_q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for a in &args {
            count_q = count_q.bind(a);
        }
        let total = count_q.fetch_one(&self.read).await.map_err(read_failed)?;
        let sql = format!("{CHAT_SELECT}{where_sql}{order} LIMIT ? OFFSET ?");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
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
            .map(chat_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn chat(&self, id: &str) -> StoreResult<Option<Chat>> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        load_chat(&mut conn, id).await.map_err(read_failed)
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
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND seq < ?{notes} ORDER BY seq DESC LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(chat_id)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        let mut items: Vec<Message> = rows
            .iter()
            .map(message_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        items.reverse();
        Ok(items)
    }

    async fn visitor_numbers(&self, chat_id: &str) -> StoreResult<VisitorNumbers> {
        let row = sqlx::query(VISITOR_NUMBERS_SQL)
            .bind(chat_id)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?
            .ok_or_else(|| ApiError::not_found(format!("no chat {chat_id:?}")))?;
        let get = |i: usize| row.try_get::<i64, _>(i).map_err(read_failed);
        Ok(VisitorNumbers {
            last_seq: get(0)?,
            agent_read_seq: get(1)?,
            customer_read_seq: get(2)?,
        })
    }

    async fn visitor_messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND customer_seq < ? \
             AND kind != 'note' ORDER BY customer_seq DESC LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(chat_id)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        let mut items: Vec<Message> = rows
            .iter()
            .map(visitor_message_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
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
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        let id = match customer_chat_id(&mut conn, customer_id, chat_id).await {
            Ok(id) => id,
            Err(Fail::Api(e)) => return Err(e),
            Err(Fail::Db(e)) => return Err(read_failed(e)),
        };
        load_chat(&mut conn, &id)
            .await
            .map_err(read_failed)?
            .ok_or_else(|| ApiError::not_found("no such chat"))
    }

    async fn customer_chat_any(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> StoreResult<Chat> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        let id: Option<String> = match chat_id {
            Some(id) => sqlx::query_scalar("SELECT id FROM chats WHERE id = ? AND customer_id = ?")
                .bind(id)
                .bind(customer_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(read_failed)?,
            None => sqlx::query_scalar(
                "SELECT id FROM chats WHERE customer_id = ? ORDER BY (status != 'closed') DESC, created_at DESC LIMIT 1",
            )
            .bind(customer_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(read_failed)?,
        };
        let id = id.ok_or_else(|| ApiError::not_found("no such chat"))?;
        load_chat(&mut conn, &id)
            .await
            .map_err(read_failed)?
            .ok_or_else(|| ApiError::not_found("no such chat"))
    }
}
