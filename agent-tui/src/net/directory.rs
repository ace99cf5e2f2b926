//! Directory commands (agents, departments, customer profiles, blocking, the agent's
//! own status) and their results, and how the worker runs them.

use serde_json::json;
use shared::events as ev;
use shared::model::{Agent, AgentStatus, Customer, CustomerId, CustomerProfile, Department};

use super::{Worker, ack_result, rest_failed, send_error_text};
use crate::msg::NetEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryCmd {
    LoadAgents,
    LoadDepartments,
    LoadCustomer(CustomerId),
    Block {
        customer_id: CustomerId,
        blocked: bool,
    },
    Presence(AgentStatus),
}

#[derive(Debug, Clone)]
pub enum DirectoryReply {
    AgentsLoaded(Vec<Agent>),
    DepartmentsLoaded(Vec<Department>),
    CustomerLoaded(CustomerProfile),
    CustomerBlocked(Customer),
    PresenceSet(Agent),
}

impl From<DirectoryReply> for NetEvent {
    fn from(r: DirectoryReply) -> NetEvent {
        NetEvent::Directory(r)
    }
}

impl Worker {
    pub(super) fn directory(&self, cmd: DirectoryCmd) {
        match cmd {
            DirectoryCmd::LoadAgents => self.rest_task(|r| async move {
                match r.agents().await {
                    Ok(a) => DirectoryReply::AgentsLoaded(a).into(),
                    Err(e) => rest_failed("loading agents", e),
                }
            }),
            DirectoryCmd::LoadDepartments => self.rest_task(|r| async move {
                match r.departments().await {
                    Ok(d) => DirectoryReply::DepartmentsLoaded(d).into(),
                    Err(e) => rest_failed("loading departments", e),
                }
            }),
            DirectoryCmd::LoadCustomer(id) => self.rest_task(move |r| async move {
                match r.customer(&id).await {
                    Ok(p) => DirectoryReply::CustomerLoaded(p).into(),
                    Err(e) => rest_failed("loading the customer", e),
                }
            }),
            DirectoryCmd::Block {
                customer_id,
                blocked,
            } => self.request(
                ev::CUSTOMER_BLOCK,
                json!({"customer_id": customer_id, "blocked": blocked}),
                |r| {
                    Some(match ack_result::<Customer>(r) {
                        Ok(c) => DirectoryReply::CustomerBlocked(c).into(),
                        Err(e) => NetEvent::Failed {
                            what: "block".into(),
                            error: send_error_text(&e),
                        },
                    })
                },
            ),
            DirectoryCmd::Presence(status) => {
                self.request(ev::PRESENCE_SET, json!({ "status": status }), |r| {
                    Some(match ack_result::<Agent>(r) {
                        Ok(a) => DirectoryReply::PresenceSet(a).into(),
                        Err(e) => NetEvent::Failed {
                            what: "status".into(),
                            error: send_error_text(&e),
                        },
                    })
                })
            }
        }
    }
}
