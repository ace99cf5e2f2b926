//! The Dashboard's load: today's and the last 7 days' summaries, the 14-day daily
//! series, and the agent's open and pending tickets, fetched together over REST.

use shared::model::Page;
use shared::report::{Summary, Timeseries};
use shared::ticket::Ticket;
use time::{Date, Duration};

use super::rest::RestError;
use super::{Worker, rest_failed};
use crate::msg::NetEvent;
use crate::state::views::dashboard::Figures;

/// How many pending tickets the dashboard lists.
pub const PENDING_SHOWN: usize = 10;
/// The days in the daily chart, ending today.
pub const CHART_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardCmd {
    /// Everything the dashboard shows, for the day `today` (UTC); `seq` tells the
    /// answer to the latest load from older ones.
    Load { seq: u64, today: Date },
}

#[derive(Debug, Clone)]
pub enum DashboardReply {
    Loaded { seq: u64, figures: Box<Figures> },
    Failed { seq: u64, error: String },
}

impl From<DashboardReply> for NetEvent {
    fn from(r: DashboardReply) -> NetEvent {
        NetEvent::Dashboard(r)
    }
}

/// The query strings of one load: today, the 7 days before, the 14-day series.
pub fn periods(today: Date) -> [Vec<(&'static str, String)>; 3] {
    let day = |d: Date| d.to_string();
    [
        vec![("from", day(today)), ("to", day(today))],
        vec![
            ("from", day(today - Duration::days(7))),
            ("to", day(today - Duration::days(1))),
        ],
        vec![
            ("metric", "chats_handled".to_owned()),
            ("bucket", "day".to_owned()),
            ("from", day(today - Duration::days(CHART_DAYS - 1))),
            ("to", day(today)),
        ],
    ]
}

fn tickets_query(status: &str, per_page: usize) -> Vec<(&'static str, String)> {
    vec![
        ("status", status.to_owned()),
        ("assignee", "me".to_owned()),
        ("sort", "updated".to_owned()),
        ("per_page", per_page.to_string()),
    ]
}

/// Both answers, or the first failure.
fn both<A, B>(a: Result<A, RestError>, b: Result<B, RestError>) -> Result<(A, B), RestError> {
    Ok((a?, b?))
}

impl Worker {
    pub(super) fn dashboard(&self, cmd: DashboardCmd) {
        match cmd {
            DashboardCmd::Load { seq, today } => self.rest_task(move |r| async move {
                let [q_today, q_week, q_series] = periods(today);
                let q_open = tickets_query("open", 1);
                let q_pending = tickets_query("pending", PENDING_SHOWN);
                let (today, week, series, open, pending) = tokio::join!(
                    r.get_as::<Summary>("/reports/summary", &q_today),
                    r.get_as::<Summary>("/reports/summary", &q_week),
                    r.get_as::<Timeseries>("/reports/timeseries", &q_series),
                    r.get_as::<Page<Ticket>>("/tickets", &q_open),
                    r.get_as::<Page<Ticket>>("/tickets", &q_pending),
                );
                match both(both(today, week), both(series, both(open, pending))) {
                    Ok(((today, week), (series, (open, pending)))) => DashboardReply::Loaded {
                        seq,
                        figures: Box::new(Figures {
                            today,
                            week,
                            series: series.points,
                            open_tickets: open.total,
                            pending_total: pending.total,
                            pending: pending.items,
                        }),
                    }
                    .into(),
                    Err(e) if e.is_unauthorized() => rest_failed("the dashboard", e),
                    Err(e) => DashboardReply::Failed {
                        seq,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
        }
    }
}
