//! Report figures, defined once (see `docs/reports.md`): first response and response
//! times from a conversation's history, resolution time, CSAT, percentiles, and the
//! periods and buckets in the reader's timezone. Pure: the store loads histories and
//! rows, these functions say what they amount to.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use shared::ApiError;

use super::Actor;

/// The longest period a report covers (keeps every report's work bounded).
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Who wrote a line of a chat's (or a ticket's) history, as the figures see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Customer,
    Agent(String),
    /// System lines (joined, transferred, closed…).
    System,
}

/// One line of a history: who, when, and whether the customer can see it (an
/// internal note cannot; an agent's note is never a reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at_ms: i64,
    pub party: Party,
    pub visible: bool,
}

/// A wait that an agent answered: the customer waited from `asked_ms` until the
/// agent's visible reply at `answered_ms`. The first one of a history is its first
/// response, measured from the chat's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub agent_id: String,
    pub asked_ms: i64,
    pub answered_ms: i64,
    pub first: bool,
}

impl Response {
    pub fn wait_ms(&self) -> i64 {
        (self.answered_ms - self.asked_ms).max(0)
    }
}

/// The answered waits of a history that started at `started_ms`, oldest first.
///
/// A wait starts at the chat's start (the customer's first message) and again at the
/// first customer message after each visible agent reply; further customer messages
/// before the reply join the same wait. It ends at the next visible agent reply.
/// Notes, system lines and agent replies nobody waited for end nothing. A wait still
/// open at the end of the history has no response yet.
pub fn responses(started_ms: i64, lines: &[Line]) -> Vec<Response> {
    let mut out = Vec::new();
    let mut waiting_since: Option<i64> = Some(started_ms);
    for line in lines {
        match &line.party {
            Party::Customer => {
                if waiting_since.is_none() {
                    waiting_since = Some(line.at_ms);
                }
            }
            Party::Agent(id) if line.visible => {
                if let Some(asked) = waiting_since.take() {
                    out.push(Response {
                        agent_id: id.clone(),
                        asked_ms: asked,
                        answered_ms: line.at_ms,
                        first: out.is_empty(),
                    });
                }
            }
            Party::Agent(_) | Party::System => {}
        }
    }
    out
}

/// Resolution time: creation to the (last) close; a reopened chat counts from its
/// creation, not from the reopening.
pub fn resolution_ms(created_ms: i64, closed_ms: i64) -> i64 {
    (closed_ms - created_ms).max(0)
}

/// Customer satisfaction: the share of ratings 4 and 5 among rated chats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csat {
    pub rated: u64,
    /// Ratings 1..=5 at index 0..=4.
    pub breakdown: [u64; 5],
}

impl Csat {
    pub fn add(&mut self, score: u8, count: u64) {
        if (1..=5).contains(&score) {
            self.breakdown[usize::from(score - 1)] += count;
            self.rated += count;
        }
    }

    pub fn from_scores(scores: impl IntoIterator<Item = u8>) -> Self {
        let mut c = Csat::default();
        for s in scores {
            c.add(s, 1);
        }
        c
    }

    pub fn satisfied(&self) -> u64 {
        self.breakdown[3] + self.breakdown[4]
    }

    /// Percent satisfied, one decimal; `None` when nothing was rated.
    pub fn score_pct(&self) -> Option<f64> {
        score_pct(self.satisfied(), self.rated)
    }
}

/// `satisfied` of `rated` as a percentage with one decimal; `None` when nothing was rated.
pub fn score_pct(satisfied: u64, rated: u64) -> Option<f64> {
    if rated == 0 {
        return None;
    }
    Some(round1(satisfied as f64 * 100.0 / rated as f64))
}

/// Rounds to one decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The nearest-rank percentile `p` (0 < p <= 100) of ascending values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).clamp(1, n);
    sorted.get((rank - 1) as usize).copied()
}

/// Average of a sum over a count, in seconds with one decimal.
pub fn avg_s(sum_ms: i64, count: u64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    Some(round1(sum_ms as f64 / count as f64 / 1000.0))
}

