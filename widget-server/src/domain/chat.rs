//! Chat decisions: from a snapshot of a chat (and the facts a backend loaded) to what
//! changes, the line the history shows and who is told, or the refusal.

use shared::ApiError;
use shared::limits::MAX_TAGS_PER_CHAT;
use shared::model::{Agent, Author, ChatStatus, Message, MessageKind, Notification, Seq};

use super::actor::{Actor, may_take_chat_of};

/// The state of a chat that writes check, without the joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCore {
    pub customer_id: String,
    pub department_id: String,
    pub status: ChatStatus,
    pub assignee_id: Option<String>,
    pub last_seq: Seq,
    pub tags: Vec<String>,
}

/// The actor may see and work this chat.
pub fn check_access(actor: &Actor, core: &ChatCore, chat_id: &str) -> Result<(), ApiError> {
    if actor.may_see_chat(&core.department_id, core.assignee_id.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "chat {chat_id:?} is not in your departments and not assigned to you"
        )))
    }
}

/// May the actor send a message of `kind` now? Notes go anywhere the actor can see;
/// replies need the chat active and the actor its assignee (or overseeing it).
pub fn agent_send(actor: &Actor, core: &ChatCore, kind: MessageKind) -> Result<(), ApiError> {
    if kind == MessageKind::Note {
        return Ok(());
    }
    match core.status {
        ChatStatus::Closed => Err(ApiError::conflict(
            "this chat is closed; reopen it to reply",
        )),
        ChatStatus::Waiting => Err(ApiError::conflict("claim this chat before replying")),
        ChatStatus::Active if !actor.can_reply(core.status, core.assignee_id.as_deref()) => Err(
            ApiError::forbidden("this chat is assigned to another agent; add a note instead"),
        ),
        ChatStatus::Active => Ok(()),
    }
}

/// May the visitor write into this chat?
pub fn customer_send(core: &ChatCore, blocked: bool) -> Result<(), ApiError> {
    if blocked {
        return Err(ApiError::forbidden(
            "you have been blocked from sending messages",
        ));
    }
    if core.status == ChatStatus::Closed {
        return Err(ApiError::conflict(
            "this chat is closed; start a new one with chat:start",
        ));
    }
    Ok(())
}

/// A send whose `client_msg_id` the chat already holds (`stored`): the same author's
/// retry gets the stored message back, the idempotent answer; anyone else is refused
/// and nothing is stored, since answering would hand them a message that is not theirs
/// (an agent's internal note, say).
pub fn resend(stored: Message, author: &Author) -> Result<Message, ApiError> {
    if stored.author.kind == author.kind && stored.author.id == author.id {
        Ok(stored)
    } else {
        Err(ApiError::conflict(
            "client_msg_id is already used by another message; use a new one",
        ))
    }
}

/// What a claim does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The actor holds it already: nothing changes.
    AlreadyYours,
    /// Another agent holds it: refuse, naming them (`claim_conflict`).
    HeldByAnother,
    /// The actor takes it; the history says `line`.
    Take { line: String },
}

pub fn claim(actor: &Actor, core: &ChatCore) -> Result<Claim, ApiError> {
    match (core.status, core.assignee_id.as_deref()) {
        (ChatStatus::Active, Some(a)) if a == actor.id => Ok(Claim::AlreadyYours),
        (ChatStatus::Active, Some(_)) => Ok(Claim::HeldByAnother),
        (ChatStatus::Closed, _) => Err(ApiError::conflict("chat is closed; reopen it instead")),
        _ => Ok(Claim::Take {
            line: format!("{} joined the chat", actor.name),
        }),
    }
}

/// The refusal of a claim on a chat someone else holds.
pub fn claim_conflict(holder_name: Option<String>) -> ApiError {
    ApiError::conflict(format!(
        "chat already claimed by {}",
        holder_name.unwrap_or_else(|| "another agent".into())
    ))
}

/// What is done to a chat that takes it from whoever holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOff {
    Transfer,
    Close,
}

impl HandOff {
    fn verb(self) -> &'static str {
        match self {
            HandOff::Transfer => "transfer",
            HandOff::Close => "close",
        }
    }
}

