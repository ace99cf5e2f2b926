//! Keeps every agent socket true to the store, whichever process or node changed it:
//! a token that expired, was signed out or predates a password reset ends its socket;
//! a role or department change moves the socket's rooms and permissions.
//!
//! Each event is also checked on arrival (`agent::session`: expiry and the sign-outs
//! this node knows of); this watcher is what brings changes made elsewhere, checking
//! every socket once per `--session-check-secs`.

use std::collections::HashMap;

use super::SocketRef;
use shared::model::Agent;

use super::agent::{Session, work_rooms};
use crate::AppState;
use crate::store::Actor;

/// Why a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Expired,
    SignedOut,
    PasswordChanged,
    AgentRemoved,
}

/// What one check found.
enum Verdict {
    Valid,
    /// Still valid; the agent changed (role, departments, name…).
    Changed(Agent),
    Ended(Ended),
}

/// Starts the watcher; it runs as long as the server.
pub fn spawn_watcher(state: AppState) {
    let every = state.config.session_check_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            recheck_all(&state).await;
        }
    });
}

/// Checks every agent socket on this node once.
pub async fn recheck_all(st: &AppState) {
    let Some(ns) = st.io.of(shared::events::AGENT_NS) else {
        return;
    };
    // The store's view of each agent, read once per pass however many sockets they have.
    let mut agents: HashMap<String, Option<(Agent, i64)>> = HashMap::new();
    for s in ns.sockets() {
        let Some(sess) = s.extensions.get::<Session>() else {
            continue;
        };
        match check(st, &sess, &mut agents).await {
            Ok(Verdict::Valid) => {}
            Ok(Verdict::Changed(agent)) => follow(&s, &sess, agent),
            Ok(Verdict::Ended(why)) => {
                tracing::info!(agent = %sess.agent.id, reason = ?why, "ending an agent socket");
                if why == Ended::SignedOut {
                    st.revoked.insert(&sess.jti, sess.expires_at);
                }
                let _ = s.disconnect();
            }
            // The store is not answering: keep the socket, check again next pass.
            Err(e) => tracing::debug!(error = %e.message, "session check skipped"),
        }
    }
}

async fn check(
    st: &AppState,
    sess: &Session,
    agents: &mut HashMap<String, Option<(Agent, i64)>>,
) -> Result<Verdict, shared::ApiError> {
    if jsonwebtoken::get_current_timestamp() > sess.expires_at {
        return Ok(Verdict::Ended(Ended::Expired));
    }
    if st.revoked.contains(&sess.jti) || st.store.is_revoked(&sess.jti).await? {
        return Ok(Verdict::Ended(Ended::SignedOut));
    }
    let id = sess.agent.id.clone();
    if !agents.contains_key(&id) {
        let found = match st.store.agent(&id).await? {
            Some(a) => {
                let after = st.store.sessions_valid_after(&id).await?;
                Some((a, after))
            }
            None => None,
        };
        agents.insert(id.clone(), found);
    }
    let Some(Some((agent, valid_after))) = agents.get(&id) else {
        return Ok(Verdict::Ended(Ended::AgentRemoved));
    };
    if sess.issued_ms < *valid_after {
        return Ok(Verdict::Ended(Ended::PasswordChanged));
    }
    let same = agent.role == sess.agent.role
        && agent.department_ids == sess.agent.department_ids
        && agent.name == sess.agent.name
        && agent.max_chats == sess.agent.max_chats;
    Ok(if same {
        Verdict::Valid
    } else {
        Verdict::Changed(agent.clone())
    })
}

/// Moves the socket to the rooms of the agent's new role and departments, and makes
/// its next events act with the new permissions.
fn follow(s: &SocketRef, old: &Session, agent: Agent) {
    let actor = Actor::from_agent(&agent);
    let (was, now) = (work_rooms(&old.actor), work_rooms(&actor));
    let leave: Vec<String> = was.iter().filter(|r| !now.contains(r)).cloned().collect();
    let join: Vec<String> = now.iter().filter(|r| !was.contains(r)).cloned().collect();
    tracing::info!(agent = %agent.id, ?leave, ?join, "agent changed; following");
    s.leave(leave);
    s.join(join);
    s.extensions.insert(old.with_agent(agent, actor));
}