/// Milliseconds as seconds with one decimal.
pub fn secs(ms: i64) -> f64 {
    round1(ms as f64 / 1000.0)
}

/// A half-open period `[start_ms, end_ms)` read in a timezone.
#[derive(Debug, Clone)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
    pub tz: TimeZone,
    pub tz_name: String,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::invalid(msg.into())
}

/// The timezone named (IANA name, or `UTC` when none is given).
pub fn parse_tz(name: Option<&str>) -> Result<(TimeZone, String), ApiError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("UTC");
    if name.len() > 64 {
        return Err(invalid("tz: at most 64 characters"));
    }
    TimeZone::get(name)
        .map(|tz| (tz, name.to_string()))
        .map_err(|_| invalid(format!("tz: unknown timezone {name:?}")))
}

/// The instant a bound names: an RFC 3339 time, or a date `YYYY-MM-DD` meaning the
/// start of that day in `tz` (`end` = true: the start of the next day, so a `to` date
/// includes its whole day).
fn parse_bound(field: &str, raw: &str, tz: &TimeZone, end: bool) -> Result<i64, ApiError> {
    let raw = raw.trim();
    if raw.len() > 40 {
        return Err(invalid(format!("{field}: at most 40 characters")));
    }
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let date: Date = raw.parse().map_err(|_| {
        invalid(format!(
            "{field}: expected a date YYYY-MM-DD or an RFC 3339 time, got {raw:?}"
        ))
    })?;
    let date = if end {
        date.tomorrow()
            .map_err(|_| invalid(format!("{field}: out of range")))?
    } else {
        date
    };
    day_start_ms(date, tz).ok_or_else(|| invalid(format!("{field}: out of range")))
}

/// The first instant of a civil day in a timezone (a day that starts in a DST gap
/// starts at the first instant that exists).
pub fn day_start_ms(date: Date, tz: &TimeZone) -> Option<i64> {
    date.to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// The civil date an instant falls on in a timezone.
pub fn date_of(ms: i64, tz: &TimeZone) -> Option<Date> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned_datetime(tz.clone()).date())
}

impl Period {
    /// A period from the query's `from`, `to` and `tz`; without `from`/`to`, the last
    /// 30 days up to the end of today in `tz`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
        now_ms: i64,
    ) -> Result<Period, ApiError> {
        let (tz, tz_name) = parse_tz(tz)?;
        let today = date_of(now_ms, &tz).ok_or_else(|| invalid("now is out of range"))?;
        let end_ms = match to {
            Some(t) => parse_bound("to", t, &tz, true)?,
            None => parse_bound("to", &today.to_string(), &tz, true)?,
        };
        let start_ms = match from {
            Some(f) => parse_bound("from", f, &tz, false)?,
            None => {
                let first = date_of(end_ms - 1, &tz)
                    .and_then(|d| d.checked_sub(29.days()).ok())
                    .ok_or_else(|| invalid("from: out of range"))?;
                day_start_ms(first, &tz).ok_or_else(|| invalid("from: out of range"))?
            }
        };
        if start_ms >= end_ms {
            return Err(invalid("from must be before to"));
        }
        if end_ms - start_ms > (MAX_PERIOD_DAYS + 1) * 86_400_000 {
            return Err(invalid(format!(
                "a report covers at most {MAX_PERIOD_DAYS} days"
            )));
        }
        Ok(Period {
            start_ms,
            end_ms,
            tz,
            tz_name,
        })
    }

    /// Today in `tz`, or the `days` whole days ending with today.
    pub fn last_days(days: i64, tz: &TimeZone, tz_name: &str, now_ms: i64) -> Option<Period> {
        let today = date_of(now_ms, tz)?;
        let first = today.checked_sub((days - 1).days()).ok()?;
        Some(Period {
            start_ms: day_start_ms(first, tz)?,
            end_ms: day_start_ms(today.tomorrow().ok()?, tz)?,
            tz: tz.clone(),
            tz_name: tz_name.to_string(),
        })
    }

    pub fn contains(&self, ms: i64) -> bool {
        self.start_ms <= ms && ms < self.end_ms
    }
}

