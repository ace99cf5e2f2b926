//! The Tickets view's own state: the page of tickets the list shows (with the filter,
//! search and sort that chose it), the open ticket's timeline with its split marks,
//! the composer, unread marks, and what the customer pane shows about the customer.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use shared::model::{AgentId, CustomerId, Seq};
use shared::ticket::{
    EntryId, EntryKind, Ticket, TicketEntry, TicketId, TicketPriority, TicketStatus,
};
use time::OffsetDateTime;

use crate::state::Composer;

/// Tickets on one page of the list.
pub const PER_PAGE: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketPane {
    List,
    Detail,
    Customer,
}

impl TicketPane {
    pub const ALL: [TicketPane; 3] = [TicketPane::List, TicketPane::Detail, TicketPane::Customer];
    pub fn title(self) -> &'static str {
        match self {
            TicketPane::List => "Tickets",
            TicketPane::Detail => "Ticket",
            TicketPane::Customer => "Customer",
        }
    }
}

/// Whose tickets: `assignee=me`, `assignee=none`, or one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Me,
    Unassigned,
    Agent(AgentId),
}

/// Spam tickets are hidden unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpamFilter {
    #[default]
    Hide,
    Only,
    Any,
}

/// What `:filter` asks for, already checked and with names resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketFilter {
    /// Any of these (empty: every status).
    pub status: Vec<TicketStatus>,
    /// Any of these (empty: every priority).
    pub priority: Vec<TicketPriority>,
    pub priority_min: Option<TicketPriority>,
    pub assignee: Option<AssigneeFilter>,
    pub tag: Option<String>,
    pub department_id: Option<String>,
    pub spam: SpamFilter,
}

impl TicketFilter {
    pub fn is_empty(&self) -> bool {
        *self == TicketFilter::default()
    }
}

/// The orders the server can sort by (`sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSort {
    Newest,
    Oldest,
    Priority,
    Due,
    #[default]
    Updated,
}

impl TicketSort {
    pub const ALL: [TicketSort; 5] = [
        TicketSort::Updated,
        TicketSort::Newest,
        TicketSort::Oldest,
        TicketSort::Priority,
        TicketSort::Due,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketSort::Newest => "newest",
            TicketSort::Oldest => "oldest",
            TicketSort::Priority => "priority",
            TicketSort::Due => "due",
            TicketSort::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<TicketSort> {
        let s = s.trim().to_lowercase();
        let s = match s.as_str() {
            "last" | "update" | "last_update" => "updated",
            "new" | "created" => "newest",
            "old" => "oldest",
            "due_at" | "due_date" => "due",
            other => other,
        }
        .to_owned();
        TicketSort::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn next(self) -> TicketSort {
        let i = TicketSort::ALL.iter().position(|o| *o == self).unwrap_or(0);
        TicketSort::ALL[(i + 1) % TicketSort::ALL.len()]
    }
}

/// Everything that chooses the page the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketQuery {
    pub filter: TicketFilter,
    /// The server-side search (`q`): number, subject, customer, entry text.
    pub search: String,
    pub sort: TicketSort,
    /// From 1.
    pub page: u32,
}

/// A reply or note sent and not yet acknowledged (or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub client_msg_id: String,
    pub ticket_id: TicketId,
    pub kind: EntryKind,
    pub body: String,
    pub at: OffsetDateTime,
    /// The server said no: why.
    pub failed: Option<String>,
}

/// The timeline of one ticket, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub entries: BTreeMap<Seq, TicketEntry>,
    pub loaded: bool,
}

impl Timeline {
    pub fn last_seq(&self) -> Seq {
        self.entries.keys().next_back().copied().unwrap_or(0)
    }
}

/// A customer's tickets, as the customer record lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTicket {
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub status: Option<TicketStatus>,
}

/// An internal note about a customer (agents only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerNote {
    pub id: String,
    pub body: String,
    pub author_name: String,
    pub created_at: Option<OffsetDateTime>,
}

/// What the customer pane adds to the profile: tickets and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerCard {
    pub tickets: Vec<CustomerTicket>,
    pub notes: Vec<CustomerNote>,
}

