//! Who is asking, and every permission predicate the server applies to agents.

use shared::model::{Agent, ChatStatus, CustomerProfile, Role};

/// Who is asking: an authenticated agent with their current role and departments.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub department_ids: Vec<String>,
}

/// Which chats a list shows an agent; backends translate it into their query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatScope {
    /// Supervisors and admins: every chat.
    All,
    /// Chats of these departments, and chats assigned to this agent.
    Visible {
        agent_id: String,
        department_ids: Vec<String>,
    },
}

/// Supervisors and admins oversee every department.
pub fn oversees_all(role: Role) -> bool {
    role.sees_everything()
}

impl Actor {
    pub fn from_agent(a: &Agent) -> Self {
        Actor {
            id: a.id.clone(),
            name: a.name.clone(),
            role: a.role,
            department_ids: a.department_ids.clone(),
        }
    }

    /// Supervisors and admins see and work every chat.
    pub fn oversees_all(&self) -> bool {
        oversees_all(self.role)
    }

    /// May this agent see (and work) a chat of `department_id` assigned to `assignee`?
    pub fn may_see_chat(&self, department_id: &str, assignee: Option<&str>) -> bool {
        sees_chat(
            &self.id,
            self.role,
            &self.department_ids,
            department_id,
            assignee,
        )
    }

    /// What this agent reads of a customer's profile: the customer, and only those
    /// previous chats and tickets it may see (another department's, their ratings
    /// and comments included, stay out).
    pub fn profile_view(&self, mut profile: CustomerProfile) -> CustomerProfile {
        profile
            .previous_chats
            .retain(|c| self.may_see_chat(&c.department_id, c.assignee_id.as_deref()));
        profile
            .tickets
            .retain(|t| self.may_see_chat(&t.department_id, t.assignee_id.as_deref()));
        profile
    }

    /// May this agent reply to the customer (not just add a note) in a chat in this
    /// state? Only the assignee, a supervisor or an admin replies in an active chat.
    pub fn can_reply(&self, status: ChatStatus, assignee: Option<&str>) -> bool {
        status == ChatStatus::Active && (assignee == Some(self.id.as_str()) || self.oversees_all())
    }

    /// May this agent transfer or close a chat held by `assignee` (`None`: nobody
    /// holds it)? A waiting chat is open to anyone who may see it; a claimed one is
    /// its assignee's, and only a supervisor or an admin takes it from them.
    pub fn may_hand_off(&self, assignee: Option<&str>) -> bool {
        self.oversees_all() || assignee.is_none_or(|a| a == self.id)
    }

    /// Team canned responses are curated by supervisors and admins.
    pub fn can_manage_team_canned(&self) -> bool {
        self.oversees_all()
    }

    /// May this agent see or block any customer, whatever department they wrote to?
    pub fn sees_every_customer(&self) -> bool {
        self.oversees_all()
    }

    /// The chats a list shows this agent.
    pub fn chat_scope(&self) -> ChatScope {
        if self.oversees_all() {
            ChatScope::All
        } else {
            ChatScope::Visible {
                agent_id: self.id.clone(),
                department_ids: self.department_ids.clone(),
            }
        }
    }

    /// Joins the room that hears about every chat (supervisors and admins).
    pub fn follows_all_chats(&self) -> bool {
        self.oversees_all()
    }
}

/// May the agent `agent_id`, with this role and these departments, see a chat of
/// `department_id` assigned to `assignee`? Supervisors and admins see every chat; an
/// agent the chats of its departments and those assigned to it.
pub fn sees_chat(
    agent_id: &str,
    role: Role,
    department_ids: &[String],
    department_id: &str,
    assignee: Option<&str>,
) -> bool {
    oversees_all(role)
        || assignee == Some(agent_id)
        || department_ids.iter().any(|d| d == department_id)
}

/// May an agent with this role and these departments take a chat of `department_id`?
pub fn may_take_chat_of(role: Role, department_ids: &[String], department_id: &str) -> bool {
    oversees_all(role) || department_ids.iter().any(|d| d == department_id)
}

