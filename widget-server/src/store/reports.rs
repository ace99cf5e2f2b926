//! What both backends share to keep the response rollup (how a stored message reads
//! as a history line, how far back a refresh looks), and each report as the store's
//! aggregates assembled by the rules.

use shared::report::{AgentsReport, RatingsReport, Summary, Timeseries};

use super::{ReportFilter, ReportGroup, Store, StoreResult};
use crate::domain::metrics::{Bucket, Line, Metric, Party, Period, ReportScope};
use crate::domain::report;

/// Chats refreshed per write job (keeps each job short next to live writes).
pub const REFRESH_CHUNK: i64 = 500;

/// A refresh looks this far behind the previous one, for writes that were in flight
/// (or stamped by a node whose clock is behind) when it ran.
pub const WATERMARK_MARGIN_MS: i64 = 5 * 60_000;

/// A stored message (`author_kind`, `author_id`, `kind`, `created_at`) as a line of
/// the chat's history.
pub fn history_line(author_kind: &str, author_id: &str, kind: &str, at_ms: i64) -> Line {
    let party = match author_kind {
        "customer" => Party::Customer,
        "agent" => Party::Agent(author_id.to_string()),
        _ => Party::System,
    };
    Line {
        at_ms,
        party,
        visible: kind == "text",
    }
}

/// What a report of this scope reads in this period.
pub fn filter(period: &Period, scope: &ReportScope) -> ReportFilter {
    ReportFilter {
        start_ms: period.start_ms,
        end_ms: period.end_ms,
        agent_id: scope.agent_id().map(str::to_string),
        department_id: scope.department_id().map(str::to_string),
    }
}

/// The period's figures for the scope.
pub async fn summary(
    store: &dyn Store,
    period: &Period,
    scope: &ReportScope,
) -> StoreResult<Summary> {
    store.refresh_reports().await?;
    let f = filter(period, scope);
    let totals = store.report_totals(&f, ReportGroup::Agent).await?;
    let values = store.report_values(&f).await?;
    Ok(report::summary(period, &totals, &values))
}

/// One row per agent the scope shows (an agent: their own).
pub async fn agents(
    store: &dyn Store,
    period: &Period,
    scope: &ReportScope,
) -> StoreResult<AgentsReport> {
    store.refresh_reports().await?;
    let f = filter(period, scope);
    let totals = store.report_totals(&f, ReportGroup::Agent).await?;
    let values = store.report_values(&f).await?;
    let mut named: Vec<(String, String)> = store
        .agents()
        .await?
        .into_iter()
        .filter(|a| scope.agent_id().is_none_or(|id| id == a.id))
        .filter(|a| {
            scope
                .department_id()
                .is_none_or(|d| a.department_ids.iter().any(|x| x == d))
        })
        .map(|a| (a.id, a.name))
        .collect();
    named.sort_by_key(|a| a.1.to_lowercase());
    Ok(AgentsReport {
        period: report::wire_period(period),
        items: report::agent_rows(&named, &totals, &values),
    })
}

/// A metric per day, week or month of the period.
pub async fn timeseries(
    store: &dyn Store,
    period: &Period,
    scope: &ReportScope,
    metric: Metric,
    bucket: Bucket,
) -> StoreResult<Timeseries> {
    store.refresh_reports().await?;
    let slots = store
        .report_totals(&filter(period, scope), ReportGroup::Slot)
        .await?;
    Ok(Timeseries {
        period: report::wire_period(period),
        metric: metric.as_str().to_string(),
        bucket: match bucket {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
        .to_string(),
        points: report::series(period, bucket, metric, &slots),
    })
}

/// The rating breakdown and the newest comments.
pub async fn ratings(
    store: &dyn Store,
    period: &Period,
    scope: &ReportScope,
) -> StoreResult<RatingsReport> {
    let f = filter(period, scope);
    let totals = store.report_totals(&f, ReportGroup::Agent).await?;
    let comments = store.report_comments(&f, 100).await?;
    Ok(report::ratings(period, &totals, comments))
}
