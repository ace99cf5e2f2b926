//! Report aggregates: the response rollup is refreshed on the writer in chunks (one
//! node at a time: an advisory lock), the aggregates read covering indexes.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use super::{PgResult, PgStore, Tx};
use crate::domain::metrics;
use crate::store::reports::{REFRESH_CHUNK, WATERMARK_MARGIN_MS, history_line};
use crate::store::{
    REPORT_SLOT_MS, RatedChat, ReportFilter, ReportGroup, ReportStore, ReportTotals, ReportValues,
    StoreResult, now_ms,
};

/// The advisory lock that lets one node at a time refresh the rollup.
const REFRESH_LOCK: i64 = 0x7265_706f_7274;

const STALE_SQL: &str = "SELECT c.id, c.last_seq, c.department_id, c.created_at FROM chats c \
    LEFT JOIN report_chats r ON r.chat_id = c.id \
    WHERE c.last_message_at >= $1 AND (r.last_seq IS NULL OR r.last_seq != c.last_seq) LIMIT $2";

const FILTER: &str =
    "AND ($3::TEXT IS NULL OR agent_id = $3) AND ($4::TEXT IS NULL OR department_id = $4)";
const CHAT_FILTER: &str =
    "AND ($3::TEXT IS NULL OR assignee_id = $3) AND ($4::TEXT IS NULL OR department_id = $4)";