/// An agent works the chats of their departments, so an `agent` needs at least one;
/// supervisors and admins oversee every department and may have none.
pub fn check_agent_shape(role: Role, department_ids: &[String]) -> Result<(), shared::ApiError> {
    if role == Role::Agent && department_ids.is_empty() {
        return Err(shared::ApiError::invalid(
            "an agent needs at least one department (supervisors and admins may have none)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, depts: &[&str]) -> Actor {
        Actor {
            id: "a1".into(),
            name: "Ada".into(),
            role,
            department_ids: depts.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn an_agent_sees_chats_of_their_departments_and_their_own() {
        let a = actor(Role::Agent, &["sales"]);
        assert!(a.may_see_chat("sales", None));
        assert!(a.may_see_chat("billing", Some("a1")));
        assert!(!a.may_see_chat("billing", None));
        assert!(!a.may_see_chat("billing", Some("someone-else")));
    }

    #[test]
    fn supervisors_and_admins_see_every_chat() {
        for role in [Role::Supervisor, Role::Admin] {
            let a = actor(role, &[]);
            assert!(a.may_see_chat("billing", Some("x")));
            assert_eq!(a.chat_scope(), ChatScope::All);
            assert!(a.can_manage_team_canned());
        }
        assert!(!actor(Role::Agent, &["x"]).can_manage_team_canned());
    }

    #[test]
    fn only_the_assignee_or_a_supervisor_replies_in_an_active_chat() {
        let a = actor(Role::Agent, &["sales"]);
        assert!(a.can_reply(ChatStatus::Active, Some("a1")));
        assert!(!a.can_reply(ChatStatus::Active, Some("b")));
        assert!(!a.can_reply(ChatStatus::Waiting, None));
        assert!(actor(Role::Supervisor, &[]).can_reply(ChatStatus::Active, Some("b")));
        assert!(!actor(Role::Admin, &[]).can_reply(ChatStatus::Closed, Some("b")));
    }

    #[test]
    fn a_claimed_chat_changes_hands_only_by_its_assignee_or_a_supervisor() {
        let a = actor(Role::Agent, &["sales"]);
        assert!(a.may_hand_off(None), "a waiting chat is anyone's");
        assert!(a.may_hand_off(Some("a1")), "one's own chat");
        assert!(!a.may_hand_off(Some("bob")), "a colleague's chat");
        for role in [Role::Supervisor, Role::Admin] {
            assert!(actor(role, &[]).may_hand_off(Some("bob")));
        }
    }

    #[test]
    fn a_profile_lists_only_the_chats_its_reader_may_see() {
        use shared::model::{ChatSummary, Customer, Rating};
        let when = time::OffsetDateTime::UNIX_EPOCH;
        let summary = |id: &str, dept: &str, assignee: Option<&str>| ChatSummary {
            id: id.into(),
            status: ChatStatus::Closed,
            department_id: dept.into(),
            assignee_id: assignee.map(str::to_owned),
            created_at: when,
            last_message_at: when,
            message_count: 2,
            rating: Some(Rating {
                score: 1,
                comment: Some(format!("about {id}")),
            }),
        };
        let profile = CustomerProfile {
            customer: Customer {
                id: "c1".into(),
                name: "Vera".into(),
                email: None,
                phone: None,
                location: None,
                tags: vec![],
                custom_fields: Default::default(),
                blocked: false,
                created_at: when,
            },
            previous_chats: vec![
                summary("sales-chat", "sales", None),
                summary("billing-chat", "billing", Some("bob")),
                summary("handed-to-a1", "billing", Some("a1")),
            ],
            tickets: Vec::new(),
            notes: Vec::new(),
        };
        let ids = |p: CustomerProfile| -> Vec<String> {
            p.previous_chats.into_iter().map(|c| c.id).collect()
        };
        let agent = actor(Role::Agent, &["sales"]);
        assert_eq!(
            ids(agent.profile_view(profile.clone())),
            ["sales-chat", "handed-to-a1"]
        );
        let outsider = Actor {
            id: "carol".into(),
            ..actor(Role::Agent, &["support"])
        };
        assert!(ids(outsider.profile_view(profile.clone())).is_empty());
        assert_eq!(
            ids(actor(Role::Supervisor, &[]).profile_view(profile.clone())).len(),
            3
        );
        assert_eq!(agent.profile_view(profile).customer.id, "c1");
    }

    #[test]
    fn an_agent_list_scope_names_their_departments() {
        let a = actor(Role::Agent, &["sales", "support"]);
        assert_eq!(
            a.chat_scope(),
            ChatScope::Visible {
                agent_id: "a1".into(),
                department_ids: vec!["sales".into(), "support".into()]
            }
        );
    }

    #[test]
    fn an_agent_needs_a_department_and_overseers_do_not() {
        assert!(check_agent_shape(Role::Agent, &[]).is_err());
        assert!(check_agent_shape(Role::Agent, &["d1".into()]).is_ok());
        assert!(check_agent_shape(Role::Supervisor, &[]).is_ok());
        assert!(check_agent_shape(Role::Admin, &[]).is_ok());
    }
}