/// A claimed chat is its assignee's: only they, a supervisor or an admin transfer or
/// close it (a colleague of the department adds a note instead). A waiting chat is
/// anyone's who may see it. `holder_name` is the assignee's name, for the refusal.
pub fn check_hand_off(
    actor: &Actor,
    core: &ChatCore,
    action: HandOff,
    holder_name: Option<&str>,
) -> Result<(), ApiError> {
    if actor.may_hand_off(core.assignee_id.as_deref()) {
        return Ok(());
    }
    let holder = holder_name.map(|n| format!(" ({n})")).unwrap_or_default();
    Err(ApiError::forbidden(format!(
        "only the assignee{holder}, a supervisor or an admin may {} this chat",
        action.verb()
    )))
}

/// Closing: the history line, or the refusal (`holder_name`: the assignee's name).
pub fn close(
    actor: &Actor,
    core: &ChatCore,
    holder_name: Option<&str>,
) -> Result<String, ApiError> {
    if core.status == ChatStatus::Closed {
        return Err(ApiError::conflict("chat is already closed"));
    }
    check_hand_off(actor, core, HandOff::Close, holder_name)?;
    Ok(format!("{} closed the chat", actor.name))
}

/// Reopening a closed chat gives it to the actor; a customer has one open chat at most
/// (`other_open`: the id of another open chat of theirs).
pub fn reopen(
    actor: &Actor,
    core: &ChatCore,
    other_open: Option<&str>,
) -> Result<String, ApiError> {
    if core.status != ChatStatus::Closed {
        return Err(ApiError::conflict("chat is not closed"));
    }
    if let Some(other) = other_open {
        return Err(ApiError::conflict(format!(
            "the customer already has an open chat ({other}); work that one"
        )));
    }
    Ok(format!("{} reopened the chat", actor.name))
}

/// The chat's tags after adding and removing; `None` when nothing changes.
pub fn retag(
    core: &ChatCore,
    add: &[String],
    remove: &[String],
) -> Result<Option<Vec<String>>, ApiError> {
    let mut tags = core.tags.clone();
    tags.retain(|x| !remove.contains(x));
    for a in add {
        if !tags.contains(a) {
            tags.push(a.clone());
        }
    }
    if tags.len() > MAX_TAGS_PER_CHAT {
        return Err(ApiError::invalid(format!(
            "a chat can have at most {MAX_TAGS_PER_CHAT} tags"
        )));
    }
    Ok((tags != core.tags).then_some(tags))
}

/// A read receipt must point into the chat.
pub fn check_read_seq(seq: Seq, last_seq: Seq) -> Result<(), ApiError> {
    if seq < 1 || seq > last_seq {
        return Err(ApiError::invalid(format!(
            "seq {seq} is outside the chat (1..={last_seq})"
        )));
    }
    Ok(())
}

/// A closed chat is reopened before it changes hands, and a claimed one changes
/// hands only by its assignee, a supervisor or an admin (`holder_name`: the
/// assignee's name, for the refusal).
pub fn check_transferable(
    actor: &Actor,
    core: &ChatCore,
    holder_name: Option<&str>,
) -> Result<(), ApiError> {
    if core.status == ChatStatus::Closed {
        return Err(ApiError::conflict(
            "chat is closed; reopen it before transferring",
        ));
    }
    check_hand_off(actor, core, HandOff::Transfer, holder_name)
}

/// Where a transfer goes, as the backend found it.
pub struct TransferTarget<'a> {
    /// The department named, with its name.
    pub department: Option<(&'a str, &'a str)>,
    /// The agent named.
    pub agent: Option<&'a Agent>,
}

/// What a transfer changes and says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPlan {
    pub department_id: String,
    pub assignee_id: Option<String>,
    pub status: ChatStatus,
    /// The department the chat left, when it changed (its agents hear of the move).
    pub prev_department_id: Option<String>,
    /// The internal handoff note, if one was given.
    pub handoff_note: Option<String>,
    /// The history line.
    pub line: String,
    /// The agent who receives the chat, told unless they transferred it themselves.
    pub notify: Option<String>,
}