#[derive(Debug, Clone)]
pub struct TicketsView {
    pub focus: TicketPane,
    /// The query the list shows (or is loading).
    pub query: TicketQuery,
    /// `:filter` as typed last, for the header and for editing.
    pub filter_text: String,
    /// Why the last `:filter` was refused (the list keeps the previous filter).
    pub filter_error: Option<String>,
    /// The `/` search as it is being typed (narrows the page until Enter asks the
    /// server).
    pub search_input: String,
    /// The page's tickets in the server's order.
    pub list: Vec<TicketId>,
    pub total: i64,
    pub loading: bool,
    /// Increases with every list request: older answers are dropped.
    pub generation: u64,
    /// Every ticket the console knows (the page, the open one, pushes).
    pub tickets: HashMap<TicketId, Ticket>,
    pub selected: Option<TicketId>,
    /// Tickets with something new since the agent last opened them.
    pub unread: HashSet<TicketId>,
    pub open: Option<TicketId>,
    pub timelines: HashMap<TicketId, Timeline>,
    /// The entry under the cursor in the timeline (index into the shown entries).
    pub cursor: usize,
    /// Entries marked for `:split` in the open ticket.
    pub marked: BTreeSet<EntryId>,
    pub composer: Composer,
    pub pending: Vec<PendingEntry>,
    pub customers: HashMap<CustomerId, CustomerCard>,
}

impl Default for TicketsView {
    fn default() -> Self {
        TicketsView {
            focus: TicketPane::List,
            query: TicketQuery {
                page: 1,
                ..TicketQuery::default()
            },
            filter_text: String::new(),
            filter_error: None,
            search_input: String::new(),
            list: Vec::new(),
            total: 0,
            loading: false,
            generation: 0,
            tickets: HashMap::new(),
            selected: None,
            unread: HashSet::new(),
            open: None,
            timelines: HashMap::new(),
            cursor: 0,
            marked: BTreeSet::new(),
            composer: Composer::default(),
            pending: Vec::new(),
            customers: HashMap::new(),
        }
    }
}

impl TicketsView {
    /// The rows shown: the page, narrowed by the search being typed.
    pub fn rows(&self) -> Vec<&Ticket> {
        let q = self.search_input.trim().to_lowercase();
        let q = q.trim_start_matches('#');
        self.list
            .iter()
            .filter_map(|id| self.tickets.get(id))
            .filter(|t| {
                q.is_empty()
                    || t.number.to_string().starts_with(q)
                    || t.subject.to_lowercase().contains(q)
                    || t.customer.name.to_lowercase().contains(q)
                    || t.customer
                        .email
                        .as_deref()
                        .is_some_and(|e| e.to_lowercase().contains(q))
            })
            .collect()
    }

    pub fn selected_index(&self) -> usize {
        let rows = self.rows();
        self.selected
            .as_ref()
            .and_then(|id| rows.iter().position(|t| &t.id == id))
            .unwrap_or(0)
    }

    pub fn selected_ticket(&self) -> Option<&Ticket> {
        let rows = self.rows();
        rows.get(self.selected_index()).copied()
    }

    pub fn open_ticket(&self) -> Option<&Ticket> {
        self.open.as_ref().and_then(|id| self.tickets.get(id))
    }

    /// The ticket the ticket actions apply to: the open one when the detail (or the
    /// customer pane) has focus, else the selected row.
    pub fn target(&self) -> Option<TicketId> {
        match self.focus {
            TicketPane::List => self
                .selected_ticket()
                .map(|t| t.id.clone())
                .or_else(|| self.open.clone()),
            _ => self
                .open
                .clone()
                .or_else(|| self.selected_ticket().map(|t| t.id.clone())),
        }
    }

    /// The open ticket's entries, oldest first.
    pub fn open_entries(&self) -> Vec<&TicketEntry> {
        self.open
            .as_ref()
            .and_then(|id| self.timelines.get(id))
            .map(|t| t.entries.values().collect())
            .unwrap_or_default()
    }

    pub fn pages(&self) -> u32 {
        ((self.total.max(0) as u32).div_ceil(PER_PAGE)).max(1)
    }
}
