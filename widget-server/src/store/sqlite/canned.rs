//! Canned responses: reads on the reader pool, writes on the writer like every other
//! write (so the writer stays the only writer and its cache stays exact).

use super::*;

const CANNED_COLS: &str =
    "id, title, shortcut, body, category, scope, owner_id, created_at, updated_at";

static CANNED_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CANNED_COLS} FROM canned_responses WHERE id = ?"));

/// Another response of the same scope (and, for personal ones, the same owner) that
/// already uses this shortcut: the unique index's key, checked before writing so a
/// taken shortcut is a refusal and not a failed statement.
const SHORTCUT_TAKEN_SQL: &str = "SELECT id FROM canned_responses WHERE scope = ?1 \
    AND (CASE WHEN scope = 'team' THEN '' ELSE owner_id END) = ?2 AND shortcut = ?3 \
    AND id != ?4 LIMIT 1";

fn canned_row<R: Cols>(r: &R) -> Result<CannedResponse, R::Err> {
    let scope = r.str_at(5)?;
    Ok(CannedResponse {
        id: r.text_at(0)?,
        title: r.text_at(1)?,
        shortcut: r.text_at(2)?,
        body: r.text_at(3)?,
        category: r.opt_text_at(4)?,
        scope: CannedScope::from_str(scope).map_err(|_| bad::<R>("canned response scope"))?,
        owner_id: r.text_at(6)?,
        created_at: ts(r.int_at(7)?),
        updated_at: ts(r.int_at(8)?),
    })
}

fn shortcut_free(
    t: &Tx<'_>,
    scope: CannedScope,
    owner_id: &str,
    shortcut: &str,
    id: &str,
) -> WResult<()> {
    let key = match scope {
        CannedScope::Team => "",
        CannedScope::Personal => owner_id,
    };
    let taken: Option<String> = t.opt_one(
        SHORTCUT_TAKEN_SQL,
        params![scope.as_str(), key, shortcut, id],
    )?;
    match taken {
        None => Ok(()),
        Some(_) => Err(ApiError::conflict(format!(
            "a {} canned response with shortcut {shortcut:?} already exists",
            scope.as_str()
        ))
        .into()),
    }
}

fn op_create_canned(t: &mut Tx<'_>, c: CannedResponse) -> WResult<CannedResponse> {
    shortcut_free(t, c.scope, &c.owner_id, &c.shortcut, &c.id)?;
    let at = (c.created_at.unix_timestamp_nanos() / 1_000_000) as i64;
    t.exec(
        "INSERT INTO canned_responses (id, title, shortcut, body, category, scope, owner_id, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            c.id,
            c.title,
            c.shortcut,
            c.body,
            c.category,
            c.scope.as_str(),
            c.owner_id,
            at
        ],
    )?;
    Ok(c)
}

fn op_update_canned(
    t: &mut Tx<'_>,
    current: CannedResponse,
    input: CannedInput,
) -> WResult<Option<CannedResponse>> {
    shortcut_free(
        t,
        current.scope,
        &current.owner_id,
        &input.shortcut,
        &current.id,
    )?;
    let now = now_ms();
    let changed = t.exec(
        "UPDATE canned_responses SET title = ?1, shortcut = ?2, body = ?3, category = ?4, \
         updated_at = ?5 WHERE id = ?6",
        params![
            input.title,
            input.shortcut,
            input.body,
            input.category,
            now,
            current.id
        ],
    )?;
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

#[async_trait]
impl CannedStore for SqliteStore {
    async fn canned_list(
        &self,
        viewer_id: &str,
        q: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<CannedResponse>> {
        let pattern = q.map(like_pattern);
        let filter = "(scope = 'team' OR owner_id = ?1) AND (?2 IS NULL OR shortcut LIKE ?2 ESCAPE '\\' \
             OR title LIKE ?2 ESCAPE '\\' OR body LIKE ?2 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM canned_responses WHERE {filter}"
        )))
        .bind(viewer_id)
        .bind(pattern.as_deref())
        .fetch_one(&self.read)
        .await
        .map_err(read_failed)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CANNED_COLS} FROM canned_responses WHERE {filter} \
             ORDER BY shortcut, scope DESC, id LIMIT ?3 OFFSET ?4"
        )))
        .bind(viewer_id)
        .bind(pattern.as_deref())
        .bind(i64::from(per_page))
        .bind(i64::from(page.saturating_sub(1)) * i64::from(per_page))
        .fetch_all(&self.read)
        .await
        .map_err(read_failed)?;
        let items = rows
            .iter()
            .map(canned_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    async fn canned(&self, id: &str) -> StoreResult<Option<CannedResponse>> {
        let row = sqlx::query(AssertSqlSafe(CANNED_BY_ID.as_str()))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(read_failed)?;
        row.as_ref()
            .map(canned_row)
            .transpose()
            .map_err(read_failed)
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
        self.run(move |t| Ok(t.exec("DELETE FROM canned_responses WHERE id = ?1", [id])? > 0))
            .await
    }
}
