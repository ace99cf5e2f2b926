//! The Notifications view's own state: what the server told the agent (mentions,
//! chats transferred to them), newest last, with what is read and which is selected.

use shared::model::Notification;
use time::OffsetDateTime;

/// Notifications kept at most (the oldest go first).
pub const KEPT: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEntry {
    /// Local and increasing: the selection follows an entry while new ones arrive.
    pub id: u64,
    pub notification: Notification,
    pub at: OffsetDateTime,
    pub seen: bool,
}

#[derive(Debug, Clone, Default)]
pub struct NotificationsView {
    /// Oldest first, as they arrived.
    pub items: Vec<NotificationEntry>,
    /// The selected entry's id; `None` is the newest.
    pub selected: Option<u64>,
    pub next_id: u64,
}

impl NotificationsView {
    pub fn unread(&self) -> usize {
        self.items.iter().filter(|n| !n.seen).count()
    }

    /// The entries in display order: newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &NotificationEntry> {
        self.items.iter().rev()
    }

    /// The selected row in display order (0 when nothing is listed).
    pub fn selected_index(&self) -> usize {
        self.selected
            .and_then(|id| self.newest_first().position(|n| n.id == id))
            .unwrap_or(0)
    }

    pub fn selected_entry(&self) -> Option<&NotificationEntry> {
        self.newest_first().nth(self.selected_index())
    }

    pub fn select_index(&mut self, i: usize) {
        let id = self.newest_first().nth(i).map(|n| n.id);
        self.selected = id;
    }

    /// Adds a new notification, unread; the oldest go beyond `KEPT`.
    pub fn push(&mut self, notification: Notification, at: OffsetDateTime) {
        self.next_id += 1;
        self.items.push(NotificationEntry {
            id: self.next_id,
            notification,
            at,
            seen: false,
        });
        if self.items.len() > KEPT {
            let drop = self.items.len() - KEPT;
            self.items.drain(..drop);
        }
    }
}
