//! The directory every view shares: agents (with presence and load), departments and
//! customer profiles, from replies and pushes.

use shared::model::{Agent, Customer};

use super::flash;
use super::views::chats;
use crate::effect::Effect;
use crate::msg::DirectoryReply;
use crate::state::{FlashLevel, State};

pub(super) fn on_reply(state: &mut State, r: DirectoryReply, _fx: &mut Vec<Effect>) {
    match r {
        DirectoryReply::AgentsLoaded(agents) => {
            if let Some(s) = &mut state.session
                && let Some(me) = agents.iter().find(|a| a.id == s.agent.id)
            {
                s.agent = me.clone();
            }
            state.directory.agents = agents;
            // An open transfer picker shows fresh status and load.
            chats::refresh_transfer_picker(state);
        }
        DirectoryReply::DepartmentsLoaded(d) => state.directory.departments = d,
        DirectoryReply::CustomerLoaded(p) => {
            state.directory.customers.insert(p.customer.id.clone(), p);
        }
        DirectoryReply::CustomerBlocked(c) => {
            let text = if c.blocked {
                format!("{} is blocked", c.name)
            } else {
                format!("{} is unblocked", c.name)
            };
            customer_changed(state, c);
            flash(state, FlashLevel::Info, text);
        }
        DirectoryReply::PresenceSet(agent) => {
            let status = agent.status;
            if let Some(s) = &mut state.session {
                s.agent = agent.clone();
            }
            if let Some(a) = state.directory.agents.iter_mut().find(|a| a.id == agent.id) {
                *a = agent;
            }
            flash(
                state,
                FlashLevel::Info,
                format!("Your status: {}", status.as_str().replace('_', " ")),
            );
        }
    }
}

/// A presence push: the agent's own status, or a teammate's.
pub(super) fn presence(state: &mut State, agent: Agent) {
    if let Some(s) = &mut state.session
        && s.agent.id == agent.id
    {
        s.agent = agent.clone();
    }
    match state.directory.agents.iter_mut().find(|a| a.id == agent.id) {
        Some(a) => *a = agent,
        None => state.directory.agents.push(agent),
    }
}

/// A customer changed (blocked, renamed): the profile and every chat of theirs.
pub(super) fn customer_changed(state: &mut State, c: Customer) {
    chats::on_customer(state, &c);
    if let Some(p) = state.directory.customers.get_mut(&c.id) {
        p.customer = c;
    }
}