pub fn transfer(
    actor: &Actor,
    core: &ChatCore,
    holder_name: Option<&str>,
    target: &TransferTarget<'_>,
    note: Option<&str>,
) -> Result<TransferPlan, ApiError> {
    check_transferable(actor, core, holder_name)?;
    let mut new_dept = core.department_id.clone();
    let mut target_name = String::new();
    if let Some((id, name)) = target.department {
        new_dept = id.to_owned();
        target_name = name.to_owned();
    }
    let mut new_assignee = None;
    if let Some(agent) = target.agent {
        if target.department.is_none() {
            new_dept = super::routing::department_for_agent(&new_dept, agent);
        }
        if !may_take_chat_of(agent.role, &agent.department_ids, &new_dept) {
            return Err(ApiError::invalid(format!(
                "{} is not in the target department",
                agent.name
            )));
        }
        target_name = agent.name.clone();
        new_assignee = Some(agent.id.clone());
    }
    if new_assignee.as_deref() == core.assignee_id.as_deref() && new_dept == core.department_id {
        return Err(ApiError::invalid("the chat is already there"));
    }
    let status = if new_assignee.is_some() {
        ChatStatus::Active
    } else {
        ChatStatus::Waiting
    };
    Ok(TransferPlan {
        prev_department_id: (core.department_id != new_dept).then(|| core.department_id.clone()),
        department_id: new_dept,
        notify: new_assignee.clone().filter(|a| *a != actor.id),
        assignee_id: new_assignee,
        status,
        handoff_note: note
            .filter(|n| !n.is_empty())
            .map(|n| format!("Handoff note: {n}")),
        line: format!("{} transferred the chat to {target_name}", actor.name),
    })
}

