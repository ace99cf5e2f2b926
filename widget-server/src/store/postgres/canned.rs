//! Canned responses: an agent's personal saved replies and the team's.

use std::str::FromStr;
use std::sync::LazyLock;

use async_trait::async_trait;
use shared::ApiError;
use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::model::Page;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::decode_err;
use super::tx::unique_or;
use super::{PgResult, PgStore, Tx};
use crate::store::{CannedStore, StoreResult, like_pattern, new_id, now_ms, ts};

const CANNED_COLS: &str =
    "id, title, shortcut, body, category, scope, owner_id, created_at, updated_at";

static CANNED_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CANNED_COLS} FROM canned_responses WHERE id = $1"));

/// The unique index on (scope, owner for personal ones, shortcut).
const SHORTCUT_INDEX: &str = "canned_responses_shortcut";

/// Another response of the same scope (and, for personal ones, the same owner) that
/// already uses this shortcut: the unique index's key, checked before writing so a
/// taken shortcut is a refusal and not a failed statement.
const SHORTCUT_TAKEN_SQL: &str = "SELECT id FROM canned_responses WHERE scope = $1 \
    AND (CASE WHEN scope = 'team' THEN '' ELSE owner_id END) = $2 AND shortcut = $3 \
    AND id != $4 LIMIT 1";

fn canned_row(r: &PgRow) -> Result<CannedResponse, sqlx::Error> {
    let scope: &str = r.try_get(5)?;
    Ok(CannedResponse {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        shortcut: r.try_get(2)?,
        body: r.try_get(3)?,
        category: r.try_get(4)?,
        scope: CannedScope::from_str(scope).map_err(|_| decode_err("canned response scope"))?,
        owner_id: r.try_get(6)?,
        created_at: ts(r.try_get(7)?),
        updated_at: ts(r.try_get(8)?),
    })
}

fn shortcut_taken(scope: CannedScope, shortcut: &str) -> ApiError {
    ApiError::conflict(format!(
        "a {} canned response with shortcut {shortcut:?} already exists",
        scope.as_str()
    ))
}

/// Refuses a shortcut another response of the same scope (and owner) uses. Under the
/// event lock, so two nodes storing the same shortcut take turns and the second is
/// refused here.
async fn shortcut_free(
    t: &mut Tx,
    scope: CannedScope,
    owner_id: &str,
    shortcut: &str,
    id: &str,
) -> PgResult<()> {
    t.lock_events().await?;
    let key = match scope {
        CannedScope::Team => "",
        CannedScope::Personal => owner_id,
    };
    let taken: Option<String> = sqlx::query_scalar(SHORTCUT_TAKEN_SQL)
        .bind(scope.as_str())
        .bind(key)
        .bind(shortcut)
        .bind(id)
        .fetch_optional(t.conn())
        .await?;
    match taken {
        None => Ok(()),
        Some(_) => Err(shortcut_taken(scope, shortcut).into()),
    }
}