/// How a time series groups a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

impl Bucket {
    pub fn parse(raw: Option<&str>) -> Result<Bucket, ApiError> {
        match raw.unwrap_or("day") {
            "day" => Ok(Bucket::Day),
            "week" => Ok(Bucket::Week),
            "month" => Ok(Bucket::Month),
            other => Err(invalid(format!(
                "bucket: expected day, week or month, got {other:?}"
            ))),
        }
    }
}

/// One bucket of a series: its label (the first civil day, `YYYY-MM-DD`) and
/// `[start_ms, end_ms)`, clipped to the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub label: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The buckets covering a period in its timezone, in order.
pub fn buckets(period: &Period, bucket: Bucket) -> Vec<Span> {
    let mut out = Vec::new();
    let Some(first_day) = date_of(period.start_ms, &period.tz) else {
        return out;
    };
    let mut day = match bucket {
        Bucket::Day => first_day,
        Bucket::Week => first_day
            .checked_sub(i64::from(first_day.weekday().to_monday_zero_offset()).days())
            .unwrap_or(first_day),
        Bucket::Month => first_day.first_of_month(),
    };
    while let Some(start) = day_start_ms(day, &period.tz) {
        if start >= period.end_ms {
            break;
        }
        let next = match bucket {
            Bucket::Day => day.tomorrow().ok(),
            Bucket::Week => day.checked_add(7.days()).ok(),
            Bucket::Month => day.last_of_month().tomorrow().ok(),
        };
        let Some(next) = next else { break };
        let Some(end) = day_start_ms(next, &period.tz) else {
            break;
        };
        out.push(Span {
            label: day.to_string(),
            start_ms: start.max(period.start_ms),
            end_ms: end.min(period.end_ms),
        });
        day = next;
    }
    out
}

/// The index of the bucket an instant falls in.
pub fn bucket_index(spans: &[Span], ms: i64) -> Option<usize> {
    let i = spans.partition_point(|s| s.end_ms <= ms);
    spans.get(i).filter(|s| s.start_ms <= ms).map(|_| i)
}

