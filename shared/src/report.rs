//! Report answers on the wire: the summary, the per-agent table, time series and the
//! rating breakdown (definitions in `docs/reports.md`). Seconds and percentages carry
//! one decimal; `null` means there was nothing to measure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeStat {
    pub avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// How many measurements the figures are over.
    #[serde(default)]
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CsatStat {
    pub rated: u64,
    pub score_pct: Option<f64>,
    /// Count of each score, keyed "1".."5".
    pub breakdown: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub from: String,
    pub to: String,
    pub tz: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub period: Period,
    pub chats_handled: u64,
    pub tickets_handled: u64,
    pub first_response_s: TimeStat,
    pub response_s: TimeStat,
    pub resolution_s: TimeStat,
    pub csat: CsatStat,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub agent_id: String,
    pub name: String,
    pub chats_handled: u64,
    pub tickets_handled: u64,
    pub first_response_avg_s: Option<f64>,
    pub first_response_p50_s: Option<f64>,
    pub first_response_p90_s: Option<f64>,
    pub response_avg_s: Option<f64>,
    pub resolution_avg_s: Option<f64>,
    pub resolution_p50_s: Option<f64>,
    pub rated: u64,
    pub csat_pct: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentsReport {
    pub period: Period,
    pub items: Vec<AgentRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The bucket's first day in the reader's timezone, `YYYY-MM-DD`.
    pub bucket: String,
    pub value: Option<f64>,
    /// How many measurements the value is over.
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeseries {
    pub period: Period,
    pub metric: String,
    pub bucket: String,
    pub points: Vec<SeriesPoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingComment {
    pub chat_id: String,
    pub agent_id: Option<String>,
    pub score: u8,
    pub comment: String,
    pub closed_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingsReport {
    pub period: Period,
    pub csat: CsatStat,
    /// The newest comments first, at most 100.
    pub comments: Vec<RatingComment>,
}
