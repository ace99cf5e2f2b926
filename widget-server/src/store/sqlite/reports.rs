//! Report aggregates: the response rollup is refreshed on the writer (in chunks, so
//! live writes interleave), the aggregates read covering indexes on the reader pool.

use super::*;
use crate::domain::metrics;
use crate::store::reports::{REFRESH_CHUNK, WATERMARK_MARGIN_MS, history_line};
use crate::store::{
    REPORT_SLOT_MS, RatedChat, ReportFilter, ReportGroup, ReportStore, ReportTotals, ReportValues,
};

/// Chats whose messages may be newer than the rollup.
const STALE_SQL: &str = "SELECT c.id, c.last_seq, c.department_id, c.created_at FROM chats c \
    LEFT JOIN report_chats r ON r.chat_id = c.id \
    WHERE c.last_message_at >= ?1 AND (r.last_seq IS NULL OR r.last_seq != c.last_seq) LIMIT ?2";

const FILTER: &str = "AND (?3 IS NULL OR agent_id = ?3) AND (?4 IS NULL OR department_id = ?4)";
const CHAT_FILTER: &str =
    "AND (?3 IS NULL OR assignee_id = ?3) AND (?4 IS NULL OR department_id = ?4)";

struct StaleChat {
    id: String,
    last_seq: i64,
    department_id: String,
    created_at: i64,
}

