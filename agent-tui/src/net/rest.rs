//! The REST client: login, lists, history, customer profiles, transcripts. Every
//! answer goes through `sanitize::decode`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::canned::{CannedInput, CannedResponse};
use shared::model::{
    Agent, Attachment, Chat, ChatId, ChatStatus, CustomerProfile, Department, Items, Message, Page,
    Seq,
};
use shared::{ApiError, ErrorBody, ErrorCode};

use super::sanitize::{LoginAnswer, Sanitize, clean_error, decode};
use super::transcript::Transcript;

#[derive(Debug, Clone, thiserror::Error)]
pub enum RestError {
    #[error("{0}")]
    Api(ApiError),
    #[error("cannot reach the server: {0}")]
    Transport(String),
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl RestError {
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, RestError::Api(e) if e.code == ErrorCode::Unauthorized)
    }
    /// Words for the agent, cleaned whatever built the error.
    pub fn message(&self) -> String {
        match self {
            RestError::Api(e) => clean_error(&e.message),
            other => clean_error(&other.to_string()),
        }
    }
}

/// Waiting chats loaded at most (10 pages of 100).
const MAX_PAGES: u32 = 10;
/// Files move more slowly than JSON: up to 10 MiB each way.
const FILE_TIMEOUT: Duration = Duration::from_secs(120);
/// History page size.
pub const HISTORY_PAGE: u32 = 200;

#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Rest {
    pub fn new(server: &str) -> Result<Rest, RestError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("agent-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RestError::Transport(clean_error(&e.to_string())))?;
        Ok(Rest {
            http,
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token: None,
        })
    }

    pub fn with_token(mut self, token: String) -> Rest {
        self.token = Some(token);
        self
    }

    async fn send<T: DeserializeOwned + Sanitize>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, RestError> {
        let v = self.send_raw(req).await?;
        decode(v).map_err(RestError::Decode)
    }

    /// Sends with the session's token; the body on success, else the server's error.
    async fn fetch(&self, req: reqwest::RequestBuilder) -> Result<bytes::Bytes, RestError> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| RestError::Transport(root_cause(&e)))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| RestError::Transport(root_cause(&e)))?;
        if !status.is_success() {
            return Err(RestError::Api(error_from(status, &body)));
        }
        Ok(body)
    }

    async fn send_raw(&self, req: reqwest::RequestBuilder) -> Result<Value, RestError> {
        let body = self.fetch(req).await?;
        serde_json::from_slice(&body).map_err(|e| RestError::Decode(clean_error(&e.to_string())))
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        remember: bool,
    ) -> Result<LoginAnswer, RestError> {
        self.send(
            self.http
                .post(format!("{}/auth/login", self.base))
                .json(&json!({"email": email, "password": password, "remember_me": remember})),
        )
        .await
    }

    pub async fn logout(&self) -> Result<(), RestError> {
        self.send_raw(
            self.http
                .post(format!("{}/auth/logout", self.base))
                .json(&json!({})),
        )
        .await
        .map(|_| ())
    }

    pub async fn me(&self) -> Result<Agent, RestError> {
        self.send(self.http.get(format!("{}/auth/me", self.base)))
            .await
    }

    /// Waiting chats (every page up to 1,000), my active chats, or recent closed ones.
    pub async fn chats(&self, status: ChatStatus) -> Result<Vec<Chat>, RestError> {
        let mut out = Vec::new();
        let pages = if status == ChatStatus::Closed {
            1
        } else {
            MAX_PAGES
        };
        for page in 1..=pages {
            let mut q: Vec<(&str, String)> = vec![
                ("status", status.as_str().to_owned()),
                ("page", page.to_string()),
                ("per_page", "100".to_owned()),
            ];
            match status {
                ChatStatus::Active => q.push(("assignee", "me".into())),
                ChatStatus::Closed => {
                    q.push(("sort", "newest".into()));
                    q[2].1 = "50".into();
                }
                ChatStatus::Waiting => q.push(("sort", "wait".into())),
            }
            let p: Page<Chat> = self
                .send(self.http.get(format!("{}/chats", self.base)).query(&q))
                .await?;
            let n = p.items.len();
            out.extend(p.items);
            if n < p.per_page.max(1) as usize || out.len() as i64 >= p.total {
                break;
            }
        }
        Ok(out)
    }

    pub async fn chat(&self, id: &ChatId) -> Result<Chat, RestError> {
        self.send(self.http.get(format!("{}/chats/{id}", self.base)))
            .await
    }

    pub async fn messages(
        &self,
        id: &ChatId,
        before_seq: Option<Seq>,
    ) -> Result<Vec<Message>, RestError> {
        let mut q = vec![("limit", HISTORY_PAGE.to_string())];
        if let Some(b) = before_seq {
            q.push(("before_seq", b.to_string()));
        }
        let items: Items<Message> = self
            .send(
                self.http
                    .get(format!("{}/chats/{id}/messages", self.base))
                    .query(&q),
            )
            .await?;
        Ok(items.items)
    }

    pub async fn customer(&self, id: &str) -> Result<CustomerProfile, RestError> {
        self.send(self.http.get(format!("{}/customers/{id}", self.base)))
            .await
    }

    pub async fn agents(&self) -> Result<Vec<Agent>, RestError> {
        let p: Page<Agent> = self
            .send(
                self.http
                    .get(format!("{}/agents", self.base))
                    .query(&[("per_page", "100")]),
            )
            .await?;
        Ok(p.items)
    }

    pub async fn departments(&self) -> Result<Vec<Department>, RestError> {
        let p: Page<Department> = self
            .send(
                self.http
                    .get(format!("{}/departments", self.base))
                    .query(&[("per_page", "100")]),
            )
            .await?;
        Ok(p.items)
    }

    /// A report (`summary`, `agents`, `timeseries`, `ratings`) as the server sends
    /// it: JSON, CSV or XLSX bytes.
    pub async fn report(
        &self,
        kind: &str,
        query: &[(&str, String)],
    ) -> Result<bytes::Bytes, RestError> {
        self.fetch(
            self.http
                .get(format!("{}/reports/{kind}", self.base))
                .query(query),
        )
        .await
    }

    /// Every canned response the agent may use (their own and the team's).
    pub async fn canned(&self) -> Result<Vec<CannedResponse>, RestError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let p: Page<CannedResponse> = self
                .send(
                    self.http
                        .get(format!("{}/canned-responses", self.base))
                        .query(&[("page", page.to_string()), ("per_page", "100".into())]),
                )
                .await?;
            let n = p.items.len();
            out.extend(p.items);
            if n < p.per_page.max(1) as usize || out.len() as i64 >= p.total {
                break;
            }
        }
        Ok(out)
    }

    /// Knowledge-base search (ranked, with snippets): the first page.
    pub async fn kb_search(&self, q: &str) -> Result<Vec<shared::kb::ArticleHit>, RestError> {
        let p: Page<shared::kb::ArticleHit> = self
            .send(
                self.http
                    .get(format!("{}/kb/articles", self.base))
                    .query(&[("q", q), ("per_page", "50")]),
            )
            .await?;
        Ok(p.items)
    }

    /// Imports Markdown files with front matter (supervisors and admins).
    pub async fn kb_import(&self, files: &shared::kb::KbFiles) -> Result<(), RestError> {
        self.send_raw(
            self.http
                .post(format!("{}/kb/import", self.base))
                .json(files),
        )
        .await
        .map(|_| ())
    }

    /// One article (the server counts the read).
    pub async fn kb_article(&self, id: &str) -> Result<shared::kb::Article, RestError> {
        self.send(self.http.get(format!("{}/kb/articles/{id}", self.base)))
            .await
    }

    pub async fn create_canned(&self, input: &CannedInput) -> Result<CannedResponse, RestError> {
        self.send(
            self.http
                .post(format!("{}/canned-responses", self.base))
                .json(input),
        )
        .await
    }

    pub async fn delete_canned(&self, id: &str) -> Result<(), RestError> {
        self.send_raw(
            self.http
                .delete(format!("{}/canned-responses/{id}", self.base)),
        )
        .await
        .map(|_| ())
    }

    /// Uploads one file (at most 10 MiB, checked by the caller) for a later message.
    pub async fn upload(
        &self,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Attachment, RestError> {
        self.send(
            self.http
                .post(format!("{}/attachments", self.base))
                .query(&[("name", name)])
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .timeout(FILE_TIMEOUT)
                .body(bytes),
        )
        .await
    }

    /// A file's bytes (written to disk by the caller, never drawn).
    pub async fn download(&self, id: &str) -> Result<Vec<u8>, RestError> {
        let req = self
            .http
            .get(format!("{}/attachments/{id}", self.base))
            .timeout(FILE_TIMEOUT);
        Ok(self.fetch(req).await?.to_vec())
    }

    /// The chat and all its messages, for `:export` (`transcript::render` makes the
    /// text, so that every field is cleaned on its own).
    pub async fn transcript(&self, id: &ChatId) -> Result<Transcript, RestError> {
        self.send(
            self.http
                .get(format!("{}/chats/{id}/transcript", self.base))
                .query(&[("format", "json")]),
        )
        .await
    }
}

