//! Knowledge-base commands (search as the agent types, open an article) and their
//! results, and how the worker runs them.

use shared::kb::{Article, ArticleHit};

use super::{Worker, rest_failed};
use crate::msg::NetEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KbCmd {
    /// Articles matching `q` (every article, newest first, when blank); `seq` tells
    /// the answer to the latest keystroke from older ones.
    Search {
        q: String,
        seq: u64,
    },
    Open {
        id: String,
    },
}

#[derive(Debug, Clone)]
pub enum KbReply {
    Found { seq: u64, hits: Vec<ArticleHit> },
    Opened(Article),
}

impl From<KbReply> for NetEvent {
    fn from(r: KbReply) -> NetEvent {
        NetEvent::Kb(r)
    }
}

impl Worker {
    pub(super) fn kb(&self, cmd: KbCmd) {
        match cmd {
            KbCmd::Search { q, seq } => self.rest_task(move |r| async move {
                match r.kb_search(&q).await {
                    Ok(hits) => KbReply::Found { seq, hits }.into(),
                    Err(e) => rest_failed("searching the knowledge base", e),
                }
            }),
            KbCmd::Open { id } => self.rest_task(move |r| async move {
                match r.kb_article(&id).await {
                    Ok(a) => KbReply::Opened(a).into(),
                    Err(e) => rest_failed("opening the article", e),
                }
            }),
        }
    }
}