async fn op_create_canned(t: &mut Tx, c: CannedResponse) -> PgResult<CannedResponse> {
    shortcut_free(t, c.scope, &c.owner_id, &c.shortcut, &c.id).await?;
    let at = (c.created_at.unix_timestamp_nanos() / 1_000_000) as i64;
    sqlx::query(
        "INSERT INTO canned_responses (id, title, shortcut, body, category, scope, owner_id, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&c.id)
    .bind(&c.title)
    .bind(&c.shortcut)
    .bind(&c.body)
    .bind(c.category.as_deref())
    .bind(c.scope.as_str())
    .bind(&c.owner_id)
    .bind(at)
    .execute(t.conn())
    .await
    .map_err(|e| unique_or(e, SHORTCUT_INDEX, shortcut_taken(c.scope, &c.shortcut)))?;
    Ok(c)
}

async fn op_update_canned(
    t: &mut Tx,
    current: CannedResponse,
    input: CannedInput,
) -> PgResult<Option<CannedResponse>> {
    shortcut_free(
        t,
        current.scope,
        &current.owner_id,
        &input.shortcut,
        &current.id,
    )
    .await?;
    let now = now_ms();
    let changed = sqlx::query(
        "UPDATE canned_responses SET title = $1, shortcut = $2, body = $3, category = $4, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(&input.title)
    .bind(&input.shortcut)
    .bind(&input.body)
    .bind(input.category.as_deref())
    .bind(now)
    .bind(&current.id)
    .execute(t.conn())
    .await
    .map_err(|e| {
        unique_or(
            e,
            SHORTCUT_INDEX,
            shortcut_taken(current.scope, &input.shortcut),
        )
    })?
    .rows_affected();
    if changed == 0 {
        return Ok(None);
    }
    Ok(Some(CannedResponse {
        title: input.title,
        shortcut: input.shortcut,
        body: input.body,
        category: input.category,
        updated_at: ts(now),
        ..current
    }))
}

async fn op_delete_canned(t: &mut Tx, id: String) -> PgResult<bool> {
    let deleted = sqlx::query("DELETE FROM canned_responses WHERE id = $1")
        .bind(&id)
        .execute(t.conn())
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

#[async_trait]
impl CannedStore for PgStore {
    async fn canned_list(
        &self,
        viewer_id: &str,
        q: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<CannedResponse>> {
        let viewer_id = viewer_id.to_owned();
        let pattern = q.map(like_pattern);
        // ILIKE: case-insensitive as SQLite's LIKE is (which folds ASCII only).
        let filter = "(scope = 'team' OR owner_id = $1) AND ($2::text IS NULL \
             OR shortcut ILIKE $2 ESCAPE '\\' OR title ILIKE $2 ESCAPE '\\' \
             OR body ILIKE $2 ESCAPE '\\')";
        let limit = i64::from(per_page);
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        let (total, items) = self
            .read(move |c| {
                Box::pin(async move {
                    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT COUNT(*) FROM canned_responses WHERE {filter}"
                    )))
                    .bind(&viewer_id)
                    .bind(pattern.as_deref())
                    .fetch_one(&mut *c)
                    .await?;
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {CANNED_COLS} FROM canned_responses WHERE {filter} \
                         ORDER BY shortcut COLLATE \"C\", scope DESC, id COLLATE \"C\" \
                         LIMIT $3 OFFSET $4"
                    )))
                    .bind(&viewer_id)
                    .bind(pattern.as_deref())
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *c)
                    .await?;
                    let items = rows.iter().map(canned_row).collect::<Result<Vec<_>, _>>()?;
                    Ok((total, items))
                })
            })
            .await?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    async fn canned(&self, id: &str) -> StoreResult<Option<CannedResponse>> {
        let id = id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(CANNED_BY_ID.as_str()))
                    .bind(&id)
                    .fetch_optional(c)
                    .await?;
                row.as_ref().map(canned_row).transpose()
            })
        })
        .await
    }

    async fn create_canned(
        &self,
        owner_id: &str,
        scope: CannedScope,
        input: &CannedInput,
    ) -> StoreResult<CannedResponse> {
        let now = ts(now_ms());
        let c = CannedResponse {
            id: new_id(),
            title: input.title.clone(),
            shortcut: input.shortcut.clone(),
            body: input.body.clone(),
            category: input.category.clone(),
            scope,
            owner_id: owner_id.to_owned(),
            created_at: now,
            updated_at: now,
        };
        run_op!(self, op_create_canned(c))
    }

    async fn update_canned(
        &self,
        current: &CannedResponse,
        input: &CannedInput,
    ) -> StoreResult<Option<CannedResponse>> {
        let (current, input) = (current.clone(), input.clone());
        run_op!(self, op_update_canned(current, input))
    }

    async fn delete_canned(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        run_op!(self, op_delete_canned(id))
    }
}