impl Rest {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path?query`, decoded and sanitised.
    pub async fn get_as<T: DeserializeOwned + Sanitize>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, RestError> {
        self.send(self.http.get(self.url(path)).query(query)).await
    }

    /// `POST path` with a JSON body, decoded and sanitised.
    pub async fn post_as<T: DeserializeOwned + Sanitize>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, RestError> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// `PATCH path` with a JSON body, decoded and sanitised.
    pub async fn patch_as<T: DeserializeOwned + Sanitize>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, RestError> {
        self.send(self.http.patch(self.url(path)).json(body)).await
    }

    pub async fn delete_path(&self, path: &str) -> Result<(), RestError> {
        self.fetch(self.http.delete(self.url(path)))
            .await
            .map(|_| ())
    }

    /// A body as text (an export), not yet cleaned: the caller cleans it.
    pub async fn get_text(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, RestError> {
        let body = self
            .fetch(self.http.get(self.url(path)).query(query))
            .await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// The server's `{"error"}` answer, sanitised, or a plain one naming the status.
fn error_from(status: reqwest::StatusCode, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(mut b) => {
            b.error.sanitize();
            b.error
        }
        Err(_) => ApiError::new(
            if status.as_u16() == 401 {
                ErrorCode::Unauthorized
            } else {
                ErrorCode::Internal
            },
            format!("the server answered {status}"),
        ),
    }
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s = inner.to_string();
        src = inner.source();
    }
    shared::text::sanitize_line(&s).into_owned()
}
