//! Visitors: tokens, profiles and blocking.

use super::*;

/// The columns of a [`ChatSummary`] of chat `c`.
const SUMMARY_COLS: &str = "c.id, c.status, c.department_id, c.assignee_id, c.created_at, c.last_message_at, \
    (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.kind = 'text'), c.rating_score, c.rating_comment";

fn summary_row(r: &SqliteRow) -> Result<ChatSummary, sqlx::Error> {
    Ok(ChatSummary {
        id: r.try_get(0)?,
        status: ChatStatus::from_str(r.try_get(1)?).map_err(|_| decode_err("status"))?,
        department_id: r.try_get(2)?,
        assignee_id: r.try_get(3)?,
        created_at: ts(r.try_get(4)?),
        last_message_at: ts(r.try_get(5)?),
        message_count: r.try_get(6)?,
        rating: r.try_get::<Option<i64>, _>(7)?.map(|s| Rating {
            score: u8::try_from(s).unwrap_or(0),
            comment: r.try_get(8).ok().flatten(),
        }),
    })
}

pub(super) fn op_block(
    t: &mut Tx<'_>,
    actor: Actor,
    customer_id: String,
    blocked: bool,
) -> WResult<Customer> {
    if !actor.sees_every_customer() {
        // An agent may block a customer who has chatted in one of their departments.
        let seen: Option<String> = t.opt_one(
            "SELECT id FROM chats WHERE customer_id = ? AND (assignee_id = ? OR department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?)) LIMIT 1",
            [&customer_id, &actor.id, &actor.id],
        )?;
        if seen.is_none() {
            return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
        }
    }
    let changed = t.exec(
        "UPDATE customers SET blocked = ? WHERE id = ?",
        params![i64::from(blocked), customer_id],
    )?;
    t.forget_customer(&customer_id);
    if changed == 0 {
        return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
    }
    let customer = t
        .load_customer(&customer_id)?
        .ok_or_else(|| inconsistent("customer vanished"))?;
    customer_updated(t, &customer)?;
    Ok(customer)
}

/// Logs and publishes `customer:updated` to the agents who can see the customer's
/// chats (and supervisors/admins).
fn customer_updated(t: &mut Tx<'_>, customer: &Customer) -> WResult<()> {
    let customer_id = &customer.id;
    let payload = serde_json::to_string(customer)?;
    let department_id: Option<String> = t.opt_one(
        "SELECT department_id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
        [&customer_id],
    )?;
    let audience = Audience {
        department_id,
        ..Audience::default()
    };
    let event_id = t.event(shared::events::CUSTOMER_UPDATED, &payload, &audience, None)?;
    t.publish.push(Published {
        event: ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: customer.clone(),
        }),
        audience,
    });
    Ok(())
}

pub(super) fn op_update_customer(
    t: &mut Tx<'_>,
    customer_id: String,
    edit: CustomerEdit,
) -> WResult<Customer> {
    let mut customer = t
        .load_customer(&customer_id)?
        .ok_or_else(|| ApiError::not_found(format!("no customer {customer_id:?}")))?;
    edit.apply(&mut customer);
    t.exec(
        "UPDATE customers SET name = ?, email = ?, phone = ?, location = ?, tags = ?, custom_fields = ? WHERE id = ?",
        params![
            customer.name,
            customer.email,
            customer.phone,
            customer.location,
            serde_json::to_string(&customer.tags)?,
            serde_json::to_string(&customer.custom_fields)?,
            customer_id
        ],
    )?;
    t.forget_customer(&customer_id);
    customer_updated(t, &customer)?;
    Ok(customer)
}

pub(super) fn op_add_customer_note(
    t: &mut Tx<'_>,
    actor: Actor,
    customer_id: String,
    body: String,
) -> WResult<CustomerNote> {
    let body = crate::domain::customer::validate_note_body(&body)?;
    if t.load_customer(&customer_id)?.is_none() {
        return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
    }
    let now = now_ms();
    let note = CustomerNote {
        id: new_id(),
        customer_id,
        author: Author {
            kind: AuthorKind::Agent,
            id: actor.id,
            name: actor.name,
        },
        body,
        created_at: ts(now),
    };
    t.exec(
        "INSERT INTO customer_notes (id, customer_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![
            note.id,
            note.customer_id,
            note.author.id,
            note.author.name,
            note.body,
            now
        ],
    )?;
    Ok(note)
}