/// The notification of the agent who receives a transferred chat.
pub fn transfer_notification(actor: &Actor, customer_name: &str, chat_id: &str) -> Notification {
    Notification {
        kind: "chat_assigned".into(),
        title: format!("{} transferred a chat to you", actor.name),
        body: format!("Chat with {customer_name}"),
        chat_id: Some(chat_id.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{AgentStatus, AuthorKind, Role};

    fn ada() -> Actor {
        Actor {
            id: "ada".into(),
            name: "Ada".into(),
            role: Role::Agent,
            department_ids: vec!["sales".into()],
        }
    }

    fn core(status: ChatStatus, assignee: Option<&str>) -> ChatCore {
        ChatCore {
            customer_id: "c1".into(),
            department_id: "sales".into(),
            status,
            assignee_id: assignee.map(str::to_owned),
            last_seq: 3,
            tags: vec!["vip".into()],
        }
    }

    fn agent(id: &str, depts: &[&str]) -> Agent {
        Agent {
            id: id.into(),
            name: format!("Agent {id}"),
            email: format!("{id}@example.com"),
            role: Role::Agent,
            status: AgentStatus::Online,
            department_ids: depts.iter().map(|d| (*d).to_owned()).collect(),
            max_chats: 8,
            active_chats: 0,
        }
    }

    #[test]
    fn claim_takes_a_waiting_chat_and_refuses_a_held_or_closed_one() {
        assert_eq!(
            claim(&ada(), &core(ChatStatus::Waiting, None)),
            Ok(Claim::Take {
                line: "Ada joined the chat".into()
            })
        );
        assert_eq!(
            claim(&ada(), &core(ChatStatus::Active, Some("ada"))),
            Ok(Claim::AlreadyYours)
        );
        assert_eq!(
            claim(&ada(), &core(ChatStatus::Active, Some("bob"))),
            Ok(Claim::HeldByAnother)
        );
        assert!(claim(&ada(), &core(ChatStatus::Closed, None)).is_err());
        assert_eq!(
            claim_conflict(Some("Bob".into())).message,
            "chat already claimed by Bob"
        );
    }

    #[test]
    fn replies_need_an_active_chat_of_yours_and_notes_go_anywhere() {
        let a = ada();
        assert!(
            agent_send(
                &a,
                &core(ChatStatus::Active, Some("ada")),
                MessageKind::Text
            )
            .is_ok()
        );
        assert!(
            agent_send(
                &a,
                &core(ChatStatus::Active, Some("bob")),
                MessageKind::Text
            )
            .is_err()
        );
        assert!(agent_send(&a, &core(ChatStatus::Waiting, None), MessageKind::Text).is_err());
        assert!(agent_send(&a, &core(ChatStatus::Closed, None), MessageKind::Note).is_ok());
    }

    #[test]
    fn a_visitor_cannot_write_into_a_closed_chat_or_while_blocked() {
        assert!(customer_send(&core(ChatStatus::Active, None), false).is_ok());
        assert!(customer_send(&core(ChatStatus::Closed, None), false).is_err());
        assert!(customer_send(&core(ChatStatus::Waiting, None), true).is_err());
    }

    #[test]
    fn reopen_refuses_while_the_customer_has_another_open_chat() {
        let closed = core(ChatStatus::Closed, Some("ada"));
        assert_eq!(
            reopen(&ada(), &closed, None).as_deref(),
            Ok("Ada reopened the chat")
        );
        assert!(reopen(&ada(), &closed, Some("c2")).is_err());
        assert!(reopen(&ada(), &core(ChatStatus::Active, None), None).is_err());
    }

    #[test]
    fn retag_adds_removes_and_caps() {
        let c = core(ChatStatus::Active, None);
        assert_eq!(retag(&c, &["vip".into()], &[]), Ok(None));
        assert_eq!(
            retag(&c, &["late".into()], &["vip".into()]),
            Ok(Some(vec!["late".into()]))
        );
        let many: Vec<String> = (0..=MAX_TAGS_PER_CHAT).map(|i| format!("t{i}")).collect();
        assert!(retag(&c, &many, &[]).is_err());
    }

    #[test]
    fn read_receipts_must_point_into_the_chat() {
        assert!(check_read_seq(1, 3).is_ok());
        assert!(check_read_seq(0, 3).is_err());
        assert!(check_read_seq(4, 3).is_err());
    }

    #[test]
    fn transfer_to_an_agent_of_another_department_moves_the_chat_there() {
        let bob = agent("bob", &["billing"]);
        let plan = transfer(
            &ada(),
            &core(ChatStatus::Active, Some("ada")),
            None,
            &TransferTarget {
                department: None,
                agent: Some(&bob),
            },
            Some("VIP"),
        )
        .expect("plan");
        assert_eq!(plan.department_id, "billing");
        assert_eq!(plan.prev_department_id.as_deref(), Some("sales"));
        assert_eq!(plan.assignee_id.as_deref(), Some("bob"));
        assert_eq!(plan.status, ChatStatus::Active);
        assert_eq!(plan.notify.as_deref(), Some("bob"));
        assert_eq!(plan.handoff_note.as_deref(), Some("Handoff note: VIP"));
        assert_eq!(plan.line, "Ada transferred the chat to Agent bob");
    }

    #[test]
    fn transfer_to_a_department_puts_the_chat_back_in_its_queue() {
        let plan = transfer(
            &ada(),
            &core(ChatStatus::Active, Some("ada")),
            None,
            &TransferTarget {
                department: Some(("billing", "Billing")),
                agent: None,
            },
            None,
        )
        .expect("plan");
        assert_eq!(plan.status, ChatStatus::Waiting);
        assert_eq!(plan.assignee_id, None);
        assert_eq!(plan.notify, None);
        assert_eq!(plan.handoff_note, None);
    }

    #[test]
    fn transfer_refuses_a_closed_chat_an_outsider_and_a_no_op() {
        let c = core(ChatStatus::Active, Some("ada"));
        let outsider = agent("eve", &["billing"]);
        let into_sales = TransferTarget {
            department: Some(("sales", "Sales")),
            agent: Some(&outsider),
        };
        assert!(transfer(&ada(), &c, None, &into_sales, None).is_err());
        let nowhere = TransferTarget {
            department: Some(("sales", "Sales")),
            agent: None,
        };
        let waiting = core(ChatStatus::Waiting, None);
        assert!(transfer(&ada(), &waiting, None, &nowhere, None).is_err());
        let closed = core(ChatStatus::Closed, None);
        assert!(transfer(&ada(), &closed, None, &nowhere, None).is_err());
    }

    fn sam() -> Actor {
        Actor {
            id: "sam".into(),
            name: "Sam".into(),
            role: Role::Supervisor,
            department_ids: vec!["sales".into()],
        }
    }

    #[test]
    fn a_colleague_can_neither_transfer_nor_close_a_claimed_chat() {
        let bobs = core(ChatStatus::Active, Some("bob"));
        let to_ada = agent("ada", &["sales"]);
        let to_ada = TransferTarget {
            department: None,
            agent: Some(&to_ada),
        };
        let refused = transfer(&ada(), &bobs, Some("Bob Agent"), &to_ada, None).unwrap_err();
        assert_eq!(refused.code, shared::ErrorCode::Forbidden);
        assert_eq!(
            refused.message,
            "only the assignee (Bob Agent), a supervisor or an admin may transfer this chat"
        );
        let refused = close(&ada(), &bobs, Some("Bob Agent")).unwrap_err();
        assert_eq!(refused.code, shared::ErrorCode::Forbidden);
        assert_eq!(
            refused.message,
            "only the assignee (Bob Agent), a supervisor or an admin may close this chat"
        );
        assert_eq!(
            check_transferable(&ada(), &bobs, None).unwrap_err().message,
            "only the assignee, a supervisor or an admin may transfer this chat"
        );
    }

    #[test]
    fn the_assignee_or_a_supervisor_transfers_and_closes_a_claimed_chat() {
        let bobs = core(ChatStatus::Active, Some("bob"));
        let bob = Actor {
            id: "bob".into(),
            name: "Bob".into(),
            ..ada()
        };
        let to_ada = agent("ada", &["sales"]);
        let to_ada = TransferTarget {
            department: None,
            agent: Some(&to_ada),
        };
        for who in [&bob, &sam()] {
            let plan = transfer(who, &bobs, Some("Bob"), &to_ada, None).expect("plan");
            assert_eq!(plan.assignee_id.as_deref(), Some("ada"));
            assert!(close(who, &bobs, Some("Bob")).is_ok());
        }
    }

    #[test]
    fn a_waiting_chat_is_transferred_or_closed_by_anyone_who_sees_it() {
        let waiting = core(ChatStatus::Waiting, None);
        let to_bob = agent("bob", &["sales"]);
        let to_bob = TransferTarget {
            department: None,
            agent: Some(&to_bob),
        };
        assert!(transfer(&ada(), &waiting, None, &to_bob, None).is_ok());
        assert_eq!(
            close(&ada(), &waiting, None).as_deref(),
            Ok("Ada closed the chat")
        );
        // A closed chat is refused as closed, whoever held it.
        let closed = core(ChatStatus::Closed, Some("bob"));
        let refused = close(&ada(), &closed, Some("Bob")).unwrap_err();
        assert_eq!(refused.code, shared::ErrorCode::Conflict);
        let refused = check_transferable(&ada(), &closed, Some("Bob")).unwrap_err();
        assert_eq!(refused.code, shared::ErrorCode::Conflict);
    }

    fn stored(kind: AuthorKind, id: &str) -> Message {
        Message {
            id: "m1".into(),
            chat_id: "c1".into(),
            seq: 4,
            client_msg_id: "retry-1".into(),
            author: Author {
                kind,
                id: id.into(),
                name: "Someone".into(),
            },
            kind: MessageKind::Note,
            body: "internal: the courier lost it".into(),
            attachments: vec![],
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn author(kind: AuthorKind, id: &str) -> Author {
        Author {
            kind,
            id: id.into(),
            name: "Whoever".into(),
        }
    }

    #[test]
    fn a_resent_client_msg_id_answers_its_own_author_only() {
        let note = stored(AuthorKind::Agent, "bob");
        assert_eq!(
            resend(note.clone(), &author(AuthorKind::Agent, "bob")),
            Ok(note.clone())
        );
        for other in [
            author(AuthorKind::Agent, "ada"),
            author(AuthorKind::Customer, "c1"),
            // The same id string, but another kind of author.
            author(AuthorKind::Customer, "bob"),
        ] {
            let refused = resend(note.clone(), &other).unwrap_err();
            assert_eq!(refused.code, shared::ErrorCode::Conflict);
            assert_eq!(
                refused.message,
                "client_msg_id is already used by another message; use a new one"
            );
        }
    }
}
