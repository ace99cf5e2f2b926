//! The views the console has or will have, and the state each implemented view owns.
//! A view's behaviour is registered in `crate::views`; its state is a field of `State`.

pub mod chats;
pub mod dashboard;
pub mod kb;
pub mod notifications;
pub mod tickets;

/// Every view by name. Only the ones registered in `crate::views` can be shown; the
/// others have their go-to keys and names reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewId {
    Chats,
    Notifications,
    Tickets,
    KnowledgeBase,
    Dashboard,
    Reports,
    Profile,
}

struct Info {
    id: ViewId,
    /// For `:view NAME`, the config file (`[keymap.NAME]`, `go_NAME`).
    name: &'static str,
    title: &'static str,
    /// The title where the top bar is short of room.
    short: &'static str,
    /// `g` then this key goes to the view.
    key: char,
}

#[rustfmt::skip]
const INFO: &[Info] = &[
    Info { id: ViewId::Chats, name: "chats", title: "Chats", short: "Chats", key: 'c' },
    Info { id: ViewId::Notifications, name: "notifications", title: "Notifications", short: "Notif", key: 'n' },
    Info { id: ViewId::Tickets, name: "tickets", title: "Tickets", short: "Tickets", key: 't' },
    Info { id: ViewId::KnowledgeBase, name: "knowledge_base", title: "Knowledge base", short: "KB", key: 'k' },
    Info { id: ViewId::Dashboard, name: "dashboard", title: "Dashboard", short: "Dash", key: 'd' },
    Info { id: ViewId::Reports, name: "reports", title: "Reports", short: "Reports", key: 'r' },
    Info { id: ViewId::Profile, name: "profile", title: "Profile", short: "Profile", key: 'p' },
];

impl ViewId {
    pub fn all() -> impl Iterator<Item = ViewId> {
        INFO.iter().map(|i| i.id)
    }

    fn info(self) -> &'static Info {
        // Every variant has its row; the first is only a fallback for the compiler.
        INFO.iter().find(|i| i.id == self).unwrap_or(&INFO[0])
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn title(self) -> &'static str {
        self.info().title
    }

    pub fn short_title(self) -> &'static str {
        self.info().short
    }

    pub fn key(self) -> char {
        self.info().key
    }

    /// A view by name, as typed: case, `-`, `_` and spaces do not matter.
    pub fn parse(s: &str) -> Option<ViewId> {
        let norm = |s: &str| {
            s.chars()
                .filter(|c| !matches!(c, '-' | '_' | ' '))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        };
        let want = norm(s);
        INFO.iter().find(|i| norm(i.name) == want).map(|i| i.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_has_one_row_a_unique_name_and_key() {
        let ids: Vec<ViewId> = ViewId::all().collect();
        assert_eq!(ids.len(), 7);
        for (i, a) in INFO.iter().enumerate() {
            for b in &INFO[i + 1..] {
                assert_ne!(a.id, b.id);
                assert_ne!(a.name, b.name);
                assert_ne!(a.key, b.key);
            }
            assert_eq!(ViewId::parse(a.name), Some(a.id));
        }
        assert_eq!(ViewId::parse("Knowledge-Base"), Some(ViewId::KnowledgeBase));
        assert_eq!(ViewId::parse("nope"), None);
    }
}
