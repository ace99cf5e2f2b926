//! Bootstrap and recovery on the server host: departments, agents, passwords. Used by
//! `widget-server admin …`, the demo and tests; it opens the same store as the server
//! and may run while the server is serving.

use std::sync::Arc;

use anyhow::Context;
use shared::limits::{MAX_NAME_CHARS, validate_email, validate_line};
use shared::model::{Agent, Department, Role};

use crate::Config;
use crate::auth::{check_password_strength, hash_password};
use crate::store::{AgentChanges, NewAgent, Store};

pub struct Admin {
    store: Arc<dyn Store>,
}

impl Admin {
    pub async fn open(config: &Config) -> anyhow::Result<Admin> {
        config.ensure_data_dir()?;
        let store = crate::store::open(config)
            .await
            .with_context(|| format!("cannot open the store at {}", config.database_url()))?;
        Ok(Admin { store })
    }

    pub async fn create_department(&self, name: &str) -> anyhow::Result<Department> {
        let name = validate_line("department name", name, MAX_NAME_CHARS)
            .map_err(|e| anyhow::anyhow!(e.message))?;
        self.store
            .create_department(&name)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    pub async fn create_agent(
        &self,
        email: &str,
        name: &str,
        role: Role,
        department_names: &[String],
        password: &str,
    ) -> anyhow::Result<Agent> {
        let email = validate_email(email).map_err(|e| anyhow::anyhow!(e.message))?;
        let name =
            validate_line("name", name, MAX_NAME_CHARS).map_err(|e| anyhow::anyhow!(e.message))?;
        check_password_strength(password).map_err(|e| anyhow::anyhow!(e.message))?;
        if department_names.is_empty() && role == Role::Agent {
            anyhow::bail!("an agent needs at least one --department");
        }
        let department_ids = self.department_ids(department_names).await?;
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await?
            .map_err(|e| anyhow::anyhow!(e.message))?;
        self.store
            .create_agent(NewAgent {
                email,
                name,
                role,
                department_ids,
                password_hash,
                max_chats: 8,
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    pub async fn reset_password(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let email = validate_email(email).map_err(|e| anyhow::anyhow!(e.message))?;
        check_password_strength(password).map_err(|e| anyhow::anyhow!(e.message))?;
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await?
            .map_err(|e| anyhow::anyhow!(e.message))?;
        self.store
            .set_password(&email, &hash)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    /// Changes an agent's role, departments (by name, replacing the current ones), name
    /// or chat limit. Running sessions of the agent follow within seconds.
    pub async fn update_agent(
        &self,
        email: &str,
        role: Option<Role>,
        department_names: Option<&[String]>,
        name: Option<&str>,
        max_chats: Option<u32>,
    ) -> anyhow::Result<Agent> {
        let email = validate_email(email).map_err(|e| anyhow::anyhow!(e.message))?;
        let (agent, _) = self
            .store
            .agent_credentials(&email)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?
            .with_context(|| format!("no agent with email {email}"))?;
        let name = name
            .map(|n| validate_line("name", n, MAX_NAME_CHARS))
            .transpose()
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if max_chats == Some(0) || max_chats.is_some_and(|m| m > 100) {
            anyhow::bail!("--max-chats must be 1 to 100");
        }
        let department_ids = match department_names {
            Some(names) => Some(self.department_ids(names).await?),
            None => None,
        };
        self.store
            .update_agent(
                &agent.id,
                AgentChanges {
                    name,
                    role,
                    department_ids,
                    max_chats,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    async fn department_ids(&self, department_names: &[String]) -> anyhow::Result<Vec<String>> {
        let mut department_ids = Vec::new();
        for d in department_names {
            let dept = self
                .store
                .department_by_name(d.trim())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?
                .with_context(|| {
                    format!("unknown department {d:?}; create it first with `widget-server admin create-department --name {d:?}`")
                })?;
            if !department_ids.contains(&dept.id) {
                department_ids.push(dept.id);
            }
        }
        Ok(department_ids)
    }

    pub async fn list_agents(&self) -> anyhow::Result<Vec<Agent>> {
        self.store
            .agents()
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    pub async fn departments(&self) -> anyhow::Result<Vec<Department>> {
        self.store
            .departments()
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    /// Flushes pending writes and closes the store.
    pub async fn close(self) {
        self.store.close_store().await;
    }
}