async fn op_refresh_reports(t: &mut Tx) -> PgResult<bool> {
    let started = now_ms();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK)
        .execute(t.conn())
        .await?;
    let watermark: i64 = sqlx::query_scalar("SELECT watermark FROM report_state WHERE id = 1")
        .fetch_one(t.conn())
        .await?;
    let stale = sqlx::query(STALE_SQL)
        .bind(watermark)
        .bind(REFRESH_CHUNK)
        .fetch_all(t.conn())
        .await?;
    for row in &stale {
        let id: String = row.try_get(0)?;
        let last_seq: i64 = row.try_get(1)?;
        let department_id: String = row.try_get(2)?;
        let created_at: i64 = row.try_get(3)?;
        let msgs = sqlx::query(
            "SELECT author_kind, author_id, kind, created_at FROM messages \
             WHERE chat_id = $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(&id)
        .bind(last_seq)
        .fetch_all(t.conn())
        .await?;
        let mut lines = Vec::with_capacity(msgs.len());
        for m in &msgs {
            let kind: String = m.try_get(0)?;
            let author: String = m.try_get(1)?;
            let mkind: String = m.try_get(2)?;
            lines.push(history_line(&kind, &author, &mkind, m.try_get(3)?));
        }
        sqlx::query("DELETE FROM report_responses WHERE chat_id = $1")
            .bind(&id)
            .execute(t.conn())
            .await?;
        for r in metrics::responses(created_at, &lines) {
            sqlx::query(
                "INSERT INTO report_responses (chat_id, agent_id, department_id, answered_at, wait_ms, first) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(&r.agent_id)
            .bind(&department_id)
            .bind(r.answered_ms)
            .bind(r.wait_ms())
            .bind(i64::from(r.first))
            .execute(t.conn())
            .await?;
        }
        sqlx::query(
            "INSERT INTO report_chats (chat_id, last_seq) VALUES ($1, $2) \
             ON CONFLICT (chat_id) DO UPDATE SET last_seq = excluded.last_seq",
        )
        .bind(&id)
        .bind(last_seq)
        .execute(t.conn())
        .await?;
    }
    let done = (stale.len() as i64) < REFRESH_CHUNK;
    if done {
        sqlx::query("UPDATE report_state SET watermark = GREATEST(watermark, $1) WHERE id = 1")
            .bind(started - WATERMARK_MARGIN_MS)
            .execute(t.conn())
            .await?;
    }
    Ok(done)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl PgStore {
    async fn report_rows(&self, sql: String, f: &ReportFilter) -> StoreResult<Vec<PgRow>> {
        let f = f.clone();
        self.read(move |c| {
            Box::pin(async move {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(f.start_ms)
                    .bind(f.end_ms)
                    .bind(f.agent_id)
                    .bind(f.department_id)
                    .fetch_all(c)
                    .await
            })
        })
        .await
    }
}

fn col<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    r: &'r PgRow,
    i: usize,
) -> StoreResult<T> {
    r.try_get(i).map_err(crate::store::fail::read_failed)
}

#[async_trait]
impl ReportStore for PgStore {
    async fn refresh_reports(&self) -> StoreResult<()> {
        let any = self
            .read(move |c| {
                Box::pin(async move {
                    let watermark: i64 =
                        sqlx::query_scalar("SELECT watermark FROM report_state WHERE id = 1")
                            .fetch_one(&mut *c)
                            .await?;
                    sqlx::query(STALE_SQL)
                        .bind(watermark)
                        .bind(1_i64)
                        .fetch_optional(&mut *c)
                        .await
                })
            })
            .await?;
        if any.is_none() {
            return Ok(());
        }
        while !run_op!(self, op_refresh_reports())? {}
        Ok(())
    }

    async fn report_totals(
        &self,
        f: &ReportFilter,
        group: ReportGroup,
    ) -> StoreResult<Vec<ReportTotals>> {
        let (key, key_chat) = match group {
            ReportGroup::Agent => ("agent_id", "assignee_id"),
            ReportGroup::Slot => ("(answered_at / 900000)::TEXT", "(closed_at / 900000)::TEXT"),
        };
        debug_assert_eq!(REPORT_SLOT_MS, 900_000);
        let responses = format!(
            "SELECT {key}, COUNT(*), SUM(wait_ms)::BIGINT, SUM(first)::BIGINT, \
             SUM(first * wait_ms)::BIGINT FROM report_responses \
             WHERE answered_at >= $1 AND answered_at < $2 {FILTER} GROUP BY 1"
        );
        let handled = format!(
            "SELECT {key_chat}, COUNT(*), SUM(closed_at - created_at)::BIGINT, \
             COUNT(*) FILTER (WHERE rating_score = 1), COUNT(*) FILTER (WHERE rating_score = 2), \
             COUNT(*) FILTER (WHERE rating_score = 3), COUNT(*) FILTER (WHERE rating_score = 4), \
             COUNT(*) FILTER (WHERE rating_score = 5) FROM chats \
             WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2 \
             AND assignee_id IS NOT NULL {CHAT_FILTER} GROUP BY 1"
        );
        let mut out: HashMap<String, ReportTotals> = HashMap::new();
        for r in self.report_rows(responses, f).await? {
            let k: String = col(&r, 0)?;
            let e = out.entry(k).or_default();
            e.responses = u(col(&r, 1)?);
            e.response_sum_ms = col(&r, 2)?;
            e.first_responses = u(col(&r, 3)?);
            e.first_response_sum_ms = col(&r, 4)?;
        }
        for r in self.report_rows(handled, f).await? {
            let k: String = col(&r, 0)?;
            let e = out.entry(k).or_default();
            e.handled = u(col(&r, 1)?);
            e.resolution_sum_ms = col(&r, 2)?;
            for (i, slot) in e.ratings.iter_mut().enumerate() {
                *slot = u(col(&r, 3 + i)?);
            }
        }
        let mut v: Vec<ReportTotals> = out
            .into_iter()
            .map(|(k, mut t)| {
                match group {
                    ReportGroup::Agent => t.agent_id = k,
                    ReportGroup::Slot => t.slot = k.parse().unwrap_or(0),
                }
                t
            })
            .collect();
        v.sort_by(|a, b| {
            a.slot
                .cmp(&b.slot)
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        });
        Ok(v)
    }

    async fn report_values(&self, f: &ReportFilter) -> StoreResult<ReportValues> {
        let first = format!(
            "SELECT agent_id, wait_ms FROM report_responses \
             WHERE answered_at >= $1 AND answered_at < $2 AND first = 1 {FILTER} ORDER BY wait_ms"
        );
        let resolution = format!(
            "SELECT assignee_id, closed_at - created_at FROM chats \
             WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2 \
             AND assignee_id IS NOT NULL {CHAT_FILTER} ORDER BY 2"
        );
        let mut out = ReportValues::default();
        for r in self.report_rows(first, f).await? {
            out.first_response_ms.push((col(&r, 0)?, col(&r, 1)?));
        }
        for r in self.report_rows(resolution, f).await? {
            out.resolution_ms.push((col(&r, 0)?, col(&r, 1)?));
        }
        Ok(out)
    }

    async fn report_comments(&self, f: &ReportFilter, limit: u32) -> StoreResult<Vec<RatedChat>> {
        let sql = format!(
            "SELECT id, assignee_id, rating_score, rating_comment, closed_at FROM chats \
             WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2 \
             AND assignee_id IS NOT NULL AND rating_comment IS NOT NULL AND rating_comment != '' \
             {CHAT_FILTER} ORDER BY closed_at DESC LIMIT {limit}"
        );
        let mut out = Vec::new();
        for r in self.report_rows(sql, f).await? {
            let score: i64 = col(&r, 2)?;
            out.push(RatedChat {
                chat_id: col(&r, 0)?,
                agent_id: col(&r, 1)?,
                score: u8::try_from(score).unwrap_or(0),
                comment: col(&r, 3)?,
                closed_ms: col(&r, 4)?,
            });
        }
        Ok(out)
    }
}
