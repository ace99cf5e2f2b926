//! Visitors: tokens, profiles and blocking.

use std::str::FromStr;

use async_trait::async_trait;
use shared::ApiError;
use shared::events::{CustomerEvent, ServerEvent};
use shared::model::{
    Author, AuthorKind, ChatStatus, ChatSummary, Customer, CustomerNote, CustomerProfile, Page,
    Rating,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::{CUSTOMER_COLS, LATEST_CHAT_SQL, customer_at, decode_err, load_customer};
use super::{PgResult, PgStore, Tx};
use crate::domain::ChatScope;
use crate::domain::visitor::default_name;
use crate::store::fail::inconsistent;
use crate::store::{
    Actor, Audience, CustomerEdit, Published, StoreResult, Visitor, VisitorStore, hash_token,
    new_id, now_ms, ts,
};

async fn op_block(
    t: &mut Tx,
    actor: Actor,
    customer_id: String,
    blocked: bool,
) -> PgResult<Customer> {
    t.lock_events().await?;
    if !actor.sees_every_customer() {
        // An agent may block a customer who has chatted in one of their departments.
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT id FROM chats WHERE customer_id = $1 AND (assignee_id = $2 OR department_id \
             IN (SELECT department_id FROM agent_departments WHERE agent_id = $2)) LIMIT 1",
        )
        .bind(&customer_id)
        .bind(&actor.id)
        .fetch_optional(t.conn())
        .await?;
        if seen.is_none() {
            return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
        }
    }
    let changed = sqlx::query("UPDATE customers SET blocked = $1 WHERE id = $2")
        .bind(blocked)
        .bind(&customer_id)
        .execute(t.conn())
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
    }
    let customer = t
        .load_customer(&customer_id)
        .await?
        .ok_or_else(|| inconsistent("customer vanished"))?;
    customer_updated(t, &customer).await?;
    Ok(customer)
}

/// Logs and publishes `customer:updated` to the agents who can see the customer's
/// chats (and supervisors/admins).
async fn customer_updated(t: &mut Tx, customer: &Customer) -> PgResult<()> {
    let customer_id = &customer.id;
    let payload = serde_json::to_string(customer)?;
    let department_id: Option<String> = sqlx::query_scalar(
        "SELECT department_id FROM chats WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(t.conn())
    .await?;
    let audience = Audience {
        department_id,
        ..Audience::default()
    };
    let event_id = t
        .event(shared::events::CUSTOMER_UPDATED, &payload, &audience, None)
        .await?;
    t.publish(Published {
        event: ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: customer.clone(),
        }),
        audience,
    });
    Ok(())
}

