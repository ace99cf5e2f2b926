//! Visitors: tokens, profiles and blocking.

use super::*;

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
    let payload = serde_json::to_string(&customer)?;
    // Agents who can see the customer's chats hear of it (and supervisors/admins).
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
    Ok(customer)
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
        let rows = sqlx::query(
            "SELECT c.id, c.status, c.department_id, c.assignee_id, c.created_at, c.last_message_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.kind = 'text'), c.rating_score, c.rating_comment \
             FROM chats c WHERE c.customer_id = ? ORDER BY c.created_at DESC LIMIT 50",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_failed)?;
        let mut previous_chats = Vec::with_capacity(rows.len());
        for r in rows {
            let s = (|| -> Result<ChatSummary, sqlx::Error> {
                Ok(ChatSummary {
                    id: r.try_get(0)?,
                    status: ChatStatus::from_str(r.try_get(1)?)
                        .map_err(|_| decode_err("status"))?,
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
            })()
            .map_err(read_failed)?;
            previous_chats.push(s);
        }
        Ok(Some(CustomerProfile {
            customer,
            previous_chats,
            tickets: Vec::new(),
        }))
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
}