/// Recomputes the responses of up to `REFRESH_CHUNK` stale chats; true when none is
/// left (the watermark then moves up to this refresh).
fn op_refresh_reports(t: &mut Tx<'_>) -> WResult<bool> {
    let started = now_ms();
    let watermark: i64 = t.one("SELECT watermark FROM report_state WHERE id = 1", [])?;
    let stale: Vec<StaleChat> = t
        .conn
        .prepare_cached(STALE_SQL)?
        .query_map(params![watermark, REFRESH_CHUNK], |r| {
            Ok(StaleChat {
                id: r.get(0)?,
                last_seq: r.get(1)?,
                department_id: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    for chat in &stale {
        let lines: Vec<metrics::Line> = t
            .conn
            .prepare_cached(
                "SELECT author_kind, author_id, kind, created_at FROM messages \
                 WHERE chat_id = ? AND seq <= ? ORDER BY seq",
            )?
            .query_map(params![chat.id, chat.last_seq], |r| {
                let kind: String = r.get(0)?;
                let id: String = r.get(1)?;
                let mkind: String = r.get(2)?;
                Ok(history_line(&kind, &id, &mkind, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        t.exec(
            "DELETE FROM report_responses WHERE chat_id = ?",
            params![chat.id],
        )?;
        for r in metrics::responses(chat.created_at, &lines) {
            t.exec(
                "INSERT INTO report_responses (chat_id, agent_id, department_id, answered_at, wait_ms, first) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                params![
                    chat.id,
                    r.agent_id,
                    chat.department_id,
                    r.answered_ms,
                    r.wait_ms(),
                    i64::from(r.first)
                ],
            )?;
        }
        t.exec(
            "INSERT INTO report_chats (chat_id, last_seq) VALUES (?, ?) \
             ON CONFLICT (chat_id) DO UPDATE SET last_seq = excluded.last_seq",
            params![chat.id, chat.last_seq],
        )?;
    }
    let done = (stale.len() as i64) < REFRESH_CHUNK;
    if done {
        t.exec(
            "UPDATE report_state SET watermark = MAX(watermark, ?) WHERE id = 1",
            params![started - WATERMARK_MARGIN_MS],
        )?;
    }
    Ok(done)
}

fn binds<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    f: &ReportFilter,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(f.start_ms)
        .bind(f.end_ms)
        .bind(f.agent_id.clone())
        .bind(f.department_id.clone())
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn refresh_reports(&self) -> StoreResult<()> {
        // Most reports find nothing to do: ask the reader first, so a report costs
        // the writer nothing then.
        let watermark: i64 = sqlx::query_scalar("SELECT watermark FROM report_state WHERE id = 1")
            .fetch_one(&self.read)
            .await
            .map_err(read_failed)?;
        let any: Option<String> = sqlx::query_scalar(STALE_SQL)
            .bind(watermark)
            .bind(1_i64)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
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
            ReportGroup::Slot => (
                "CAST(answered_at / 900000 AS TEXT)",
                "CAST(closed_at / 900000 AS TEXT)",
            ),
        };
        debug_assert_eq!(REPORT_SLOT_MS, 900_000);
        let responses = format!(
            "SELECT {key}, COUNT(*), SUM(wait_ms), SUM(first), SUM(first * wait_ms) \
             FROM report_responses WHERE answered_at >= ?1 AND answered_at < ?2 {FILTER} GROUP BY 1"
        );
        let handled = format!(
            "SELECT {key_chat}, COUNT(*), SUM(closed_at - created_at), \
             SUM(rating_score = 1), SUM(rating_score = 2), SUM(rating_score = 3), \
             SUM(rating_score = 4), SUM(rating_score = 5) FROM chats \
             WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2 \
             AND assignee_id IS NOT NULL {CHAT_FILTER} GROUP BY 1"
        );
        let mut out: HashMap<String, ReportTotals> = HashMap::new();
        let slot_of = |k: &str| k.parse::<i64>().unwrap_or(0);
        let rows = binds(sqlx::query(AssertSqlSafe(responses)), f)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        for r in rows {
            let k: String = r.try_get(0).map_err(read_failed)?;
            let e = out.entry(k.clone()).or_default();
            e.responses = u(r.try_get(1).map_err(read_failed)?);
            e.response_sum_ms = r.try_get(2).map_err(read_failed)?;
            e.first_responses = u(r.try_get(3).map_err(read_failed)?);
            e.first_response_sum_ms = r.try_get(4).map_err(read_failed)?;
        }
        let rows = binds(sqlx::query(AssertSqlSafe(handled)), f)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        for r in rows {
            let k: String = r.try_get(0).map_err(read_failed)?;
            let e = out.entry(k.clone()).or_default();
            e.handled = u(r.try_get(1).map_err(read_failed)?);
            e.resolution_sum_ms = r.try_get(2).map_err(read_failed)?;
            for (i, slot) in e.ratings.iter_mut().enumerate() {
                *slot = u(r
                    .try_get::<Option<i64>, _>(3 + i)
                    .map_err(read_failed)?
                    .unwrap_or(0));
            }
        }
        let mut v: Vec<ReportTotals> = out
            .into_iter()
            .map(|(k, mut t)| {
                match group {
                    ReportGroup::Agent => t.agent_id = k,
                    ReportGroup::Slot => t.slot = slot_of(&k),
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
             WHERE answered_at >= ?1 AND answered_at < ?2 AND first = 1 {FILTER}"
        );
        let resolution = format!(
            "SELECT assignee_id, closed_at - created_at FROM chats \
             WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2 \
             AND assignee_id IS NOT NULL {CHAT_FILTER}"
        );
        let mut out = ReportValues::default();
        for (sql, into) in [
            (first, &mut out.first_response_ms),
            (resolution, &mut out.resolution_ms),
        ] {
            let rows = binds(sqlx::query(AssertSqlSafe(sql)), f)
                .fetch_all(&self.read)
                .await
                .map_err(read_failed)?;
            for r in rows {
                into.push((
                    r.try_get(0).map_err(read_failed)?,
                    r.try_get(1).map_err(read_failed)?,
                ));
            }
            into.sort_by_key(|(_, v)| *v);
        }
        Ok(out)
    }

    async fn report_comments(&self, f: &ReportFilter, limit: u32) -> StoreResult<Vec<RatedChat>> {
        let sql = format!(
            "SELECT id, assignee_id, rating_score, rating_comment, closed_at FROM chats \
             WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2 \
             AND assignee_id IS NOT NULL AND rating_comment IS NOT NULL AND rating_comment != '' \
             {CHAT_FILTER} ORDER BY closed_at DESC LIMIT ?5"
        );
        let rows = binds(sqlx::query(AssertSqlSafe(sql)), f)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let score: i64 = r.try_get(2).map_err(read_failed)?;
            out.push(RatedChat {
                chat_id: r.try_get(0).map_err(read_failed)?,
                agent_id: r.try_get(1).map_err(read_failed)?,
                score: u8::try_from(score).unwrap_or(0),
                comment: r.try_get(3).map_err(read_failed)?,
                closed_ms: r.try_get(4).map_err(read_failed)?,
            });
        }
        Ok(out)
    }
}
