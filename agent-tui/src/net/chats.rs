//! Chat commands (lists, history, sending, read marks, typing, claim, transfer,
//! close, reopen, tags, export) and their results, and how the worker runs them.

use serde_json::{Value, json};
use shared::events as ev;
use shared::model::{Chat, ChatId, ChatStatus, Message, Seq};
use shared::text::sanitize_line;

use super::{Worker, ack_result, rest_failed, transcript};
use crate::msg::{NetEvent, SendError};
use crate::state::OutboxItem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatCmd {
    LoadList {
        status: ChatStatus,
    },
    Load(ChatId),
    LoadMessages {
        chat_id: ChatId,
        before_seq: Option<Seq>,
    },
    Send(OutboxItem),
    Read {
        chat_id: ChatId,
        seq: Seq,
    },
    Typing {
        chat_id: ChatId,
        typing: bool,
    },
    Claim(ChatId),
    Transfer {
        chat_id: ChatId,
        to_agent_id: Option<String>,
        to_department_id: Option<String>,
    },
    Close {
        chat_id: ChatId,
        resolution: Option<String>,
    },
    Reopen(ChatId),
    Tag {
        chat_id: ChatId,
        add: Vec<String>,
        remove: Vec<String>,
    },
    Export {
        chat_id: ChatId,
        path: String,
    },
}

/// Which chat operation an ack answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOp {
    Claim,
    Transfer,
    Close,
    Reopen,
    Tag,
}

impl ChatOp {
    pub fn verb(self) -> &'static str {
        match self {
            ChatOp::Claim => "claim",
            ChatOp::Transfer => "transfer",
            ChatOp::Close => "close",
            ChatOp::Reopen => "reopen",
            ChatOp::Tag => "tag",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ChatReply {
    ListLoaded {
        status: ChatStatus,
        chats: Vec<Chat>,
    },
    Loaded(Chat),
    MessagesLoaded {
        chat_id: ChatId,
        messages: Vec<Message>,
        older: bool,
    },
    /// A page of history could not be loaded.
    MessagesFailed {
        chat_id: ChatId,
        error: String,
    },
    SendAcked {
        client_msg_id: String,
        message: Message,
    },
    SendFailed {
        client_msg_id: String,
        error: SendError,
    },
    ActionDone {
        op: ChatOp,
        chat: Chat,
    },
    ActionFailed {
        op: ChatOp,
        chat_id: ChatId,
        error: SendError,
    },
    Exported {
        path: String,
    },
}

impl From<ChatReply> for NetEvent {
    fn from(r: ChatReply) -> NetEvent {
        NetEvent::Chats(r)
    }
}

impl Worker {
    fn chat_op(&self, op: ChatOp, event: &str, chat_id: String, data: Value) {
        self.request(event, data, move |r| {
            Some(
                match ack_result::<Chat>(r) {
                    Ok(chat) => ChatReply::ActionDone { op, chat },
                    Err(error) => ChatReply::ActionFailed { op, chat_id, error },
                }
                .into(),
            )
        });
    }

    pub(super) fn chats(&self, cmd: ChatCmd) {
        match cmd {
            ChatCmd::LoadList { status } => self.rest_task(move |r| async move {
                match r.chats(status).await {
                    Ok(chats) => ChatReply::ListLoaded { status, chats }.into(),
                    Err(e) => rest_failed("loading chats", e),
                }
            }),
            ChatCmd::Load(id) => self.rest_task(move |r| async move {
                match r.chat(&id).await {
                    Ok(c) => ChatReply::Loaded(c).into(),
                    Err(e) => rest_failed("loading a chat", e),
                }
            }),
            ChatCmd::LoadMessages {
                chat_id,
                before_seq,
            } => self.rest_task(move |r| async move {
                match r.messages(&chat_id, before_seq).await {
                    Ok(messages) => ChatReply::MessagesLoaded {
                        chat_id,
                        messages,
                        older: before_seq.is_some(),
                    }
                    .into(),
                    Err(e) if e.is_unauthorized() => rest_failed("messages", e),
                    Err(e) => ChatReply::MessagesFailed {
                        chat_id,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
            ChatCmd::Send(item) => {
                let id = item.client_msg_id.clone();
                let data = json!({
                    "chat_id": item.chat_id,
                    "client_msg_id": item.client_msg_id,
                    "body": item.body,
                    "kind": item.kind,
                    "attachment_ids": item.attachments.iter().map(|a| &a.id).collect::<Vec<_>>(),
                });
                self.request(ev::MESSAGE_SEND, data, move |r| {
                    Some(
                        match ack_result::<Message>(r) {
                            Ok(message) => ChatReply::SendAcked {
                                client_msg_id: id,
                                message,
                            },
                            Err(error) => ChatReply::SendFailed {
                                client_msg_id: id,
                                error,
                            },
                        }
                        .into(),
                    )
                });
            }
            ChatCmd::Read { chat_id, seq } => {
                self.request(ev::MESSAGE_READ, json!({"chat_id": chat_id, "seq": seq}), |_| None);
            }
            ChatCmd::Typing { chat_id, typing } => {
                if let Some(s) = &self.socket {
                    s.emit(ev::TYPING, json!({"chat_id": chat_id, "typing": typing}));
                }
            }
            ChatCmd::Claim(id) => {
                self.chat_op(ChatOp::Claim, ev::CHAT_CLAIM, id.clone(), json!({"chat_id": id}))
            }
            ChatCmd::Transfer {
                chat_id,
                to_agent_id,
                to_department_id,
            } => self.chat_op(
                ChatOp::Transfer,
                ev::CHAT_TRANSFER,
                chat_id.clone(),
                json!({"chat_id": chat_id, "to_agent_id": to_agent_id, "to_department_id": to_department_id}),
            ),
            ChatCmd::Close {
                chat_id,
                resolution,
            } => self.chat_op(
                ChatOp::Close,
                ev::CHAT_CLOSE,
                chat_id.clone(),
                json!({"chat_id": chat_id, "resolution": resolution}),
            ),
            ChatCmd::Reopen(id) => {
                self.chat_op(ChatOp::Reopen, ev::CHAT_REOPEN, id.clone(), json!({"chat_id": id}))
            }
            ChatCmd::Tag {
                chat_id,
                add,
                remove,
            } => self.chat_op(
                ChatOp::Tag,
                ev::CHAT_TAG,
                chat_id.clone(),
                json!({"chat_id": chat_id, "add": add, "remove": remove}),
            ),
            ChatCmd::Export { chat_id, path } => self.rest_task(move |r| async move {
                let text = match r.transcript(&chat_id).await {
                    Ok(t) => transcript::render(&t),
                    Err(e) => return rest_failed("export", e),
                };
                let failed = |error: String| NetEvent::Failed {
                    what: "export".into(),
                    error,
                };
                match tokio::task::spawn_blocking(move || transcript::write_new(&path, &text))
                    .await
                {
                    Ok(Ok(p)) => ChatReply::Exported {
                        path: sanitize_line(&p.display().to_string()).into_owned(),
                    }
                    .into(),
                    Ok(Err(e)) => failed(e.to_string()),
                    Err(e) => failed(sanitize_line(&e.to_string()).into_owned()),
                }
            }),
        }
    }
}
