//! @mentions in internal notes: which agents a note names, and which of them it
//! notifies.

use shared::model::Role;

use super::actor::sees_chat;
use super::chat::ChatCore;

/// An agent as mentions see them: how a note may name them, and what they may see.
pub struct Mentionable<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub department_ids: &'a [String],
}

/// The agents a note in `chat` notifies: those it mentions who may see the chat. A
/// mention of anyone else is not delivered — the notification would carry the note's
/// text out of the chat's departments; the note itself is stored all the same.
pub fn notified<'a>(
    body: &str,
    author_id: &str,
    agents: &[Mentionable<'a>],
    chat: &ChatCore,
) -> Vec<&'a str> {
    let may_see = |id: &str| {
        agents.iter().any(|a| {
            a.id == id
                && sees_chat(
                    a.id,
                    a.role,
                    a.department_ids,
                    &chat.department_id,
                    chat.assignee_id.as_deref(),
                )
        })
    };
    mentioned(body, author_id, agents)
        .into_iter()
        .filter(|id| may_see(id))
        .collect()
}

/// The agents a note mentions (`@email`, `@Full Name`, or `@First` as a whole word),
/// never its author, in the order given.
fn mentioned<'a>(body: &str, author_id: &str, agents: &[Mentionable<'a>]) -> Vec<&'a str> {
    if !body.contains('@') {
        return Vec::new();
    }
    let lower = body.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '@')
        .collect();
    agents
        .iter()
        .filter(|a| a.id != author_id)
        .filter(|a| {
            let first = a
                .name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_lowercase();
            lower.contains(&format!("@{}", a.email.to_lowercase()))
                || lower.contains(&format!("@{}", a.name.to_lowercase()))
                || (!first.is_empty() && words.iter().any(|w| *w == format!("@{first}")))
        })
        .map(|a| a.id)
        .collect()
}

/// The notification a mention sends.
pub fn notification(author_name: &str, body: &str, chat_id: &str) -> shared::model::Notification {
    shared::model::Notification {
        kind: "mention".into(),
        title: format!("{author_name} mentioned you"),
        body: body.chars().take(200).collect(),
        chat_id: Some(chat_id.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALES: &[String] = &[];

    const TEAM: [Mentionable<'static>; 3] = [
        Mentionable {
            id: "maya",
            name: "Maya Chen",
            email: "maya@example.com",
            role: Role::Agent,
            department_ids: SALES,
        },
        Mentionable {
            id: "sam",
            name: "Sam Okafor",
            email: "sam@example.com",
            role: Role::Agent,
            department_ids: SALES,
        },
        Mentionable {
            id: "ada",
            name: "Ada",
            email: "ada@example.com",
            role: Role::Agent,
            department_ids: SALES,
        },
    ];

    fn chat(department_id: &str, assignee: Option<&str>) -> ChatCore {
        ChatCore {
            customer_id: "c1".into(),
            department_id: department_id.into(),
            status: shared::model::ChatStatus::Active,
            assignee_id: assignee.map(str::to_owned),
            last_seq: 3,
            tags: vec![],
        }
    }

    #[test]
    fn a_mention_notifies_only_agents_who_may_see_the_chat() {
        let sales = vec!["sales".to_owned()];
        let billing = vec!["billing".to_owned()];
        let team = [
            Mentionable {
                id: "maya",
                name: "Maya Chen",
                email: "maya@example.com",
                role: Role::Agent,
                department_ids: &sales,
            },
            Mentionable {
                id: "ben",
                name: "Ben Billing",
                email: "ben@example.com",
                role: Role::Agent,
                department_ids: &billing,
            },
            Mentionable {
                id: "sue",
                name: "Sue Visor",
                email: "sue@example.com",
                role: Role::Supervisor,
                department_ids: &billing,
            },
            Mentionable {
                id: "kim",
                name: "Kim Admin",
                email: "kim@example.com",
                role: Role::Admin,
                department_ids: &[],
            },
        ];
        let body = "@maya @ben @sue @kim have a look";
        assert_eq!(
            notified(body, "ada", &team, &chat("sales", Some("ada"))),
            ["maya", "sue", "kim"],
            "Ben, of Billing only, is not told of a Sales chat"
        );
        assert_eq!(
            notified(body, "ada", &team, &chat("sales", Some("ben"))),
            ["maya", "ben", "sue", "kim"],
            "the assignee may see the chat, whatever its department"
        );
        assert_eq!(
            notified(body, "ada", &team, &chat("support", None)),
            ["sue", "kim"]
        );
    }

    #[test]
    fn mentions_match_email_full_name_or_first_name_as_a_word() {
        assert_eq!(mentioned("ping @maya please", "ada", &TEAM), ["maya"]);
        assert_eq!(
            mentioned("@Sam Okafor and @ada@example.com", "x", &TEAM),
            ["sam", "ada"]
        );
        assert_eq!(mentioned("cc @mayastar", "ada", &TEAM), Vec::<&str>::new());
        assert_eq!(mentioned("no mention", "ada", &TEAM), Vec::<&str>::new());
    }

    #[test]
    fn the_author_is_never_notified_of_their_own_mention() {
        assert_eq!(
            mentioned("note to self @ada", "ada", &TEAM),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_mention_notification_carries_at_most_200_characters() {
        let n = notification("Ada", &"x".repeat(500), "c1");
        assert_eq!(n.body.chars().count(), 200);
        assert_eq!(n.title, "Ada mentioned you");
    }
}
