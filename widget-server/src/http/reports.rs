//! `/reports/*`: the summary, the per-agent table, time series and ratings, as JSON,
//! CSV or XLSX. Agents get their own figures only; supervisors and admins everyone's.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use shared::limits::validate_id;

use super::AuthAgent;
use super::export::{Cell, Format, Table, download};
use crate::AppState;
use crate::domain::metrics::{Bucket, Metric, Period, ReportScope, report_scope};
use crate::error::{ApiQuery, ApiResult};
use crate::store::{now_ms, reports};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/summary", get(summary))
        .route("/reports/agents", get(agents))
        .route("/reports/timeseries", get(timeseries))
        .route("/reports/ratings", get(ratings))
}

#[derive(Deserialize)]
struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    tz: Option<String>,
    agent_id: Option<String>,
    department_id: Option<String>,
    format: Option<String>,
    metric: Option<String>,
    bucket: Option<String>,
}

/// Everything every report route checks before it reads anything.
fn parse(auth: &AuthAgent, q: &ReportQuery) -> ApiResult<(Period, ReportScope, Format)> {
    let format = Format::parse(q.format.as_deref())?;
    let period = Period::parse(
        q.from.as_deref(),
        q.to.as_deref(),
        q.tz.as_deref(),
        now_ms(),
    )?;
    if let Some(id) = &q.agent_id {
        validate_id("agent_id", id)?;
    }
    if let Some(id) = &q.department_id {
        validate_id("department_id", id)?;
    }
    let scope = report_scope(
        &auth.actor,
        q.agent_id.as_deref(),
        q.department_id.as_deref(),
    )?;
    Ok((period, scope, format))
}

fn json<T: serde::Serialize>(v: &T) -> Response {
    axum::Json(v).into_response()
}

async fn summary(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let (period, scope, format) = parse(&auth, &q)?;
    let s = reports::summary(state.store.as_ref(), &period, &scope).await?;
    if format == Format::Json {
        return Ok(json(&s));
    }
    let row = |name: &str, v: Option<f64>| vec![Cell::from(name), Cell::Num(v)];
    let n = |v: u64| Some(v as f64);
    let mut rows = vec![
        row("chats_handled", n(s.chats_handled)),
        row("tickets_handled", n(s.tickets_handled)),
        row("first_response_avg_s", s.first_response_s.avg),
        row("first_response_p50_s", s.first_response_s.p50),
        row("first_response_p90_s", s.first_response_s.p90),
        row("first_responses", n(s.first_response_s.count)),
        row("response_avg_s", s.response_s.avg),
        row("responses", n(s.response_s.count)),
        row("resolution_avg_s", s.resolution_s.avg),
        row("resolution_p50_s", s.resolution_s.p50),
        row("rated", n(s.csat.rated)),
        row("csat_pct", s.csat.score_pct),
    ];
    for (score, count) in &s.csat.breakdown {
        rows.push(vec![
            Cell::from(format!("rated_{score}")),
            Cell::from(*count),
        ]);
    }
    let table = Table {
        name: "summary",
        headers: vec!["figure", "value"],
        rows,
    };
    Ok(download(&table, format, "report-summary")?)
}

async fn agents(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let (period, scope, format) = parse(&auth, &q)?;
    let r = reports::agents(state.store.as_ref(), &period, &scope).await?;
    if format == Format::Json {
        return Ok(json(&r));
    }
    let table = Table {
        name: "agents",
        headers: vec![
            "agent_id",
            "name",
            "chats_handled",
            "tickets_handled",
            "first_response_avg_s",
            "first_response_p50_s",
            "first_response_p90_s",
            "response_avg_s",
            "resolution_avg_s",
            "resolution_p50_s",
            "rated",
            "csat_pct",
        ],
        rows: r
            .items
            .into_iter()
            .map(|a| {
                vec![
                    Cell::from(a.agent_id),
                    Cell::from(a.name),
                    Cell::from(a.chats_handled),
                    Cell::from(a.tickets_handled),
                    Cell::from(a.first_response_avg_s),
                    Cell::from(a.first_response_p50_s),
                    Cell::from(a.first_response_p90_s),
                    Cell::from(a.response_avg_s),
                    Cell::from(a.resolution_avg_s),
                    Cell::from(a.resolution_p50_s),
                    Cell::from(a.rated),
                    Cell::from(a.csat_pct),
                ]
            })
            .collect(),
    };
    Ok(download(&table, format, "report-agents")?)
}

async fn timeseries(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let (period, scope, format) = parse(&auth, &q)?;
    let metric = Metric::parse(q.metric.as_deref())?;
    let bucket = Bucket::parse(q.bucket.as_deref())?;
    let t = reports::timeseries(state.store.as_ref(), &period, &scope, metric, bucket).await?;
    if format == Format::Json {
        return Ok(json(&t));
    }
    let table = Table {
        name: "timeseries",
        headers: vec!["bucket", metric.as_str(), "count"],
        rows: t
            .points
            .into_iter()
            .map(|p| {
                vec![
                    Cell::from(p.bucket),
                    Cell::from(p.value),
                    Cell::from(p.count),
                ]
            })
            .collect(),
    };
    Ok(download(&table, format, "report-timeseries")?)
}

async fn ratings(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let (period, scope, format) = parse(&auth, &q)?;
    let r = reports::ratings(state.store.as_ref(), &period, &scope).await?;
    if format == Format::Json {
        return Ok(json(&r));
    }
    let mut rows: Vec<Vec<Cell>> = r
        .csat
        .breakdown
        .iter()
        .map(|(score, count)| {
            vec![
                Cell::from("count"),
                Cell::from(score.as_str()),
                Cell::from(*count),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
            ]
        })
        .collect();
    for c in r.comments {
        rows.push(vec![
            Cell::from("comment"),
            Cell::from(c.score.to_string()),
            Cell::Num(None),
            Cell::from(c.chat_id),
            Cell::from(c.agent_id.unwrap_or_default()),
            Cell::from(c.closed_at),
            Cell::from(c.comment),
        ]);
    }
    let table = Table {
        name: "ratings",
        headers: vec![
            "row",
            "score",
            "count",
            "chat_id",
            "agent_id",
            "closed_at",
            "comment",
        ],
        rows,
    };
    Ok(download(&table, format, "report-ratings")?)
}
