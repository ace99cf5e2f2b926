//! The directory: departments, agents, sessions and presence.

use async_trait::async_trait;
use shared::ApiError;
use shared::events::{PresenceEvent, ServerEvent};
use shared::model::{Agent, AgentStatus, Department};
use sqlx::{AssertSqlSafe, Row};

use super::rows::{AGENT_SELECT, agent_row, department_row, load_agent};
use super::tx::unique_or;
use super::{PgResult, PgStore, Tx};
use crate::store::fail::inconsistent;
use crate::store::{
    AgentChanges, Audience, DirectoryStore, NewAgent, Published, StoreResult, new_id, now_ms, ts,
};

fn department_taken(name: &str) -> ApiError {
    ApiError::conflict(format!("a department named {name:?} already exists"))
}

fn email_taken(email: &str) -> ApiError {
    ApiError::conflict(format!("an agent with email {email} already exists"))
}

async fn op_create_department(t: &mut Tx, name: String) -> PgResult<Department> {
    // Under the event lock the check is exact across nodes; the unique index stays
    // the last word for writers that do not take it.
    t.lock_events().await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM departments WHERE lower(name) = lower($1)")
            .bind(&name)
            .fetch_optional(t.conn())
            .await?;
    if exists.is_some() {
        return Err(department_taken(&name).into());
    }
    let now = now_ms();
    let d = Department {
        id: new_id(),
        name,
        created_at: ts(now),
    };
    sqlx::query("INSERT INTO departments (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&d.id)
        .bind(&d.name)
        .bind(now)
        .execute(t.conn())
        .await
        .map_err(|e| unique_or(e, "departments_name", department_taken(&d.name)))?;
    Ok(d)
}

async fn op_create_agent(t: &mut Tx, agent: NewAgent) -> PgResult<Agent> {
    t.lock_events().await?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM agents WHERE email = $1")
        .bind(&agent.email)
        .fetch_optional(t.conn())
        .await?;
    if exists.is_some() {
        return Err(email_taken(&agent.email).into());
    }
    for d in &agent.department_ids {
        let known: Option<String> = sqlx::query_scalar("SELECT id FROM departments WHERE id = $1")
            .bind(d)
            .fetch_optional(t.conn())
            .await?;
        if known.is_none() {
            return Err(ApiError::invalid(format!("no department {d:?}")).into());
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO agents (id, email, name, role, status, max_chats, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, 'offline', $5, $6, $7)",
    )
    .bind(&id)
    .bind(&agent.email)
    .bind(&agent.name)
    .bind(agent.role.as_str())
    .bind(i64::from(agent.max_chats))
    .bind(&agent.password_hash)
    .bind(now_ms())
    .execute(t.conn())
    .await
    .map_err(|e| unique_or(e, "agents_email_key", email_taken(&agent.email)))?;
    for d in &agent.department_ids {
        sqlx::query(
            "INSERT INTO agent_departments (agent_id, department_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(d)
        .execute(t.conn())
        .await?;
    }
    t.load_agent(&id)
        .await?
        .ok_or_else(|| inconsistent("agent vanished"))
}

async fn op_set_password(t: &mut Tx, email: String, hash: String) -> PgResult<()> {
    t.lock_events().await?;
    // A new password signs the agent out of every existing session.
    let changed = sqlx::query(
        "UPDATE agents SET password_hash = $1, sessions_valid_after = $2 WHERE email = $3",
    )
    .bind(&hash)
    .bind(now_ms())
    .bind(&email)
    .execute(t.conn())
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(ApiError::not_found(format!("no agent with email {email}")).into());
    }
    Ok(())
}

/// Takes no lock: the token is new to this node's batch and the clean-up skips rows
/// another node is deleting, so a revocation never waits on another write.
async fn op_revoke(t: &mut Tx, jti: String, expires_at_ms: i64) -> PgResult<()> {
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&jti)
    .bind(expires_at_ms)
    .execute(t.conn())
    .await?;
    sqlx::query(
        "DELETE FROM revoked_tokens WHERE jti IN (SELECT jti FROM revoked_tokens \
         WHERE expires_at < $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind(now_ms())
    .execute(t.conn())
    .await?;
    Ok(())
}

async fn op_presence(t: &mut Tx, agent_id: String, status: AgentStatus) -> PgResult<Agent> {
    t.lock_events().await?;
    sqlx::query("UPDATE agents SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(&agent_id)
        .execute(t.conn())
        .await?;
    let agent = t
        .load_agent(&agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such agent"))?;
    let payload = serde_json::to_string(&agent)?;
    let audience = Audience::everyone();
    let event_id = t
        .event(shared::events::PRESENCE, &payload, &audience, None)
        .await?;
    t.publish(Published {
        event: ServerEvent::Presence(PresenceEvent {
            event_id,
            agent: agent.clone(),
        }),
        audience,
    });
    Ok(agent)
}

async fn op_update_agent(t: &mut Tx, id: String, changes: AgentChanges) -> PgResult<Agent> {
    t.lock_events().await?;
    let current: Option<String> =
        sqlx::query_scalar("SELECT id FROM agents WHERE id = $1 FOR UPDATE")
            .bind(&id)
            .fetch_optional(t.conn())
            .await?;
    let current = match current {
        Some(_) => t.load_agent(&id).await?,
        None => None,
    };
    let Some(current) = current else {
        return Err(ApiError::not_found(format!("no agent {id:?}")).into());
    };
    if let Some(ids) = &changes.department_ids {
        for d in ids {
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM departments WHERE id = $1")
                    .bind(d)
                    .fetch_optional(t.conn())
                    .await?;
            if known.is_none() {
                return Err(ApiError::invalid(format!("no department {d:?}")).into());
            }
        }
    }
    let role = changes.role.unwrap_or(current.role);
    let departments = changes
        .department_ids
        .as_ref()
        .unwrap_or(&current.department_ids);
    crate::domain::actor::check_agent_shape(role, departments)?;
    sqlx::query("UPDATE agents SET name = $1, role = $2, max_chats = $3 WHERE id = $4")
        .bind(changes.name.as_deref().unwrap_or(&current.name))
        .bind(role.as_str())
        .bind(i64::from(changes.max_chats.unwrap_or(current.max_chats)))
        .bind(&id)
        .execute(t.conn())
        .await?;
    if let Some(ids) = &changes.department_ids {
        sqlx::query("DELETE FROM agent_departments WHERE agent_id = $1")
            .bind(&id)
            .execute(t.conn())
            .await?;
        for d in ids {
            sqlx::query(
                "INSERT INTO agent_departments (agent_id, department_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(d)
            .execute(t.conn())
            .await?;
        }
    }
    op_presence(t, id, current.status).await
}

#[async_trait]
impl DirectoryStore for PgStore {
    async fn update_agent(&self, id: &str, changes: AgentChanges) -> StoreResult<Agent> {
        let id = id.to_owned();
        run_op!(self, op_update_agent(id, changes))
    }

    async fn create_department(&self, name: &str) -> StoreResult<Department> {
        let name = name.to_owned();
        run_op!(self, op_create_department(name))
    }

    async fn create_agent(&self, agent: NewAgent) -> StoreResult<Agent> {
        run_op!(self, op_create_agent(agent))
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<()> {
        let (email, hash) = (email.to_owned(), password_hash.to_owned());
        run_op!(self, op_set_password(email, hash))
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        self.read(|c| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT id, name, created_at FROM departments \
                     ORDER BY created_at, name COLLATE \"C\"",
                )
                .fetch_all(c)
                .await?;
                rows.iter().map(department_row).collect()
            })
        })
        .await
    }

    async fn department_by_name(&self, name: &str) -> StoreResult<Option<Department>> {
        let name = name.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                // Names are unique regardless of case (SQLite's NOCASE).
                let row = sqlx::query(
                    "SELECT id, name, created_at FROM departments WHERE lower(name) = lower($1)",
                )
                .bind(&name)
                .fetch_optional(c)
                .await?;
                row.as_ref().map(department_row).transpose()
            })
        })
        .await
    }

    async fn agents(&self) -> StoreResult<Vec<Agent>> {
        self.read(|c| {
            Box::pin(async move {
                let sql = format!("{AGENT_SELECT} ORDER BY a.name COLLATE \"C\", a.id");
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(c).await?;
                rows.iter().map(agent_row).collect()
            })
        })
        .await
    }

    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>> {
        let id = id.to_owned();
        self.read(move |c| Box::pin(async move { load_agent(c, &id).await }))
            .await
    }

    async fn agent_credentials(&self, email: &str) -> StoreResult<Option<(Agent, String)>> {
        let email = email.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let sql = format!("{AGENT_SELECT} WHERE a.email = $1");
                let row = sqlx::query(AssertSqlSafe(sql))
                    .bind(&email)
                    .fetch_optional(c)
                    .await?;
                match row {
                    Some(r) => Ok(Some((agent_row(&r)?, r.try_get(8)?))),
                    None => Ok(None),
                }
            })
        })
        .await
    }

    async fn sessions_valid_after(&self, agent_id: &str) -> StoreResult<i64> {
        let agent_id = agent_id.to_owned();
        let v: Option<i64> = self
            .read(move |c| {
                Box::pin(async move {
                    sqlx::query_scalar("SELECT sessions_valid_after FROM agents WHERE id = $1")
                        .bind(&agent_id)
                        .fetch_optional(c)
                        .await
                })
            })
            .await?;
        Ok(v.unwrap_or(0))
    }

    async fn is_revoked(&self, jti: &str) -> StoreResult<bool> {
        let jti = jti.to_owned();
        let r: Option<String> = self
            .read(move |c| {
                Box::pin(async move {
                    sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = $1")
                        .bind(&jti)
                        .fetch_optional(c)
                        .await
                })
            })
            .await?;
        Ok(r.is_some())
    }

    async fn revoke_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<()> {
        let jti = jti.to_owned();
        run_op!(self, op_revoke(jti, expires_at_ms))
    }

    async fn set_presence(&self, agent_id: &str, status: AgentStatus) -> StoreResult<Agent> {
        let a = agent_id.to_owned();
        run_op!(self, op_presence(a, status))
    }
}
