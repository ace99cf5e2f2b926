//! The Dashboard view's own state: the figures of the latest answer (today, the last
//! 7 days, the 14-day series, the agent's tickets) and when to load them again.

use shared::report::{SeriesPoint, Summary};
use shared::ticket::Ticket;
use time::OffsetDateTime;

/// Everything one load brings back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub today: Summary,
    /// The 7 days before today.
    pub week: Summary,
    /// Chats closed per day, the 14 days ending today.
    pub series: Vec<SeriesPoint>,
    /// How many open tickets are assigned to the agent.
    pub open_tickets: i64,
    /// The agent's pending tickets (the first page) and how many there are.
    pub pending: Vec<Ticket>,
    pub pending_total: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DashboardView {
    /// The number of the latest load sent; older answers are dropped.
    pub seq: u64,
    /// A load is under way.
    pub loading: bool,
    pub figures: Option<Figures>,
    /// Why the latest load failed, shown instead of stale-looking silence.
    pub error: Option<String>,
    /// A chat or ticket changed while the view was shown: load again at this time
    /// (pushes arriving before then are folded into the same load).
    pub refresh_at: Option<OffsetDateTime>,
}
