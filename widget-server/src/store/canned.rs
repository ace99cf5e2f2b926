//! Storage of canned responses on SQLite, through a small pool of its own next to the
//! main store's writer (WAL lets both write; the busy timeout queues them).

use std::str::FromStr;
use std::time::Duration;

use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::model::Page;
use shared::{ApiError, ErrorCode};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use time::OffsetDateTime;

use super::StoreResult;

/// The table's schema; also migration 3, written to be safe to run twice.
const SCHEMA: &str = include_str!("../../migrations/sqlite/0003_canned.sql");

const COLUMNS: &str =
    "id, title, shortcut, body, category, scope, owner_id, created_at, updated_at";

pub struct CannedStore {
    pool: SqlitePool,
}

fn db_err(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "canned response store failed");
    ApiError::new(ErrorCode::Unavailable, "storage error; retry")
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn ts(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn row(r: &SqliteRow) -> Result<CannedResponse, sqlx::Error> {
    let scope: String = r.try_get("scope")?;
    Ok(CannedResponse {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        shortcut: r.try_get("shortcut")?,
        body: r.try_get("body")?,
        category: r.try_get("category")?,
        scope: CannedScope::from_str(&scope).unwrap_or(CannedScope::Personal),
        owner_id: r.try_get("owner_id")?,
        created_at: ts(r.try_get("created_at")?),
        updated_at: ts(r.try_get("updated_at")?),
    })
}

/// A unique-index violation is a taken shortcut; anything else is a storage error.
fn write_err(e: sqlx::Error, shortcut: &str, scope: CannedScope) -> ApiError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ApiError::conflict(format!(
            "a {} canned response with shortcut {shortcut:?} already exists",
            scope.as_str()
        )),
        _ => db_err(e),
    }
}

/// `LIKE` pattern for a literal substring (`%`, `_` and `\` escaped).
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl CannedStore {
    /// Opens the SQLite database at `url` and makes sure the table exists.
    pub async fn open(url: &str) -> anyhow::Result<CannedStore> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(CannedStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The viewer's personal responses and every team one, optionally only those whose
    /// shortcut, title or body contains `q` (case-insensitive), ordered by shortcut.
    pub async fn list(
        &self,
        viewer_id: &str,
        q: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<CannedResponse>> {
        let pattern = q.map(like_pattern);
        let filter = "(scope = 'team' OR owner_id = ?1) AND (?2 IS NULL OR shortcut LIKE ?2 ESCAPE '\\' \
             OR title LIKE ?2 ESCAPE '\\' OR body LIKE ?2 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM canned_responses WHERE {filter}"
        )))
        .bind(viewer_id)
        .bind(pattern.as_deref())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM canned_responses WHERE {filter} \
             ORDER BY shortcut, scope DESC, id LIMIT ?3 OFFSET ?4"
        )))
        .bind(viewer_id)
        .bind(pattern.as_deref())
        .bind(i64::from(per_page))
        .bind(i64::from(page - 1) * i64::from(per_page))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let items = rows
            .iter()
            .map(row)
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<CannedResponse>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM canned_responses WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(row).transpose().map_err(db_err)
    }

    /// Creates a response from validated input; `conflict` when the shortcut is taken.
    pub async fn create(
        &self,
        owner_id: &str,
        scope: CannedScope,
        input: &CannedInput,
    ) -> StoreResult<CannedResponse> {
        let now = now_ms();
        let c = CannedResponse {
            id: uuid::Uuid::now_v7().to_string(),
            title: input.title.clone(),
            shortcut: input.shortcut.clone(),
            body: input.body.clone(),
            category: input.category.clone(),
            scope,
            owner_id: owner_id.to_owned(),
            created_at: ts(now),
            updated_at: ts(now),
        };
        sqlx::query(
            "INSERT INTO canned_responses (id, title, shortcut, body, category, scope, owner_id, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.title)
        .bind(&c.shortcut)
        .bind(&c.body)
        .bind(&c.category)
        .bind(scope.as_str())
        .bind(&c.owner_id)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| write_err(e, &c.shortcut, scope))?;
        Ok(c)
    }

    /// Replaces title, shortcut, body and category; `None` if it no longer exists.
    pub async fn update(
        &self,
        current: &CannedResponse,
        input: &CannedInput,
    ) -> StoreResult<Option<CannedResponse>> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE canned_responses SET title = ?, shortcut = ?, body = ?, category = ?, \
             updated_at = ? WHERE id = ?",
        )
        .bind(&input.title)
        .bind(&input.shortcut)
        .bind(&input.body)
        .bind(&input.category)
        .bind(now)
        .bind(&current.id)
        .execute(&self.pool)
        .await
        .map_err(|e| write_err(e, &input.shortcut, current.scope))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(CannedResponse {
            title: input.title.clone(),
            shortcut: input.shortcut.clone(),
            body: input.body.clone(),
            category: input.category.clone(),
            updated_at: ts(now),
            ..current.clone()
        }))
    }

    /// Deletes one response; false if there was none.
    pub async fn delete(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM canned_responses WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The schema doubles as migration 3, so it must run on a database that already
    /// has the table (migrated, or created by an earlier start-up).
    #[tokio::test]
    async fn the_schema_can_run_again_on_an_existing_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("panel.db").display());
        let first = CannedStore::open(&url).await.unwrap();
        let input = CannedInput {
            title: "Hi".into(),
            shortcut: "hi".into(),
            body: "Hello".into(),
            category: None,
            scope: None,
        };
        let c = first.create("a1", CannedScope::Team, &input).await.unwrap();
        first.close().await;
        let again = CannedStore::open(&url).await.unwrap();
        sqlx::raw_sql(SCHEMA).execute(&again.pool).await.unwrap();
        assert_eq!(again.get(&c.id).await.unwrap(), Some(c));
        let dup = again.create("a2", CannedScope::Team, &input).await;
        assert_eq!(dup.unwrap_err().code, ErrorCode::Conflict);
        again.close().await;
    }

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
