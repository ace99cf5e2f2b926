//! Chat transcripts (`?format=text|json`), streamed: the messages are read a window
//! of `seq` numbers at a time and written as they come, so a chat of any length costs
//! the server one window of memory, not the whole transcript.

use std::fmt::Write as _;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use shared::ApiError;
use shared::limits::MAX_MESSAGE_LIMIT;
use shared::model::{AuthorKind, Chat, Message, MessageKind, Seq};

use crate::AppState;

/// The transcript's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(format: Option<&str>) -> Result<Format, ApiError> {
        match format.unwrap_or("text") {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => Err(ApiError::invalid(format!(
                "unknown format {other:?}: expected text or json"
            ))),
        }
    }
}

/// Who reads the transcript: agents see notes; a visitor sees their view of each
/// message (no notes, their own file links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Agent,
    Visitor,
}

/// Where the stream is.
enum Part {
    Head,
    /// Messages with `seq` above this are still to come.
    After(Seq),
    Done,
}

struct Writer {
    state: AppState,
    chat: Chat,
    /// The chat's last number when the transcript started (the reader's numbering).
    last_seq: Seq,
    reader: Reader,
    format: Format,
    /// No message written yet (JSON needs commas between them).
    first: bool,
}

impl Writer {
    fn head(&self) -> Result<String, ApiError> {
        let mut out = String::new();
        match self.format {
            Format::Json => {
                let chat = serde_json::to_string(&self.chat).map_err(|_| ApiError::internal())?;
                let _ = write!(out, "{{\"chat\":{chat},\"messages\":[");
            }
            Format::Text => {
                let chat = &self.chat;
                let fmt = time::format_description::well_known::Rfc3339;
                let _ = writeln!(out, "Chat {} with {}", chat.id, chat.customer.name);
                if let Some(e) = &chat.customer.email {
                    let _ = writeln!(out, "Email: {e}");
                }
                let _ = writeln!(
                    out,
                    "Status: {}   Started: {}",
                    chat.status.as_str(),
                    chat.created_at.format(&fmt).unwrap_or_default()
                );
                if let Some(r) = &chat.rating {
                    let _ = writeln!(
                        out,
                        "Rating: {}/5 {}",
                        r.score,
                        r.comment.clone().unwrap_or_default()
                    );
                }
                let _ = writeln!(out);
            }
        }
        Ok(out)
    }

    fn message(&mut self, out: &mut String, m: &Message) {
        match self.format {
            Format::Json => {
                if !self.first {
                    out.push(',');
                }
                if let Ok(json) = serde_json::to_string(&m) {
                    out.push_str(&json);
                }
            }
            Format::Text => {
                let fmt = time::format_description::well_known::Rfc3339;
                let when = m.created_at.format(&fmt).unwrap_or_default();
                let who = match (m.kind, m.author.kind) {
                    (MessageKind::Note, _) => format!("[internal note] {}", m.author.name),
                    (MessageKind::Event, _) | (_, AuthorKind::System) => "*".to_owned(),
                    (_, AuthorKind::Agent) => format!("{} (agent)", m.author.name),
                    (_, AuthorKind::Customer) => format!("{} (customer)", m.author.name),
                };
                let _ = writeln!(out, "[{when}] #{} {who}: {}", m.seq, m.body);
            }
        }
        self.first = false;
    }

    fn tail(&self) -> &'static str {
        match self.format {
            Format::Json => "]}",
            Format::Text => "",
        }
    }

    /// The messages with `seq` in `(after, after + window]`, in the reader's numbering
    /// (the chat's seq for agents, the visitor's own for a visitor). Both reads answer
    /// the newest `limit` before a number, and a window holds at most `limit` numbers,
    /// so asking for those before `after + window + 1` returns the whole window.
    async fn window(&mut self, after: Seq) -> Result<String, ApiError> {
        let size = Seq::from(MAX_MESSAGE_LIMIT);
        let before = Some(after + size + 1);
        let store = &self.state.store;
        let page = match self.reader {
            Reader::Agent => {
                store
                    .messages(&self.chat.id, before, MAX_MESSAGE_LIMIT, true)
                    .await?
            }
            Reader::Visitor => {
                store
                    .visitor_messages(&self.chat.id, before, MAX_MESSAGE_LIMIT)
                    .await?
            }
        };
        let mut out = String::new();
        for m in page.iter().filter(|m| m.seq > after) {
            self.message(&mut out, m);
        }
        Ok(out)
    }
}

/// The transcript of `chat` as a streamed response. `chat` is shown as given (the
/// visitor's view for a visitor); messages after `last_seq` (in the reader's
/// numbering; sent while it streams) are not included.
pub fn response(
    state: AppState,
    chat: Chat,
    last_seq: Seq,
    reader: Reader,
    format: Format,
) -> Response {
    let (content_type, disposition) = match format {
        Format::Json => ("application/json", None),
        Format::Text => (
            "text/plain; charset=utf-8",
            Some(format!("attachment; filename=\"chat-{}.txt\"", chat.id)),
        ),
    };
    let writer = Writer {
        state,
        chat,
        last_seq,
        reader,
        format,
        first: true,
    };
    let stream = futures_util::stream::unfold((Part::Head, writer), |(part, mut w)| async move {
        let size = Seq::from(MAX_MESSAGE_LIMIT);
        let (chunk, next) = match part {
            Part::Done => return None,
            Part::Head => (w.head(), Part::After(0)),
            Part::After(after) if after >= w.last_seq => (Ok(w.tail().to_owned()), Part::Done),
            Part::After(after) => (w.window(after).await, Part::After(after + size)),
        };
        let item = match chunk {
            Ok(text) => Ok(Bytes::from(text)),
            Err(e) => {
                // The status is sent already: end the body early so the client sees an
                // incomplete transfer instead of a short transcript.
                tracing::warn!(error = %e.message, "transcript stream stopped");
                return Some((Err(std::io::Error::other(e.message)), (Part::Done, w)));
            }
        };
        Some((item, (next, w)))
    });
    let mut res = Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    if let Some(d) = disposition.and_then(|d| header::HeaderValue::from_str(&d).ok()) {
        headers.insert(header::CONTENT_DISPOSITION, d);
    }
    res
}
