//! What the writes share inside the writer's transaction: locking and loading a
//! chat, message inserts, chat events and notifications.
//!
//! Nothing is cached between writes: other nodes write the same tables, so every
//! write reads what it decides on inside its own transaction, under the locks that
//! keep it true until the commit.

use shared::ApiError;
use shared::events::{ChatEvent, MessageEvent, NotificationEvent, ServerEvent};
use shared::model::{
    Agent, Attachment, Author, AuthorKind, Chat, ChatStatus, Customer, Message, MessageKind,
    Notification, Seq,
};
use sqlx::{AssertSqlSafe, Row};
use std::str::FromStr;

use super::rows::{self, MESSAGE_BY_CLIENT_ID, decode_err, message_row};
use super::{PgResult, Tx};
use crate::domain::audience::next_customer_seq;
use crate::domain::chat::{self, ChatCore};
use crate::store::fail::{Fail, inconsistent};
use crate::store::{
    Actor, Audience, Published, VisitorNumbers, customer_message, customer_view, new_id, now_ms, ts,
};

impl Tx {
    /// The chat's counters in its visitor's numbering.
    pub(super) async fn visitor_numbers(&mut self, chat_id: &str) -> PgResult<VisitorNumbers> {
        rows::visitor_numbers(self.conn(), chat_id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no chat {chat_id:?}")).into())
    }

    /// The visitor's number at or before `seq` of the chat (0 before any).
    pub(super) async fn customer_seq_at(&mut self, chat_id: &str, seq: Seq) -> PgResult<Seq> {
        Ok(rows::customer_seq_at(self.conn(), chat_id, seq).await?)
    }

    /// A visible message as its visitor receives it.
    pub(super) async fn visitor_message(&mut self, m: &Message) -> PgResult<Message> {
        let cseq = self.customer_seq_at(&m.chat_id, m.seq).await?;
        Ok(customer_message(m, cseq))
    }

    /// A chat as its visitor sees it.
    pub(super) async fn visitor_chat(&mut self, chat: &Chat) -> PgResult<Chat> {
        let numbers = self.visitor_numbers(&chat.id).await?;
        Ok(customer_view(chat, &numbers))
    }

    /// The chat's write-relevant state, its row locked until the commit (after the
    /// event lock), so that its `seq`, status and assignee stay what the write saw.
    pub(super) async fn lock_chat(&mut self, id: &str) -> PgResult<ChatCore> {
        self.lock_events().await?;
        let row = sqlx::query(
            "SELECT customer_id, department_id, status, assignee_id, last_seq, tags \
             FROM chats WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        let Some(r) = row else {
            return Err(ApiError::not_found(format!("no chat {id:?}")).into());
        };
        let tags: &str = r.try_get(5)?;
        Ok(ChatCore {
            customer_id: r.try_get(0)?,
            department_id: r.try_get(1)?,
            status: ChatStatus::from_str(r.try_get(2)?).map_err(|_| decode_err("chat status"))?,
            assignee_id: r.try_get(3)?,
            last_seq: r.try_get(4)?,
            tags: serde_json::from_str(tags)?,
        })
    }

    pub(super) async fn load_chat(&mut self, id: &str) -> PgResult<Option<Chat>> {
        Ok(rows::load_chat(self.conn(), id).await?)
    }

    pub(super) async fn reload_chat(&mut self, id: &str) -> PgResult<Chat> {
        self.load_chat(id)
            .await?
            .ok_or_else(|| inconsistent("chat vanished"))
    }

    pub(super) async fn load_agent(&mut self, id: &str) -> PgResult<Option<Agent>> {
        Ok(rows::load_agent(self.conn(), id).await?)
    }

    pub(super) async fn load_customer(&mut self, id: &str) -> PgResult<Option<Customer>> {
        Ok(rows::load_customer(self.conn(), id).await?)
    }

    /// The chat a customer means: the one named (theirs), else their open one.
    pub(super) async fn customer_chat_id(
        &mut self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> PgResult<String> {
        Ok(rows::customer_chat_id(self.conn(), customer_id, chat_id).await??)
    }

    /// A customer's display name and whether they are blocked.
    pub(super) async fn customer_brief(&mut self, id: &str) -> PgResult<(String, bool)> {
        let brief: Option<(String, bool)> =
            sqlx::query_as("SELECT name, blocked FROM customers WHERE id = $1")
                .bind(id)
                .fetch_optional(self.conn())
                .await?;
        brief.ok_or_else(|| ApiError::unauthorized("unknown visitor").into())
    }

    /// The files `ids` uploaded by this author and not yet sent, in order.
    pub(super) async fn unsent_attachments(
        &mut self,
        owner_kind: &str,
        owner_id: &str,
        ids: &[String],
    ) -> PgResult<Vec<Attachment>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
                "SELECT name, content_type, size, message_id FROM attachments \
                 WHERE id = $1 AND owner_kind = $2 AND owner_id = $3 FOR UPDATE",
            )
            .bind(id)
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_optional(self.conn())
            .await?;
            let Some((name, content_type, size, message_id)) = row else {
                return Err(ApiError::invalid(format!("no upload {id:?} of yours")).into());
            };
            if message_id.is_some() {
                return Err(ApiError::invalid(format!("upload {id:?} was already sent")).into());
            }
            out.push(Attachment {
                id: id.clone(),
                name,
                content_type,
                size: u64::try_from(size).unwrap_or(0),
                url: format!("/api/v1/attachments/{id}"),
            });
        }
        Ok(out)
    }

    /// Logs and queues `chat:created`/`chat:updated` for agents (and the customer).
    pub(super) async fn chat_event(
        &mut self,
        created: bool,
        chat: &Chat,
        prev_department_id: Option<String>,
        to_customer: bool,
    ) -> PgResult<()> {
        let mut audience = Audience::of_chat(
            &chat.department_id,
            prev_department_id,
            chat.assignee_id.clone(),
        );
        let payload = serde_json::to_string(chat)?;
        let cview = if to_customer {
            Some(self.visitor_chat(chat).await?)
        } else {
            None
        };
        let cpayload = cview.as_ref().map(serde_json::to_string).transpose()?;
        let name = if created {
            shared::events::CHAT_CREATED
        } else {
            shared::events::CHAT_UPDATED
        };
        let customer = cpayload.as_deref().map(|p| (chat.customer.id.as_str(), p));
        let event_id = self.event(name, &payload, &audience, customer).await?;
        if let Some(cv) = cview {
            audience.customer = Some((
                chat.customer.id.clone(),
                ServerEvent::ChatUpdated(ChatEvent { event_id, chat: cv }),
            ));
        }
        let ev = ChatEvent {
            event_id,
            chat: chat.clone(),
        };
        let event = if created {
            ServerEvent::ChatCreated(ev)
        } else {
            ServerEvent::ChatUpdated(ev)
        };
        self.publish(Published { event, audience });
        Ok(())
    }

    /// Inserts a message with the next seq, logs `message:new`, updates the chat.
    pub(super) async fn insert_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
    ) -> PgResult<Message> {
        self.insert_message_with(chat_id, core, client_msg_id, author, kind, body, Vec::new())
            .await
    }

    /// Inserts a message (with files already uploaded by its author), logs
    /// `message:new` and updates the chat. `core` must come from [`Tx::lock_chat`]:
    /// the row lock is what makes `last_seq + 1` the next seq on every node. A resend
    /// of a stored `client_msg_id` inserts nothing and answers the original.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_message_with(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
        attachments: Vec<Attachment>,
    ) -> PgResult<Message> {
        let seq = core.last_seq + 1;
        // The chat's row is locked (`lock_chat`), so its count of visible messages holds.
        let visible_before: Seq =
            sqlx::query_scalar("SELECT customer_last_seq FROM chats WHERE id = $1")
                .bind(chat_id)
                .fetch_one(self.conn())
                .await?;
        let customer_seq = next_customer_seq(visible_before, kind);
        let now = now_ms();
        let id = new_id();
        let attachments_json = serde_json::to_string(&attachments)?;
        let inserted = sqlx::query(
            "INSERT INTO messages (id, chat_id, seq, client_msg_id, author_kind, author_id, \
             author_name, kind, body, attachments, created_at, customer_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (chat_id, client_msg_id) DO NOTHING",
        )
        .bind(&id)
        .bind(chat_id)
        .bind(seq)
        .bind(client_msg_id)
        .bind(author.kind.as_str())
        .bind(&author.id)
        .bind(&author.name)
        .bind(kind.as_str())
        .bind(body)
        .bind(&attachments_json)
        .bind(now)
        .bind(customer_seq)
        .execute(self.conn())
        .await?
        .rows_affected();
        if inserted == 0 {
            return self
                .existing_message(chat_id, client_msg_id, &author)
                .await?
                .ok_or_else(|| inconsistent("duplicate message vanished"));
        }
        let from_customer = author.kind == AuthorKind::Customer;
        let public = kind != MessageKind::Note;
        sqlx::query(
            "UPDATE chats SET last_seq = $1, last_message_at = $2, last_message_id = $3, \
             last_public_message_id = CASE WHEN $4 THEN $3 ELSE last_public_message_id END, \
             unread_count = unread_count + $5, customer_last_seq = $7 WHERE id = $6",
        )
        .bind(seq)
        .bind(now)
        .bind(&id)
        .bind(public)
        .bind(i64::from(from_customer))
        .bind(chat_id)
        .bind(customer_seq)
        .execute(self.conn())
        .await?;
        core.last_seq = seq;
        for a in &attachments {
            sqlx::query("UPDATE attachments SET chat_id = $1, message_id = $2 WHERE id = $3")
                .bind(chat_id)
                .bind(&id)
                .bind(&a.id)
                .execute(self.conn())
                .await?;
        }
        let message = Message {
            id,
            chat_id: chat_id.to_owned(),
            seq,
            client_msg_id: client_msg_id.to_owned(),
            author,
            kind,
            body: body.to_owned(),
            attachments,
            created_at: ts(now),
        };
        let payload = serde_json::to_string(&message)?;
        let mut audience = Audience::of_chat(&core.department_id, None, core.assignee_id.clone());
        let cmessage = public.then(|| customer_message(&message, customer_seq));
        let cpayload = cmessage.as_ref().map(serde_json::to_string).transpose()?;
        let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
        let event_id = self
            .event(shared::events::MESSAGE_NEW, &payload, &audience, customer)
            .await?;
        if let Some(cm) = cmessage {
            audience.customer = Some((
                core.customer_id.clone(),
                ServerEvent::MessageNew(MessageEvent {
                    event_id,
                    message: cm,
                }),
            ));
        }
        self.publish(Published {
            event: ServerEvent::MessageNew(MessageEvent {
                event_id,
                message: message.clone(),
            }),
            audience,
        });
        Ok(message)
    }

    /// The name of the agent holding the chat, if someone does.
    pub(super) async fn assignee_name(&mut self, core: &ChatCore) -> PgResult<Option<String>> {
        match &core.assignee_id {
            Some(id) => Ok(sqlx::query_scalar("SELECT name FROM agents WHERE id = $1")
                .bind(id)
                .fetch_optional(self.conn())
                .await?),
            None => Ok(None),
        }
    }

    pub(super) async fn existing_message(
        &mut self,
        chat_id: &str,
        client_msg_id: &str,
        author: &Author,
    ) -> PgResult<Option<Message>> {
        let row = sqlx::query(AssertSqlSafe(MESSAGE_BY_CLIENT_ID.as_str()))
            .bind(chat_id)
            .bind(client_msg_id)
            .fetch_optional(self.conn())
            .await?;
        match row.as_ref().map(message_row).transpose()? {
            Some(m) => Ok(Some(crate::domain::chat::resend(m, author)?)),
            None => Ok(None),
        }
    }

    pub(super) async fn system_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        body: String,
    ) -> PgResult<Message> {
        let author = Author {
            kind: AuthorKind::System,
            id: "system".into(),
            name: "System".into(),
        };
        self.insert_message(chat_id, core, &new_id(), author, MessageKind::Event, &body)
            .await
    }

    pub(super) async fn notify(
        &mut self,
        agent_id: &str,
        notification: Notification,
    ) -> PgResult<()> {
        let payload = serde_json::to_string(&notification)?;
        let audience = Audience::agent(agent_id);
        let event_id = self
            .event(shared::events::NOTIFICATION, &payload, &audience, None)
            .await?;
        self.publish(Published {
            event: ServerEvent::Notification(NotificationEvent {
                event_id,
                notification,
            }),
            audience,
        });
        Ok(())
    }
}

pub(super) fn agent_author(actor: &Actor) -> Author {
    Author {
        kind: AuthorKind::Agent,
        id: actor.id.clone(),
        name: actor.name.clone(),
    }
}

pub(super) fn check_access(actor: &Actor, core: &ChatCore, chat_id: &str) -> PgResult<()> {
    Ok(chat::check_access(actor, core, chat_id)?)
}

/// A failed statement that broke the unique index `constraint` becomes `refusal`
/// (another node stored the same key first); any other failure stays a storage error.
pub(super) fn unique_or(e: sqlx::Error, constraint: &str, refusal: ApiError) -> Fail {
    match e.as_database_error() {
        Some(d) if d.is_unique_violation() && d.constraint() == Some(constraint) => {
            Fail::Api(refusal)
        }
        _ => Fail::from(e),
    }
}
