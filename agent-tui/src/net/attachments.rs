//! File commands (upload a local file, save a message's file) and their results, and
//! how the worker runs them.

use shared::model::{Attachment, ChatId};

use super::rest::Rest;
use super::sanitize::clean_error;
use super::session::SessionReply;
use super::{Worker, files, rest_failed};
use crate::msg::{Msg, NetEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentCmd {
    /// Check and read a local file, then upload it for `chat_id`'s next message.
    Upload {
        chat_id: ChatId,
        /// As typed after `:attach` (`~/` is the home directory).
        path: String,
    },
    /// Download a file of a message into `dir` (None: `~/Downloads` if it exists,
    /// else the current directory), never overwriting anything.
    Save {
        attachment: Attachment,
        dir: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub enum AttachmentReply {
    /// A file is on the server, ready to go with the chat's next message.
    Uploaded {
        chat_id: ChatId,
        /// As typed after `:attach`.
        path: String,
        attachment: Attachment,
    },
    /// A file could not be attached (missing, too large, refused…).
    UploadFailed {
        chat_id: ChatId,
        path: String,
        error: String,
    },
    /// A message's file was written to `path`.
    Saved { name: String, path: String },
}

impl From<AttachmentReply> for NetEvent {
    fn from(r: AttachmentReply) -> NetEvent {
        NetEvent::Attachments(r)
    }
}

impl Worker {
    pub(super) fn attachments(&self, cmd: AttachmentCmd) {
        match cmd {
            AttachmentCmd::Upload { chat_id, path } => {
                let Some(rest) = self.rest.clone() else {
                    self.emit(
                        AttachmentReply::UploadFailed {
                            chat_id,
                            path,
                            error: "not connected to a server".into(),
                        }
                        .into(),
                    );
                    return;
                };
                let out = self.out.clone();
                tokio::spawn(async move {
                    let m = upload(rest, chat_id, path).await;
                    let _ = out.send(Msg::Net(m));
                });
            }
            AttachmentCmd::Save { attachment, dir } => self.rest_task(move |r| async move {
                match r.download(&attachment.id).await {
                    Ok(bytes) => {
                        let name = attachment.name.clone();
                        let written = tokio::task::spawn_blocking(move || {
                            let dir = match dir {
                                Some(d) => files::expand_home(&d),
                                None => files::default_save_dir(),
                            };
                            files::save_unique(&dir, &name, &bytes)
                        })
                        .await;
                        match written {
                            Ok(Ok(p)) => AttachmentReply::Saved {
                                name: attachment.name,
                                path: p.display().to_string(),
                            }
                            .into(),
                            Ok(Err(e)) => NetEvent::Failed {
                                what: format!("saving {}", attachment.name),
                                error: clean_error(&e.to_string()),
                            },
                            Err(e) => NetEvent::Failed {
                                what: format!("saving {}", attachment.name),
                                error: clean_error(&e.to_string()),
                            },
                        }
                    }
                    Err(e) => rest_failed(&format!("downloading {}", attachment.name), e),
                }
            }),
        }
    }
}

/// Checks and reads the file off the async threads, then uploads it.
async fn upload(rest: Rest, chat_id: String, path: String) -> NetEvent {
    let typed = path.clone();
    let failed = |error: String| {
        AttachmentReply::UploadFailed {
            chat_id: chat_id.clone(),
            path: path.clone(),
            error,
        }
        .into()
    };
    let file = match tokio::task::spawn_blocking(move || files::read_for_upload(&typed)).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return failed(clean_error(&e.to_string())),
        Err(e) => return failed(clean_error(&e.to_string())),
    };
    match rest.upload(&file.name, file.content_type, file.bytes).await {
        Ok(attachment) => AttachmentReply::Uploaded {
            chat_id,
            path,
            attachment,
        }
        .into(),
        Err(e) if e.is_unauthorized() => SessionReply::Expired.into(),
        Err(e) => failed(e.message()),
    }
}
