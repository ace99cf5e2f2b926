//! Canned-response commands (list, create, delete) and their results, and how the
//! worker runs them.

use shared::canned::{CannedInput, CannedResponse};

use super::{Worker, rest_failed};
use crate::msg::NetEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CannedCmd {
    /// The agent's personal canned responses and the team's.
    Load,
    Create(CannedInput),
    Delete {
        id: String,
        shortcut: String,
    },
}

#[derive(Debug, Clone)]
pub enum CannedReply {
    Loaded(Vec<CannedResponse>),
    Created(CannedResponse),
    Deleted { shortcut: String },
}

impl From<CannedReply> for NetEvent {
    fn from(r: CannedReply) -> NetEvent {
        NetEvent::Canned(r)
    }
}

impl Worker {
    pub(super) fn canned(&self, cmd: CannedCmd) {
        match cmd {
            CannedCmd::Load => self.rest_task(|r| async move {
                match r.canned().await {
                    Ok(list) => CannedReply::Loaded(list).into(),
                    Err(e) => rest_failed("loading canned responses", e),
                }
            }),
            CannedCmd::Create(input) => self.rest_task(move |r| async move {
                match r.create_canned(&input).await {
                    Ok(c) => CannedReply::Created(c).into(),
                    Err(e) => rest_failed("saving the canned response", e),
                }
            }),
            CannedCmd::Delete { id, shortcut } => self.rest_task(move |r| async move {
                match r.delete_canned(&id).await {
                    Ok(()) => CannedReply::Deleted { shortcut }.into(),
                    Err(e) => rest_failed("deleting the canned response", e),
                }
            }),
        }
    }
}