pub(super) fn op_delete_customer_note(
    t: &mut Tx<'_>,
    actor: Actor,
    customer_id: String,
    note_id: String,
) -> WResult<()> {
    let author: Option<String> = t.opt_one(
        "SELECT author_id FROM customer_notes WHERE id = ? AND customer_id = ?",
        [&note_id, &customer_id],
    )?;
    let Some(author) = author else {
        return Err(ApiError::not_found(format!("no note {note_id:?} on this customer")).into());
    };
    if !crate::domain::customer::may_delete_note(&actor, &author) {
        return Err(ApiError::forbidden(
            "only its author, a supervisor or an admin deletes a note",
        )
        .into());
    }
    t.exec("DELETE FROM customer_notes WHERE id = ?", [&note_id])?;
    Ok(())
}

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn resolve_visitor(
        &self,
        token: Option<&str>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Visitor> {
        if let Some(tok) = token {
            let hash = hash_token(tok);
            let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE visitor_token_hash = ?");
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(&hash)
                .fetch_optional(&self.read)
                .await
                .map_err(read_failed)?;
            if let Some(r) = row {
                let customer = customer_at(&r, 0).map_err(read_failed)?;
                let open: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM chats WHERE customer_id = ? ORDER BY (status != 'closed') DESC, created_at DESC LIMIT 1",
                )
                .bind(&customer.id)
                .fetch_optional(&self.read)
                .await
                .map_err(read_failed)?;
                return Ok(Visitor {
                    customer,
                    token: tok.to_owned(),
                    open_chat_id: open,
                });
            }
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let hash = hash_token(&token);
        let (name, email) = (name.map(str::to_owned), email.map(str::to_owned));
        let customer = self
            .run(move |t| {
                let id = new_id();
                let now = now_ms();
                let display = name.unwrap_or_else(|| format!("Visitor {}", &id[id.len() - 4..]));
                t.exec(
                    "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) VALUES (?, ?, ?, ?, ?)",
                    params![id, hash, display, email.as_deref(), now],
                )?;
                t.load_customer(&id)?
                    .ok_or_else(|| inconsistent("customer vanished"))
            })
            .await?;
        Ok(Visitor {
            customer,
            token,
            open_chat_id: None,
        })
    }

    async fn create_visitor(
        &self,
        customer_id: &str,
        token: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Customer> {
        let id = customer_id.to_owned();
        let hash = hash_token(token);
        let display = name.map_or_else(|| visitor::default_name(customer_id), str::to_owned);
        let email = email.map(str::to_owned);
        self.run(move |t| {
            t.exec(
                "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                params![id, hash, display, email.as_deref(), now_ms()],
            )?;
            t.forget_customer(&id);
            t.load_customer(&id)?
                .ok_or_else(|| inconsistent("customer vanished"))
        })
        .await
    }

    async fn resolve_visitor_known(&self, token: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT id FROM customers WHERE visitor_token_hash = ?")
            .bind(hash_token(token))
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)
    }

    async fn customer_profile(&self, id: &str) -> StoreResult<Option<CustomerProfile>> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        let Some(customer) = load_customer(&mut conn, id).await.map_err(read_failed)? else {
            return Ok(None);
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM chats c WHERE c.customer_id = ? ORDER BY c.created_at DESC LIMIT 50"
        )))
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_failed)?;
        let previous_chats = rows
            .iter()
            .map(summary_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Some(CustomerProfile {
            customer,
            previous_chats,
            tickets: Vec::new(),
            notes: Vec::new(),
        }))
    }

    async fn customer(&self, id: &str) -> StoreResult<Option<Customer>> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        load_customer(&mut conn, id).await.map_err(read_failed)
    }

    async fn customer_chats(
        &self,
        viewer: &Actor,
        customer_id: &str,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<ChatSummary>> {
        // The departments come from the table, so a change of membership applies at once.
        let (scope, agent_id) = match viewer.chat_scope() {
            ChatScope::All => ("", None),
            ChatScope::Visible { agent_id, .. } => (
                " AND (c.assignee_id = ? OR c.department_id IN \
                 (SELECT department_id FROM agent_departments WHERE agent_id = ?))",
                Some(agent_id),
            ),
        };
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        let count_sql = format!("SELECT COUNT(*) FROM chats c WHERE c.customer_id = ?{scope}");
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql)).bind(customer_id);
        if let Some(a) = &agent_id {
            count = count.bind(a).bind(a);
        }
        let total = count.fetch_one(&mut *conn).await.map_err(read_failed)?;
        let sql = format!(
            "SELECT {SUMMARY_COLS} FROM chats c WHERE c.customer_id = ?{scope} \
             ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(customer_id);
        if let Some(a) = &agent_id {
            q = q.bind(a).bind(a);
        }
        let offset = i64::from(page.saturating_sub(1)).saturating_mul(i64::from(per_page));
        let rows = q
            .bind(i64::from(per_page))
            .bind(offset)
            .fetch_all(&mut *conn)
            .await
            .map_err(read_failed)?;
        let items = rows
            .iter()
            .map(summary_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    async fn block(
        &self,
        actor: &Actor,
        customer_id: &str,
        blocked: bool,
    ) -> StoreResult<Customer> {
        let (a, c) = (actor.clone(), customer_id.to_owned());
        run_op!(self, op_block(a, c, blocked))
    }

    async fn update_customer(
        &self,
        _actor: &Actor,
        customer_id: &str,
        edit: CustomerEdit,
    ) -> StoreResult<Customer> {
        let c = customer_id.to_owned();
        run_op!(self, op_update_customer(c, edit))
    }

    async fn customer_notes(&self, customer_id: &str) -> StoreResult<Vec<CustomerNote>> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        let rows = sqlx::query(
            "SELECT id, customer_id, author_id, author_name, body, created_at FROM customer_notes \
             WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(customer_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_failed)?;
        rows.iter()
            .map(|r| -> Result<CustomerNote, sqlx::Error> {
                Ok(CustomerNote {
                    id: r.try_get(0)?,
                    customer_id: r.try_get(1)?,
                    author: Author {
                        kind: AuthorKind::Agent,
                        id: r.try_get(2)?,
                        name: r.try_get(3)?,
                    },
                    body: r.try_get(4)?,
                    created_at: ts(r.try_get(5)?),
                })
            })
            .collect::<Result<_, _>>()
            .map_err(read_failed)
    }

    async fn add_customer_note(
        &self,
        actor: &Actor,
        customer_id: &str,
        body: String,
    ) -> StoreResult<CustomerNote> {
        let (a, c) = (actor.clone(), customer_id.to_owned());
        run_op!(self, op_add_customer_note(a, c, body))
    }

    async fn delete_customer_note(
        &self,
        actor: &Actor,
        customer_id: &str,
        note_id: &str,
    ) -> StoreResult<()> {
        let (a, c, n) = (actor.clone(), customer_id.to_owned(), note_id.to_owned());
        run_op!(self, op_delete_customer_note(a, c, n))
    }
}
