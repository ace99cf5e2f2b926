//! Report answers assembled from the store's sums and measurements: the summary, the
//! per-agent table, time series and ratings (definitions in `docs/reports.md`).
//! Pure: the store aggregates, these functions only combine.

use std::collections::{BTreeMap, HashMap};

use shared::report::{
    AgentRow, CsatStat, Period as WirePeriod, RatingComment, RatingsReport, SeriesPoint, Summary,
    TimeStat,
};

use super::metrics::{self, Bucket, Csat, Metric, Period, avg_s, percentile, secs};

/// What a report reads: a half-open period of Unix milliseconds, optionally one
/// agent's or one department's.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub start_ms: i64,
    pub end_ms: i64,
    pub agent_id: Option<String>,
    pub department_id: Option<String>,
}

/// The width of a time-series slot: every timezone's midnight falls on one's edge.
pub const REPORT_SLOT_MS: i64 = 15 * 60_000;

/// Sums over a group (an agent, or a `REPORT_SLOT_MS` slot) of a period: answered
/// waits (by the time of the reply) and handled chats (by the time of the close).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportTotals {
    /// The agent (grouped by agent) or empty.
    pub agent_id: String,
    /// The slot number (`ms / REPORT_SLOT_MS`, grouped by slot) or 0.
    pub slot: i64,
    pub responses: u64,
    pub response_sum_ms: i64,
    pub first_responses: u64,
    pub first_response_sum_ms: i64,
    pub handled: u64,
    pub resolution_sum_ms: i64,
    /// Ratings 1..=5 of the handled chats at index 0..=4.
    pub ratings: [u64; 5],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportGroup {
    Agent,
    Slot,
}

/// The single measurements that percentiles need, per agent, ascending.
#[derive(Debug, Clone, Default)]
pub struct ReportValues {
    pub first_response_ms: Vec<(String, i64)>,
    pub resolution_ms: Vec<(String, i64)>,
}

/// A rated, handled chat with a comment.
#[derive(Debug, Clone)]
pub struct RatedChat {
    pub chat_id: String,
    pub agent_id: Option<String>,
    pub score: u8,
    pub comment: String,
    pub closed_ms: i64,
}

impl ReportTotals {
    /// Adds another group's sums into this one.
    pub fn absorb(&mut self, o: &ReportTotals) {
        self.responses += o.responses;
        self.response_sum_ms += o.response_sum_ms;
        self.first_responses += o.first_responses;
        self.first_response_sum_ms += o.first_response_sum_ms;
        self.handled += o.handled;
        self.resolution_sum_ms += o.resolution_sum_ms;
        for (a, b) in self.ratings.iter_mut().zip(o.ratings) {
            *a += b;
        }
    }

    pub fn csat(&self) -> Csat {
        let mut c = Csat::default();
        for (i, n) in self.ratings.iter().enumerate() {
            c.add(i as u8 + 1, *n);
        }
        c
    }
}

/// An RFC 3339 UTC time for a Unix millisecond.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn wire_period(p: &Period) -> WirePeriod {
    WirePeriod {
        from: rfc3339(p.start_ms),
        to: rfc3339(p.end_ms),
        tz: p.tz_name.clone(),
    }
}