async fn op_update_customer(
    t: &mut Tx,
    customer_id: String,
    edit: CustomerEdit,
) -> PgResult<Customer> {
    t.lock_events().await?;
    let mut customer = t
        .load_customer(&customer_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no customer {customer_id:?}")))?;
    edit.apply(&mut customer);
    sqlx::query(
        "UPDATE customers SET name = $1, email = $2, phone = $3, location = $4, tags = $5, \
         custom_fields = $6 WHERE id = $7",
    )
    .bind(&customer.name)
    .bind(&customer.email)
    .bind(&customer.phone)
    .bind(&customer.location)
    .bind(serde_json::to_string(&customer.tags)?)
    .bind(serde_json::to_string(&customer.custom_fields)?)
    .bind(&customer_id)
    .execute(t.conn())
    .await?;
    customer_updated(t, &customer).await?;
    Ok(customer)
}

async fn op_add_customer_note(
    t: &mut Tx,
    actor: Actor,
    customer_id: String,
    body: String,
) -> PgResult<CustomerNote> {
    let body = crate::domain::customer::validate_note_body(&body)?;
    if t.load_customer(&customer_id).await?.is_none() {
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
    sqlx::query(
        "INSERT INTO customer_notes (id, customer_id, author_id, author_name, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&note.id)
    .bind(&note.customer_id)
    .bind(&note.author.id)
    .bind(&note.author.name)
    .bind(&note.body)
    .bind(now)
    .execute(t.conn())
    .await?;
    Ok(note)
}

async fn op_delete_customer_note(
    t: &mut Tx,
    actor: Actor,
    customer_id: String,
    note_id: String,
) -> PgResult<()> {
    let author: Option<String> = sqlx::query_scalar(
        "SELECT author_id FROM customer_notes WHERE id = $1 AND customer_id = $2 FOR UPDATE",
    )
    .bind(&note_id)
    .bind(&customer_id)
    .fetch_optional(t.conn())
    .await?;
    let Some(author) = author else {
        return Err(ApiError::not_found(format!("no note {note_id:?} on this customer")).into());
    };
    if !crate::domain::customer::may_delete_note(&actor, &author) {
        return Err(ApiError::forbidden(
            "only its author, a supervisor or an admin deletes a note",
        )
        .into());
    }
    sqlx::query("DELETE FROM customer_notes WHERE id = $1")
        .bind(&note_id)
        .execute(t.conn())
        .await?;
    Ok(())
}

/// A new visitor: a fresh random token, so the row meets no other write.
async fn op_new_visitor(
    t: &mut Tx,
    hash: String,
    name: Option<String>,
    email: Option<String>,
) -> PgResult<Customer> {
    let id = new_id();
    let display = name.unwrap_or_else(|| format!("Visitor {}", &id[id.len() - 4..]));
    sqlx::query(
        "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&hash)
    .bind(&display)
    .bind(email.as_deref())
    .bind(now_ms())
    .execute(t.conn())
    .await?;
    t.load_customer(&id)
        .await?
        .ok_or_else(|| inconsistent("customer vanished"))
}

/// The columns of a [`ChatSummary`] of chat `c`.
const SUMMARY_COLS: &str = "c.id, c.status, c.department_id, c.assignee_id, c.created_at, \
    c.last_message_at, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id \
    AND m.kind = 'text'), c.rating_score, c.rating_comment";

fn summary_row(r: &PgRow) -> Result<ChatSummary, sqlx::Error> {
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

/// A visitor's record under the id their token carries, unless it is there already.
async fn op_create_visitor(
    t: &mut Tx,
    id: String,
    hash: String,
    name: String,
    email: Option<String>,
) -> PgResult<Customer> {
    sqlx::query(
        "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&hash)
    .bind(&name)
    .bind(email.as_deref())
    .bind(now_ms())
    .execute(t.conn())
    .await?;
    t.load_customer(&id)
        .await?
        .ok_or_else(|| inconsistent("customer vanished"))
}

#[async_trait]
impl VisitorStore for PgStore {
    async fn create_visitor(
        &self,
        customer_id: &str,
        token: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Customer> {
        let id = customer_id.to_owned();
        let hash = hash_token(token);
        let display = name.map_or_else(|| default_name(customer_id), str::to_owned);
        let email = email.map(str::to_owned);
        run_op!(self, op_create_visitor(id, hash, display, email))
    }

    async fn resolve_visitor(
        &self,
        token: Option<&str>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Visitor> {
        if let Some(tok) = token {
            let hash = hash_token(tok);
            let known = self
                .read(move |c| {
                    Box::pin(async move {
                        let sql = format!(
                            "SELECT {CUSTOMER_COLS} FROM customers WHERE visitor_token_hash = $1"
                        );
                        let Some(r) = sqlx::query(AssertSqlSafe(sql))
                            .bind(&hash)
                            .fetch_optional(&mut *c)
                            .await?
                        else {
                            return Ok(None);
                        };
                        let customer = customer_at(&r, 0)?;
                        let open: Option<String> = sqlx::query_scalar(LATEST_CHAT_SQL)
                            .bind(&customer.id)
                            .fetch_optional(&mut *c)
                            .await?;
                        Ok(Some((customer, open)))
                    })
                })
                .await?;
            if let Some((customer, open_chat_id)) = known {
                return Ok(Visitor {
                    customer,
                    token: tok.to_owned(),
                    open_chat_id,
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
        let customer = run_op!(self, op_new_visitor(hash, name, email))?;
        Ok(Visitor {
            customer,
            token,
            open_chat_id: None,
        })
    }

    async fn resolve_visitor_known(&self, token: &str) -> StoreResult<Option<String>> {
        let hash = hash_token(token);
        self.read(move |c| {
            Box::pin(async move {
                sqlx::query_scalar("SELECT id FROM customers WHERE visitor_token_hash = $1")
                    .bind(&hash)
                    .fetch_optional(c)
                    .await
            })
        })
        .await
    }

    async fn customer_profile(&self, id: &str) -> StoreResult<Option<CustomerProfile>> {
        let id = id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let Some(customer) = load_customer(&mut *c, &id).await? else {
                    return Ok(None);
                };
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {SUMMARY_COLS} FROM chats c WHERE c.customer_id = $1 \
                     ORDER BY c.created_at DESC LIMIT 50"
                )))
                .bind(&id)
                .fetch_all(&mut *c)
                .await?;
                let previous_chats = rows.iter().map(summary_row).collect::<Result<_, _>>()?;
                Ok(Some(CustomerProfile {
                    customer,
                    previous_chats,
                    tickets: Vec::new(),
                    notes: Vec::new(),
                }))
            })
        })
        .await
    }

    async fn customer(&self, id: &str) -> StoreResult<Option<Customer>> {
        let id = id.to_owned();
        self.read(move |c| Box::pin(async move { load_customer(c, &id).await }))
            .await
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
                " AND (c.assignee_id = $2 OR c.department_id IN \
                 (SELECT department_id FROM agent_departments WHERE agent_id = $2))",
                Some(agent_id),
            ),
        };
        let (limit_at, offset_at) = if agent_id.is_some() { (3, 4) } else { (2, 3) };
        let count_sql = format!("SELECT COUNT(*) FROM chats c WHERE c.customer_id = $1{scope}");
        let sql = format!(
            "SELECT {SUMMARY_COLS} FROM chats c WHERE c.customer_id = $1{scope} \
             ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit_at} OFFSET ${offset_at}"
        );
        let customer_id = customer_id.to_owned();
        let offset = i64::from(page.saturating_sub(1)).saturating_mul(i64::from(per_page));
        let (total, items) = self
            .read(move |c| {
                Box::pin(async move {
                    let mut count =
                        sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql)).bind(&customer_id);
                    if let Some(a) = &agent_id {
                        count = count.bind(a);
                    }
                    let total = count.fetch_one(&mut *c).await?;
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(&customer_id);
                    if let Some(a) = &agent_id {
                        q = q.bind(a);
                    }
                    let rows = q
                        .bind(i64::from(per_page))
                        .bind(offset)
                        .fetch_all(&mut *c)
                        .await?;
                    let items = rows
                        .iter()
                        .map(summary_row)
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((total, items))
                })
            })
            .await?;
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
        let id = customer_id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT id, customer_id, author_id, author_name, body, created_at \
                     FROM customer_notes WHERE customer_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT 200",
                )
                .bind(&id)
                .fetch_all(&mut *c)
                .await?;
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
                    .collect()
            })
        })
        .await
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
