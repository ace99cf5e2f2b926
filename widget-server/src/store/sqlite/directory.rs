//! The directory: departments, agents, sessions and presence.

use super::*;

pub(super) fn op_presence(t: &mut Tx<'_>, agent_id: String, status: AgentStatus) -> WResult<Agent> {
    t.exec(
        "UPDATE agents SET status = ? WHERE id = ?",
        params![status.as_str(), agent_id],
    )?;
    let agent = t
        .load_agent(&agent_id)?
        .ok_or_else(|| ApiError::not_found("no such agent"))?;
    let payload = serde_json::to_string(&agent)?;
    let audience = Audience {
        broadcast: true,
        ..Audience::default()
    };
    let event_id = t.event(shared::events::PRESENCE, &payload, &audience, None)?;
    t.publish.push(Published {
        event: ServerEvent::Presence(PresenceEvent {
            event_id,
            agent: agent.clone(),
        }),
        audience,
    });
    Ok(agent)
}

pub(super) fn op_update_agent(t: &mut Tx<'_>, id: String, changes: AgentChanges) -> WResult<Agent> {
    let Some(current) = t.load_agent(&id)? else {
        return Err(ApiError::not_found(format!("no agent {id:?}")).into());
    };
    if let Some(ids) = &changes.department_ids {
        for d in ids {
            let known: Option<String> =
                t.opt_one("SELECT id FROM departments WHERE id = ?", [d])?;
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
    t.exec(
        "UPDATE agents SET name = ?, role = ?, max_chats = ? WHERE id = ?",
        params![
            changes.name.as_deref().unwrap_or(&current.name),
            role.as_str(),
            i64::from(changes.max_chats.unwrap_or(current.max_chats)),
            id
        ],
    )?;
    if let Some(ids) = &changes.department_ids {
        t.exec("DELETE FROM agent_departments WHERE agent_id = ?", [&id])?;
        for d in ids {
            t.exec(
                "INSERT OR IGNORE INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
                [&id, d],
            )?;
        }
    }
    op_presence(t, id, current.status)
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn update_agent(&self, id: &str, changes: AgentChanges) -> StoreResult<Agent> {
        let id = id.to_owned();
        run_op!(self, op_update_agent(id, changes))
    }

    async fn create_department(&self, name: &str) -> StoreResult<Department> {
        let name = name.to_owned();
        self.run(move |t| {
            let exists: Option<String> =
                t.opt_one("SELECT id FROM departments WHERE name = ?", [&name])?;
            if exists.is_some() {
                return Err(ApiError::conflict(format!(
                    "a department named {name:?} already exists"
                ))
                .into());
            }
            let now = now_ms();
            let d = Department {
                id: new_id(),
                name,
                created_at: ts(now),
            };
            t.exec(
                "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
                params![d.id, d.name, now],
            )?;
            Ok(d)
        })
        .await
    }

    async fn create_agent(&self, agent: NewAgent) -> StoreResult<Agent> {
        self.run(move |t| {
            let exists: Option<String> =
                t.opt_one("SELECT id FROM agents WHERE email = ?", [&agent.email])?;
            if exists.is_some() {
                return Err(ApiError::conflict(format!(
                    "an agent with email {} already exists",
                    agent.email
                ))
                .into());
            }
            for d in &agent.department_ids {
                let known: Option<String> =
                    t.opt_one("SELECT id FROM departments WHERE id = ?", [d])?;
                if known.is_none() {
                    return Err(ApiError::invalid(format!("no department {d:?}")).into());
                }
            }
            let id = new_id();
            t.exec(
                "INSERT INTO agents (id, email, name, role, status, max_chats, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, 'offline', ?, ?, ?)",
                params![
                    id,
                    agent.email,
                    agent.name,
                    agent.role.as_str(),
                    i64::from(agent.max_chats),
                    agent.password_hash,
                    now_ms(),
                ],
            )?;
            for d in &agent.department_ids {
                t.exec(
                    "INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
                    [&id, d],
                )?;
            }
            t.load_agent(&id)?
                .ok_or_else(|| inconsistent("agent vanished"))
        })
        .await
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<()> {
        let (email, hash) = (email.to_owned(), password_hash.to_owned());
        self.run(move |t| {
            // A new password signs the agent out of every existing session.
            let epoch = now_ms().to_string();
            let changed = t.exec(
                "UPDATE agents SET password_hash = ?, sessions_valid_after = ? WHERE email = ?",
                [&hash, &epoch, &email],
            )?;
            if changed == 0 {
                return Err(ApiError::not_found(format!("no agent with email {email}")).into());
            }
            Ok(())
        })
        .await
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        let rows =
            sqlx::query("SELECT id, name, created_at FROM departments ORDER BY created_at, name")
                .fetch_all(&self.read)
                .await
                .map_err(read_failed)?;
        rows.iter()
            .map(department_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)
    }

    async fn department_by_name(&self, name: &str) -> StoreResult<Option<Department>> {
        let row = sqlx::query("SELECT id, name, created_at FROM departments WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
        row.as_ref()
            .map(department_row)
            .transpose()
            .map_err(read_failed)
    }

    async fn agents(&self) -> StoreResult<Vec<Agent>> {
        let sql = format!("{AGENT_SELECT} ORDER BY a.name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        rows.iter()
            .map(agent_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)
    }

    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>> {
        let mut conn = self.read.acquire().await.map_err(read_failed)?;
        load_agent(&mut conn, id).await.map_err(read_failed)
    }

    async fn agent_credentials(&self, email: &str) -> StoreResult<Option<(Agent, String)>> {
        let sql = format!("{AGENT_SELECT} WHERE a.email = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
        match row {
            Some(r) => {
                let agent = agent_row(&r).map_err(read_failed)?;
                let hash: String = r.try_get(8).map_err(read_failed)?;
                Ok(Some((agent, hash)))
            }
            None => Ok(None),
        }
    }

    async fn sessions_valid_after(&self, agent_id: &str) -> StoreResult<i64> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT sessions_valid_after FROM agents WHERE id = ?")
                .bind(agent_id)
                .fetch_optional(&self.read)
                .await
                .map_err(read_failed)?;
        Ok(v.unwrap_or(0))
    }

    async fn is_revoked(&self, jti: &str) -> StoreResult<bool> {
        let r: Option<String> = sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
        Ok(r.is_some())
    }

    async fn revoke_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<()> {
        let jti = jti.to_owned();
        self.run(move |t| {
            t.exec(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                params![jti, expires_at_ms],
            )?;
            t.exec(
                "DELETE FROM revoked_tokens WHERE expires_at < ?",
                [now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_presence(&self, agent_id: &str, status: AgentStatus) -> StoreResult<Agent> {
        let a = agent_id.to_owned();
        run_op!(self, op_presence(a, status))
    }
}