fn csat_stat(c: &Csat) -> CsatStat {
    CsatStat {
        rated: c.rated,
        score_pct: c.score_pct(),
        breakdown: (1..=5)
            .map(|s| (s.to_string(), c.breakdown[s - 1]))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn sorted(values: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = values.collect();
    v.sort_unstable();
    v
}

fn stat(sum_ms: i64, count: u64, sorted_ms: Option<&[i64]>) -> TimeStat {
    TimeStat {
        avg: avg_s(sum_ms, count),
        p50: sorted_ms.and_then(|v| percentile(v, 50)).map(secs),
        p90: sorted_ms.and_then(|v| percentile(v, 90)).map(secs),
        count,
    }
}

/// The whole period's figures from the per-agent sums and the measurements.
pub fn summary(period: &Period, totals: &[ReportTotals], values: &ReportValues) -> Summary {
    let mut all = ReportTotals::default();
    for t in totals {
        all.absorb(t);
    }
    let frt = sorted(values.first_response_ms.iter().map(|(_, v)| *v));
    let res = sorted(values.resolution_ms.iter().map(|(_, v)| *v));
    let mut resolution = stat(all.resolution_sum_ms, all.handled, Some(&res));
    resolution.p90 = None;
    Summary {
        period: wire_period(period),
        chats_handled: all.handled,
        tickets_handled: 0,
        first_response_s: stat(all.first_response_sum_ms, all.first_responses, Some(&frt)),
        response_s: stat(all.response_sum_ms, all.responses, None),
        resolution_s: resolution,
        csat: csat_stat(&all.csat()),
    }
}

/// One row per agent named (in the order given) and per agent with figures that is
/// not named (after them).
pub fn agent_rows(
    agents: &[(String, String)],
    totals: &[ReportTotals],
    values: &ReportValues,
) -> Vec<AgentRow> {
    let mut frt: HashMap<&str, Vec<i64>> = HashMap::new();
    for (a, v) in &values.first_response_ms {
        frt.entry(a.as_str()).or_default().push(*v);
    }
    let mut res: HashMap<&str, Vec<i64>> = HashMap::new();
    for (a, v) in &values.resolution_ms {
        res.entry(a.as_str()).or_default().push(*v);
    }
    for v in frt.values_mut().chain(res.values_mut()) {
        v.sort_unstable();
    }
    let by_id: HashMap<&str, &ReportTotals> =
        totals.iter().map(|t| (t.agent_id.as_str(), t)).collect();
    let mut ids: Vec<(String, String)> = agents.to_vec();
    for t in totals {
        if !agents.iter().any(|(id, _)| *id == t.agent_id) {
            ids.push((t.agent_id.clone(), t.agent_id.clone()));
        }
    }
    let empty = ReportTotals::default();
    ids.into_iter()
        .map(|(id, name)| {
            let t = by_id.get(id.as_str()).copied().unwrap_or(&empty);
            let f = frt.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let r = res.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let c = t.csat();
            AgentRow {
                chats_handled: t.handled,
                tickets_handled: 0,
                first_response_avg_s: avg_s(t.first_response_sum_ms, t.first_responses),
                first_response_p50_s: percentile(f, 50).map(secs),
                first_response_p90_s: percentile(f, 90).map(secs),
                response_avg_s: avg_s(t.response_sum_ms, t.responses),
                resolution_avg_s: avg_s(t.resolution_sum_ms, t.handled),
                resolution_p50_s: percentile(r, 50).map(secs),
                rated: c.rated,
                csat_pct: c.score_pct(),
                agent_id: id,
                name,
            }
        })
        .collect()
}

/// A metric per bucket of the period, from per-slot sums.
pub fn series(
    period: &Period,
    bucket: Bucket,
    metric: Metric,
    slots: &[ReportTotals],
) -> Vec<SeriesPoint> {
    let spans = metrics::buckets(period, bucket);
    let mut sums = vec![ReportTotals::default(); spans.len()];
    for s in slots {
        if let Some(i) = metrics::bucket_index(&spans, s.slot * REPORT_SLOT_MS) {
            sums[i].absorb(s);
        } else if let Some(i) =
            metrics::bucket_index(&spans, (s.slot * REPORT_SLOT_MS).max(period.start_ms))
        {
            // The period's first slot may start before the period (a `from` time
            // that is not on a slot edge).
            sums[i].absorb(s);
        }
    }
    spans
        .iter()
        .zip(sums)
        .map(|(span, t)| {
            let (value, count) = match metric {
                Metric::ChatsHandled => (Some(t.handled as f64), t.handled),
                Metric::TicketsHandled => (Some(0.0), 0),
                Metric::FirstResponse => (
                    avg_s(t.first_response_sum_ms, t.first_responses),
                    t.first_responses,
                ),
                Metric::Response => (avg_s(t.response_sum_ms, t.responses), t.responses),
                Metric::Resolution => (avg_s(t.resolution_sum_ms, t.handled), t.handled),
                Metric::Csat => {
                    let c = t.csat();
                    (c.score_pct(), c.rated)
                }
            };
            SeriesPoint {
                bucket: span.label.clone(),
                value,
                count,
            }
        })
        .collect()
}

/// The rating breakdown and the newest comments.
pub fn ratings(
    period: &Period,
    totals: &[ReportTotals],
    comments: Vec<RatedChat>,
) -> RatingsReport {
    let mut all = ReportTotals::default();
    for t in totals {
        all.absorb(t);
    }
    RatingsReport {
        period: wire_period(period),
        csat: csat_stat(&all.csat()),
        comments: comments
            .into_iter()
            .map(|c| RatingComment {
                chat_id: c.chat_id,
                agent_id: c.agent_id,
                score: c.score,
                comment: c.comment,
                closed_at: rfc3339(c.closed_ms),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period() -> Period {
        Period::parse(Some("2026-03-01"), Some("2026-03-02"), Some("UTC"), 0)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn totals(
        agent: &str,
        slot: i64,
        handled: u64,
        res_ms: i64,
        ratings: [u64; 5],
    ) -> ReportTotals {
        ReportTotals {
            agent_id: agent.into(),
            slot,
            responses: 2,
            response_sum_ms: 300_000,
            first_responses: 1,
            first_response_sum_ms: 180_000,
            handled,
            resolution_sum_ms: res_ms,
            ratings,
        }
    }

    #[test]
    fn the_summary_adds_up_the_agents() {
        let t = [
            totals("ann", 0, 1, 1_860_000, [0, 0, 0, 0, 1]),
            totals("bob", 0, 2, 600_000, [1, 0, 0, 1, 0]),
        ];
        let v = ReportValues {
            first_response_ms: vec![("ann".into(), 180_000), ("bob".into(), 60_000)],
            resolution_ms: vec![("ann".into(), 1_860_000)],
        };
        let s = summary(&period(), &t, &v);
        assert_eq!(s.chats_handled, 3);
        assert_eq!(s.first_response_s.avg, Some(180.0));
        assert_eq!(s.first_response_s.p50, Some(60.0));
        assert_eq!(s.first_response_s.p90, Some(180.0));
        assert_eq!(s.response_s.avg, Some(150.0));
        assert_eq!(s.resolution_s.avg, Some(820.0));
        assert_eq!(s.csat.rated, 3);
        assert_eq!(s.csat.score_pct, Some(66.7));
        assert_eq!(s.csat.breakdown.get("1"), Some(&1));
        assert_eq!(s.period.from, "2026-03-01T00:00:00Z");
        assert_eq!(s.period.to, "2026-03-03T00:00:00Z");
    }

    #[test]
    fn every_named_agent_has_a_row_even_without_figures() {
        let rows = agent_rows(
            &[("ann".into(), "Ann".into()), ("cat".into(), "Cat".into())],
            &[totals("ann", 0, 1, 1000, [0; 5])],
            &ReportValues::default(),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].chats_handled, 1);
        assert_eq!(rows[1].name, "Cat");
        assert_eq!(rows[1].response_avg_s, None);
    }

    #[test]
    fn slots_fall_into_the_readers_days() {
        let p = period();
        let day2 = p.start_ms + 86_400_000;
        let slots = [
            totals("", p.start_ms / REPORT_SLOT_MS, 1, 0, [0; 5]),
            totals("", day2 / REPORT_SLOT_MS + 95, 2, 0, [0; 5]),
        ];
        let pts = series(&p, Bucket::Day, Metric::ChatsHandled, &slots);
        let got: Vec<(&str, Option<f64>)> =
            pts.iter().map(|p| (p.bucket.as_str(), p.value)).collect();
        assert_eq!(got, [("2026-03-01", Some(1.0)), ("2026-03-02", Some(2.0))]);
    }
}
