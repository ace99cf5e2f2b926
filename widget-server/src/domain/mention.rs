//! @mentions in internal notes: which agents a note names.

/// An agent as mentions see them.
pub struct Mentionable<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
}

/// The agents a note mentions (`@email`, `@Full Name`, or `@First` as a whole word),
/// never its author, in the order given.
pub fn mentioned<'a>(body: &str, author_id: &str, agents: &[Mentionable<'a>]) -> Vec<&'a str> {
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

    const TEAM: [Mentionable<'static>; 3] = [
        Mentionable {
            id: "maya",
            name: "Maya Chen",
            email: "maya@example.com",
        },
        Mentionable {
            id: "sam",
            name: "Sam Okafor",
            email: "sam@example.com",
        },
        Mentionable {
            id: "ada",
            name: "Ada",
            email: "ada@example.com",
        },
    ];

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
