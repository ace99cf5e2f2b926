//! The queue view: which chats show in the Waiting / Mine / Closed sections, in what
//! order, under the agent's search, filter and sort, and which row is selected.

use std::collections::HashMap;

use shared::model::{ChatId, ChatStatus, DepartmentId};

use super::ChatEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Waiting,
    Mine,
    Closed,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Waiting, Section::Mine, Section::Closed];
    pub fn title(self) -> &'static str {
        match self {
            Section::Waiting => "Waiting",
            Section::Mine => "Mine",
            Section::Closed => "Closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Longest waiting first: the queue's natural order.
    #[default]
    Wait,
    Newest,
    Oldest,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [SortOrder::Wait, SortOrder::Newest, SortOrder::Oldest];
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Wait => "wait",
            SortOrder::Newest => "newest",
            SortOrder::Oldest => "oldest",
        }
    }
    pub fn parse(s: &str) -> Option<SortOrder> {
        SortOrder::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueFilter {
    /// Free text from `/`: customer name, e-mail, tags, last message.
    pub text: String,
    pub department: Option<DepartmentId>,
    pub unread_only: bool,
}

impl QueueFilter {
    pub fn is_active(&self) -> bool {
        !self.text.is_empty() || self.department.is_some() || self.unread_only
    }
}

/// Closed chats shown at most (the newest).
pub const CLOSED_SHOWN: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct QueueState {
    pub filter: QueueFilter,
    pub sort: SortOrder,
    /// Chat ids per section, in display order (derived by `rebuild`).
    pub waiting: Vec<ChatId>,
    pub mine: Vec<ChatId>,
    pub closed: Vec<ChatId>,
    /// Totals before the filter, for the section headers.
    pub totals: [usize; 3],
    pub selected: Option<ChatId>,
}

impl QueueState {
    pub fn section(&self, s: Section) -> &[ChatId] {
        match s {
            Section::Waiting => &self.waiting,
            Section::Mine => &self.mine,
            Section::Closed => &self.closed,
        }
    }

    /// Every listed chat in display order.
    pub fn flat(&self) -> impl Iterator<Item = &ChatId> {
        self.waiting
            .iter()
            .chain(self.mine.iter())
            .chain(self.closed.iter())
    }

    pub fn len(&self) -> usize {
        self.waiting.len() + self.mine.len() + self.closed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn selected_index(&self) -> Option<usize> {
        let sel = self.selected.as_ref()?;
        self.flat().position(|id| id == sel)
    }

    pub fn select_index(&mut self, i: usize) {
        let id = self.flat().nth(i).cloned();
        self.selected = id;
    }

    /// Recomputes the sections from the chats; keeps the selection on the same chat
    /// when it is still listed, otherwise on the row at the same position.
    pub fn rebuild(&mut self, chats: &HashMap<ChatId, ChatEntry>, me: Option<&str>) {
        let old_index = self.selected_index();
        let mut waiting = Vec::new();
        let mut mine = Vec::new();
        let mut closed = Vec::new();
        let mut totals = [0usize; 3];
        let text = self.filter.text.to_lowercase();
        for (id, e) in chats {
            let c = &e.chat;
            let section = match c.status {
                ChatStatus::Waiting => Section::Waiting,
                ChatStatus::Active if c.assignee_id.is_some() && c.assignee_id.as_deref() == me => {
                    Section::Mine
                }
                ChatStatus::Active => continue,
                ChatStatus::Closed => Section::Closed,
            };
            let slot = match section {
                Section::Waiting => 0,
                Section::Mine => 1,
                Section::Closed => 2,
            };
            totals[slot] += 1;
            if let Some(d) = &self.filter.department
                && &c.department_id != d
            {
                continue;
            }
            if self.filter.unread_only && c.unread_count == 0 {
                continue;
            }
            if !text.is_empty() && !matches_text(e, &text) {
                continue;
            }
            match section {
                Section::Waiting => waiting.push((id.clone(), e)),
                Section::Mine => mine.push((id.clone(), e)),
                Section::Closed => closed.push((id.clone(), e)),
            }
        }
        // Keys compare by reference: a 1,000-chat queue is sorted on every change.
        fn by_wait(a: &(ChatId, &ChatEntry), b: &(ChatId, &ChatEntry)) -> std::cmp::Ordering {
            a.1.waiting_since
                .cmp(&b.1.waiting_since)
                .then_with(|| a.0.cmp(&b.0))
        }
        fn by_last(a: &(ChatId, &ChatEntry), b: &(ChatId, &ChatEntry)) -> std::cmp::Ordering {
            a.1.chat
                .last_message_at
                .cmp(&b.1.chat.last_message_at)
                .then_with(|| a.0.cmp(&b.0))
        }
        match self.sort {
            SortOrder::Wait | SortOrder::Oldest => waiting.sort_unstable_by(by_wait),
            SortOrder::Newest => waiting.sort_unstable_by(|a, b| by_wait(b, a)),
        }
        match self.sort {
            // The customer who has waited longest for an answer first.
            SortOrder::Wait => mine.sort_unstable_by(by_last),
            SortOrder::Newest => mine.sort_unstable_by(|a, b| by_last(b, a)),
            SortOrder::Oldest => mine.sort_unstable_by(by_wait),
        }
        closed.sort_unstable_by(|a, b| {
            let ka = (a.1.chat.closed_at.unwrap_or(a.1.chat.last_message_at), &a.0);
            let kb = (b.1.chat.closed_at.unwrap_or(b.1.chat.last_message_at), &b.0);
            kb.cmp(&ka)
        });
        closed.truncate(CLOSED_SHOWN);
        self.waiting = waiting.into_iter().map(|(id, _)| id).collect();
        self.mine = mine.into_iter().map(|(id, _)| id).collect();
        self.closed = closed.into_iter().map(|(id, _)| id).collect();
        self.totals = totals;
        let still_listed = self
            .selected
            .as_ref()
            .is_some_and(|s| self.flat().any(|id| id == s));
        if !still_listed {
            let n = self.len();
            if n == 0 {
                self.selected = None;
            } else {
                self.select_index(old_index.unwrap_or(0).min(n - 1));
            }
        }
    }
}

fn matches_text(e: &ChatEntry, needle: &str) -> bool {
    let c = &e.chat;
    let hit = |s: &str| s.to_lowercase().contains(needle);
    hit(&c.customer.name)
        || c.customer.email.as_deref().is_some_and(hit)
        || c.tags.iter().any(|t| hit(t))
        || c.last_message.as_ref().is_some_and(|m| hit(&m.body))
}