/// A figure a time series can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    ChatsHandled,
    TicketsHandled,
    FirstResponse,
    Response,
    Resolution,
    Csat,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::ChatsHandled,
        Metric::TicketsHandled,
        Metric::FirstResponse,
        Metric::Response,
        Metric::Resolution,
        Metric::Csat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::ChatsHandled => "chats_handled",
            Metric::TicketsHandled => "tickets_handled",
            Metric::FirstResponse => "first_response_s",
            Metric::Response => "response_s",
            Metric::Resolution => "resolution_s",
            Metric::Csat => "csat_pct",
        }
    }

    pub fn parse(raw: Option<&str>) -> Result<Metric, ApiError> {
        let raw = raw.ok_or_else(|| invalid("metric: required"))?;
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
                invalid(format!(
                    "metric: unknown {raw:?}, expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// Whose figures a report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Everyone's (optionally one agent's or one department's).
    All {
        agent_id: Option<String>,
        department_id: Option<String>,
    },
    /// One agent's own figures.
    Own {
        agent_id: String,
        department_id: Option<String>,
    },
}

impl ReportScope {
    pub fn agent_id(&self) -> Option<&str> {
        match self {
            ReportScope::All { agent_id, .. } => agent_id.as_deref(),
            ReportScope::Own { agent_id, .. } => Some(agent_id),
        }
    }

    pub fn department_id(&self) -> Option<&str> {
        match self {
            ReportScope::All { department_id, .. } | ReportScope::Own { department_id, .. } => {
                department_id.as_deref()
            }
        }
    }
}

/// Agents see their own figures only; supervisors and admins everyone's.
pub fn report_scope(
    actor: &Actor,
    agent_id: Option<&str>,
    department_id: Option<&str>,
) -> Result<ReportScope, ApiError> {
    let department_id = department_id.map(str::to_string);
    if actor.oversees_all() {
        return Ok(ReportScope::All {
            agent_id: agent_id.map(str::to_string),
            department_id,
        });
    }
    match agent_id {
        Some(other) if other != actor.id => Err(ApiError::forbidden(
            "agents see their own figures only".to_string(),
        )),
        _ => Ok(ReportScope::Own {
            agent_id: actor.id.clone(),
            department_id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::Role;

    const MIN: i64 = 60_000;

    fn cust(at: i64) -> Line {
        Line {
            at_ms: at,
            party: Party::Customer,
            visible: true,
        }
    }
    fn reply(at: i64, who: &str) -> Line {
        Line {
            at_ms: at,
            party: Party::Agent(who.to_string()),
            visible: true,
        }
    }
    fn note(at: i64, who: &str) -> Line {
        Line {
            at_ms: at,
            party: Party::Agent(who.to_string()),
            visible: false,
        }
    }
    fn system(at: i64) -> Line {
        Line {
            at_ms: at,
            party: Party::System,
            visible: true,
        }
    }

    /// The scripted history of `docs/reports.md`: started at 0, a note at 1 min and a
    /// system line at 2 min do not answer; Ann replies at 3 min (first response 180 s);
    /// the customer writes at 4 and 5 min (one wait from 4 min); Ann replies at 6 and 7
    /// min (the second reply waited for nothing); the chat is closed and reopened, the
    /// customer writes at 20 min, Bob (holder at the end) answers at 30 min.
    fn scripted() -> Vec<Line> {
        vec![
            note(MIN, "ann"),
            system(2 * MIN),
            reply(3 * MIN, "ann"),
            cust(4 * MIN),
            cust(5 * MIN),
            reply(6 * MIN, "ann"),
            reply(7 * MIN, "ann"),
            system(8 * MIN),
            system(19 * MIN),
            cust(20 * MIN),
            note(25 * MIN, "bob"),
            reply(30 * MIN, "bob"),
        ]
    }

    #[test]
    fn first_response_skips_notes_and_system_lines() {
        let r = responses(0, &scripted());
        assert_eq!(r[0].agent_id, "ann");
        assert!(r[0].first);
        assert_eq!(r[0].wait_ms(), 3 * MIN);
    }

    #[test]
    fn each_wait_is_answered_once_from_its_first_customer_message() {
        let r = responses(0, &scripted());
        let waits: Vec<(String, i64, bool)> = r
            .iter()
            .map(|r| (r.agent_id.clone(), r.wait_ms() / 1000, r.first))
            .collect();
        assert_eq!(
            waits,
            vec![
                ("ann".to_string(), 180, true),
                ("ann".to_string(), 120, false),
                ("bob".to_string(), 600, false),
            ]
        );
        // Average response time of the chat: (180 + 120 + 600) / 3 = 300 s.
        let sum: i64 = r.iter().map(Response::wait_ms).sum();
        assert_eq!(avg_s(sum, r.len() as u64), Some(300.0));
    }

    #[test]
    fn a_chat_nobody_answered_has_no_response() {
        assert!(responses(0, &[cust(MIN), note(2 * MIN, "ann"), system(3 * MIN)]).is_empty());
        // An unanswered last wait is not counted either.
        let r = responses(0, &[reply(MIN, "ann"), cust(2 * MIN)]);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_reopened_chat_resolves_from_its_creation() {
        // Created at 0, closed at 8 min, reopened at 19 min, closed again at 31 min.
        assert_eq!(resolution_ms(0, 31 * MIN), 31 * MIN);
    }

    #[test]
    fn csat_counts_four_and_five_among_rated() {
        let c = Csat::from_scores([5, 4, 3, 1, 5, 0, 9]);
        assert_eq!(c.rated, 5);
        assert_eq!(c.breakdown, [1, 0, 1, 1, 2]);
        assert_eq!(c.score_pct(), Some(60.0));
        assert_eq!(Csat::default().score_pct(), None);
        assert_eq!(score_pct(2, 3), Some(66.7));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    fn ms(rfc: &str) -> i64 {
        rfc.parse::<Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn dates_are_whole_days_in_the_readers_timezone() {
        let now = ms("2026-03-10T12:00:00Z");
        let p = Period::parse(
            Some("2026-03-01"),
            Some("2026-03-02"),
            Some("America/New_York"),
            now,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        // New York is UTC-5 in early March: the two days run 05:00Z to 05:00Z.
        assert_eq!(p.start_ms, ms("2026-03-01T05:00:00Z"));
        assert_eq!(p.end_ms, ms("2026-03-03T05:00:00Z"));
        // 04:59Z on the 1st is still February 28th in New York.
        assert!(!p.contains(ms("2026-03-01T04:59:59Z")));
        assert!(p.contains(ms("2026-03-01T05:00:00Z")));
    }

    #[test]
    fn a_day_across_a_dst_change_has_23_hours() {
        let p = Period::parse(
            Some("2026-03-29"),
            Some("2026-03-29"),
            Some("Europe/Paris"),
            0,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.end_ms - p.start_ms, 23 * 3_600_000);
        let days = buckets(&p, Bucket::Day);
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].label, "2026-03-29");
    }

    #[test]
    fn bad_periods_are_invalid() {
        for (from, to, tz) in [
            (Some("2026-03-02"), Some("2026-03-01"), None),
            (Some("yesterday"), None, None),
            (Some("2026-03-01"), Some("2026-03-02"), Some("Mars/Olympus")),
            (Some("2024-01-01"), Some("2026-01-01"), None),
        ] {
            let e = Period::parse(from, to, tz, ms("2026-03-10T12:00:00Z"));
            assert!(e.is_err(), "{from:?} {to:?} {tz:?}");
        }
        assert!(Metric::parse(Some("happiness")).is_err());
        assert!(Bucket::parse(Some("year")).is_err());
        assert_eq!(
            Metric::parse(Some("first_response_s")).ok(),
            Some(Metric::FirstResponse)
        );
    }

    #[test]
    fn the_default_period_is_thirty_days_ending_today() {
        let p = Period::parse(None, None, Some("Asia/Kolkata"), ms("2026-03-10T20:00:00Z"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        // 20:00Z is already March 11th in Kolkata (UTC+5:30).
        assert_eq!(p.end_ms, ms("2026-03-11T18:30:00Z"));
        assert_eq!(p.start_ms, ms("2026-02-09T18:30:00Z"));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let p = Period::parse(Some("2026-03-04"), Some("2026-03-17"), None, 0)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let weeks = buckets(&p, Bucket::Week);
        let labels: Vec<&str> = weeks.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["2026-03-02", "2026-03-09", "2026-03-16"]);
        assert_eq!(weeks[0].start_ms, p.start_ms);
        assert_eq!(weeks[2].end_ms, p.end_ms);
        let months = buckets(
            &Period::parse(Some("2026-01-31"), Some("2026-03-01"), None, 0)
                .unwrap_or_else(|e| panic!("{e:?}")),
            Bucket::Month,
        );
        assert_eq!(months.len(), 3);
        assert_eq!(bucket_index(&months, ms("2026-02-15T00:00:00Z")), Some(1));
        assert_eq!(bucket_index(&months, ms("2026-03-02T00:00:00Z")), None);
    }

    fn actor(id: &str, role: Role) -> Actor {
        Actor {
            id: id.to_string(),
            name: id.to_string(),
            role,
            department_ids: vec!["d1".to_string()],
        }
    }

    #[test]
    fn agents_see_their_own_figures_and_overseers_everyones() {
        let ann = actor("ann", Role::Agent);
        assert_eq!(
            report_scope(&ann, None, None).ok(),
            Some(ReportScope::Own {
                agent_id: "ann".into(),
                department_id: None
            })
        );
        assert!(report_scope(&ann, Some("ann"), None).is_ok());
        assert!(report_scope(&ann, Some("bob"), None).is_err());
        let sup = actor("sue", Role::Supervisor);
        assert_eq!(
            report_scope(&sup, Some("bob"), None)
                .ok()
                .and_then(|s| s.agent_id().map(str::to_string)),
            Some("bob".to_string())
        );
    }
}
