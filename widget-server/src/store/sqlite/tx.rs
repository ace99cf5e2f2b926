//! Reads and writes the operations share inside the writer's transaction: the chat
//! and customer cache, message inserts, events and notifications.

use super::*;

impl Tx<'_> {
    pub(super) fn load_chat(&self, id: &str) -> WResult<Option<Chat>> {
        Ok(self
            .conn
            .prepare_cached(&CHAT_BY_ID)?
            .query_row([id], |r| chat_row(r))
            .optional()?)
    }

    pub(super) fn load_agent(&self, id: &str) -> WResult<Option<Agent>> {
        Ok(self
            .conn
            .prepare_cached(&AGENT_BY_ID)?
            .query_row([id], |r| agent_row(r))
            .optional()?)
    }

    pub(super) fn load_customer(&self, id: &str) -> WResult<Option<Customer>> {
        Ok(self
            .conn
            .prepare_cached(&CUSTOMER_BY_ID)?
            .query_row([id], |r| customer_at(r, 0))
            .optional()?)
    }

    pub(super) fn customer_chat_id(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> WResult<String> {
        match chat_id {
            Some(id) => owned_chat(id, self.opt_one(CHAT_OWNER_SQL, [id])?, customer_id),
            None => open_chat(self.opt_one(OPEN_CHAT_SQL, [customer_id])?),
        }
    }

    pub(super) fn chat_core(&self, id: &str) -> WResult<ChatCore> {
        let core = self
            .conn
            .prepare_cached(
                "SELECT customer_id, department_id, status, assignee_id, last_seq, tags FROM chats WHERE id = ?",
            )?
            .query_row([id], |r| {
                Ok(ChatCore {
                    customer_id: r.get(0)?,
                    department_id: r.get(1)?,
                    status: ChatStatus::from_str(r.str_at(2)?)
                        .map_err(|_| bad::<rusqlite::Row<'_>>("chat status"))?,
                    assignee_id: r.get(3)?,
                    last_seq: r.get(4)?,
                    tags: r.json_at(5)?,
                })
            })
            .optional()?;
        core.ok_or_else(|| ApiError::not_found(format!("no chat {id:?}")).into())
    }

    /// The name of the agent holding the chat, if someone does.
    pub(super) fn assignee_name(&self, core: &ChatCore) -> WResult<Option<String>> {
        match &core.assignee_id {
            Some(id) => self.opt_one("SELECT name FROM agents WHERE id = ?", [id]),
            None => Ok(None),
        }
    }

    /// The chat's write-relevant state, from the cache when it is there.
    pub(super) fn core(&mut self, id: &str) -> WResult<ChatCore> {
        if let Some(c) = self.cache.chats.get(id) {
            return Ok(c.clone());
        }
        let c = self.chat_core(id)?;
        self.cache.chats.insert(id.to_owned(), c.clone());
        Ok(c)
    }

    /// Call after changing a chat's status, assignee, department or tags.
    pub(super) fn forget_chat(&mut self, id: &str) {
        self.cache.chats.remove(id);
    }

    /// A customer's display name and whether they are blocked.
    pub(super) fn customer_brief(&mut self, id: &str) -> WResult<(String, bool)> {
        if let Some(c) = self.cache.customers.get(id) {
            return Ok(c.clone());
        }
        let brief = self
            .conn
            .prepare_cached("SELECT name, blocked FROM customers WHERE id = ?")?
            .query_row([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? != 0))
            })
            .optional()?;
        let Some(brief) = brief else {
            return Err(ApiError::unauthorized("unknown visitor").into());
        };
        self.cache.customers.insert(id.to_owned(), brief.clone());
        Ok(brief)
    }

    pub(super) fn forget_customer(&mut self, id: &str) {
        self.cache.customers.remove(id);
    }

    /// The files `ids` uploaded by this author and not yet sent, in order.
    pub(super) fn unsent_attachments(
        &mut self,
        owner_kind: &str,
        owner_id: &str,
        ids: &[String],
    ) -> WResult<Vec<Attachment>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, content_type, size, message_id FROM attachments WHERE id = ? AND owner_kind = ? AND owner_id = ?",
        )?;
        for id in ids {
            let row = stmt
                .query_row(params![id, owner_kind, owner_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()?;
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

    /// The chat's counters in its visitor's numbering.
    pub(super) fn visitor_numbers(&self, chat_id: &str) -> WResult<VisitorNumbers> {
        let n = self
            .conn
            .prepare_cached(VISITOR_NUMBERS_SQL)?
            .query_row([chat_id], |r| {
                Ok(VisitorNumbers {
                    last_seq: r.get(0)?,
                    agent_read_seq: r.get(1)?,
                    customer_read_seq: r.get(2)?,
                })
            })
            .optional()?;
        n.ok_or_else(|| ApiError::not_found(format!("no chat {chat_id:?}")).into())
    }

    /// The visitor's number at or before `seq` of the chat (0 before any).
    pub(super) fn customer_seq_at(&self, chat_id: &str, seq: Seq) -> WResult<Seq> {
        self.one(CUSTOMER_SEQ_AT_SQL, params![chat_id, seq])
    }

    /// A visible message as its visitor receives it.
    pub(super) fn visitor_message(&self, m: &Message) -> WResult<Message> {
        Ok(customer_message(
            m,
            self.customer_seq_at(&m.chat_id, m.seq)?,
        ))
    }

    /// A chat as its visitor sees it.
    pub(super) fn visitor_chat(&self, chat: &Chat) -> WResult<Chat> {
        Ok(customer_view(chat, &self.visitor_numbers(&chat.id)?))
    }

    /// Appends to the event log; `customer` is (customer id, customer-facing payload)
    /// when the customer may see the event.
    pub(super) fn event(
        &mut self,
        event_name: &str,
        payload: &str,
        audience: &Audience,
        customer: Option<(&str, &str)>,
    ) -> WResult<EventId> {
        let id = *self.last_event_id + 1;
        self.exec(
            "INSERT INTO events (id, name, payload, customer_payload, department_id, prev_department_id, agent_id, customer_id, broadcast, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                id,
                event_name,
                payload,
                customer.map(|(_, p)| p),
                audience.department_id.as_deref(),
                audience.prev_department_id.as_deref(),
                audience.agent_id.as_deref(),
                customer.map(|(c, _)| c),
                i64::from(audience.broadcast),
                now_ms(),
            ],
        )?;
        *self.last_event_id = id;
        Ok(id)
    }

    pub(super) fn audience_for(chat: &Chat, prev_department_id: Option<String>) -> Audience {
        Audience {
            department_id: Some(chat.department_id.clone()),
            prev_department_id,
            agent_id: chat.assignee_id.clone(),
            broadcast: false,
            customer: None,
        }
    }

    /// Logs and queues `chat:created`/`chat:updated` for agents (and the customer).
    pub(super) fn chat_event(
        &mut self,
        created: bool,
        chat: &Chat,
        prev_department_id: Option<String>,
        to_customer: bool,
    ) -> WResult<()> {
        let mut audience = Self::audience_for(chat, prev_department_id);
        let payload = serde_json::to_string(chat)?;
        let cview = if to_customer {
            Some(self.visitor_chat(chat)?)
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
        let event_id = self.event(name, &payload, &audience, customer)?;
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
        self.publish.push(Published { event, audience });
        Ok(())
    }

    /// Inserts a message with the next seq, logs `message:new`, updates the chat.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
    ) -> WResult<Message> {
        self.insert_message_with(chat_id, core, client_msg_id, author, kind, body, Vec::new())
    }

    /// Inserts a message (with files already uploaded by its author), logs
    /// `message:new` and updates the chat. A resend of a stored `client_msg_id`
    /// inserts nothing and answers the original.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_message_with(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
        attachments: Vec<Attachment>,
    ) -> WResult<Message> {
        let seq = core.last_seq + 1;
        let visible_before: Seq = self.one(
            "SELECT customer_last_seq FROM chats WHERE id = ?",
            [chat_id],
        )?;
        let customer_seq = next_customer_seq(visible_before, kind);
        let now = now_ms();
        let id = new_id();
        let attachments_json = serde_json::to_string(&attachments)?;
        // A resend of a stored client_msg_id inserts nothing and answers the original.
        let inserted = self.exec(
            "INSERT INTO messages (id, chat_id, seq, customer_seq, client_msg_id, author_kind, author_id, author_name, kind, body, attachments, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, client_msg_id) DO NOTHING",
            params![
                id,
                chat_id,
                seq,
                customer_seq,
                client_msg_id,
                author.kind.as_str(),
                author.id,
                author.name,
                kind.as_str(),
                body,
                attachments_json,
                now,
            ],
        )?;
        if inserted == 0 {
            return self
                .existing_message(chat_id, client_msg_id, &author)?
                .ok_or_else(|| inconsistent("duplicate message vanished"));
        }
        let from_customer = author.kind == AuthorKind::Customer;
        let public = kind != MessageKind::Note;
        self.exec(
            "UPDATE chats SET last_seq = ?, customer_last_seq = ?, last_message_at = ?, last_message_id = ?, \
             last_public_message_id = CASE WHEN ? THEN ? ELSE last_public_message_id END, \
             unread_count = unread_count + ? WHERE id = ?",
            params![seq, customer_seq, now, id, public, id, i64::from(from_customer), chat_id],
        )?;
        core.last_seq = seq;
        for a in &attachments {
            self.exec(
                "UPDATE attachments SET chat_id = ?, message_id = ? WHERE id = ?",
                params![chat_id, id, a.id],
            )?;
        }
        if let Some(c) = self.cache.chats.get_mut(chat_id) {
            c.last_seq = seq;
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
        let mut audience = Audience {
            department_id: Some(core.department_id.clone()),
            prev_department_id: None,
            agent_id: core.assignee_id.clone(),
            broadcast: false,
            customer: None,
        };
        let cmessage = public.then(|| customer_message(&message, customer_seq));
        let cpayload = cmessage.as_ref().map(serde_json::to_string).transpose()?;
        let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
        let event_id = self.event(shared::events::MESSAGE_NEW, &payload, &audience, customer)?;
        if let Some(cm) = cmessage {
            audience.customer = Some((
                core.customer_id.clone(),
                ServerEvent::MessageNew(MessageEvent {
                    event_id,
                    message: cm,
                }),
            ));
        }
        self.publish.push(Published {
            event: ServerEvent::MessageNew(MessageEvent {
                event_id,
                message: message.clone(),
            }),
            audience,
        });
        Ok(message)
    }

    /// The message the chat already holds under `client_msg_id`, if `author` wrote it;
    /// `conflict` if someone else did (`chat::resend`).
    pub(super) fn existing_message(
        &self,
        chat_id: &str,
        client_msg_id: &str,
        author: &Author,
    ) -> WResult<Option<Message>> {
        let stored = self
            .conn
            .prepare_cached(&MESSAGE_BY_CLIENT_ID)?
            .query_row([chat_id, client_msg_id], |r| message_row(r))
            .optional()?;
        match stored {
            Some(m) => Ok(Some(chat::resend(m, author)?)),
            None => Ok(None),
        }
    }

    pub(super) fn system_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        body: String,
    ) -> WResult<Message> {
        let author = Author {
            kind: AuthorKind::System,
            id: "system".into(),
            name: "System".into(),
        };
        self.insert_message(chat_id, core, &new_id(), author, MessageKind::Event, &body)
    }

    pub(super) fn reload_chat(&self, id: &str) -> WResult<Chat> {
        self.load_chat(id)?
            .ok_or_else(|| inconsistent("chat vanished"))
    }

    pub(super) fn notify(&mut self, agent_id: &str, notification: Notification) -> WResult<()> {
        let payload = serde_json::to_string(&notification)?;
        let audience = Audience {
            agent_id: Some(agent_id.to_owned()),
            ..Audience::default()
        };
        let event_id = self.event(shared::events::NOTIFICATION, &payload, &audience, None)?;
        self.publish.push(Published {
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

pub(super) fn check_access(actor: &Actor, core: &ChatCore, chat_id: &str) -> WResult<()> {
    Ok(chat::check_access(actor, core, chat_id)?)
}
