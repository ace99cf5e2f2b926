//! The knowledge base on PostgreSQL: articles with a weighted tsvector (english
//! stemming) ranked by ts_rank with a ts_headline snippet; small typos by pg_trgm
//! similarity on titles when the extension is installed, else by word prefixes;
//! categories, views, votes, bookmarks and recent reads. Answers as the SQLite store.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use async_trait::async_trait;
use shared::ApiError;
use shared::kb::{
    Article, ArticleHit, ArticleInput, ArticleStatus, Category, CategoryInput, ImportReport,
    Visibility,
};
use shared::model::Page;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

use super::rows::decode_err;
use super::tx::unique_or;
use super::{PgResult, PgStore, Tx};
use crate::domain::kb::{
    self as rules, ArticleFile, EXCERPT_CHARS, KbAudience, MAX_SEARCH_TOTAL, SearchQuery, excerpt,
};
use crate::store::{ArticleFilter, KbStore, StoreResult, new_id, now_ms, ts};

const ARTICLE_COLS: &str = "a.id, a.slug, a.title, a.body, a.category_id, a.tags, a.status, \
    a.visibility, a.author_id, a.created_at, a.updated_at, a.views, a.helpful_yes, a.helpful_no";

const SLUG_INDEX: &str = "kb_articles_slug_key";

/// Words below this title similarity are no match for a typo.
const TRGM_THRESHOLD: &str = "0.5";

fn audience_sql(audience: KbAudience) -> &'static str {
    match audience {
        KbAudience::Public => "a.status = 'published' AND a.visibility = 'public'",
        KbAudience::Agents => "a.status = 'published'",
        KbAudience::Writers => "TRUE",
    }
}

fn in_category_sql(n: usize) -> String {
    format!(
        "(${n}::text IS NULL OR a.category_id IN (WITH RECURSIVE sub(id) AS (SELECT ${n}::text \
         UNION SELECT c.id FROM kb_categories c JOIN sub ON c.parent_id = sub.id) \
         SELECT id FROM sub))"
    )
}

fn article_row(r: &PgRow) -> Result<Article, sqlx::Error> {
    let tags: &str = r.try_get(5)?;
    let status: &str = r.try_get(6)?;
    let visibility: &str = r.try_get(7)?;
    Ok(Article {
        id: r.try_get(0)?,
        slug: r.try_get(1)?,
        title: r.try_get(2)?,
        body: r.try_get(3)?,
        category_id: r.try_get(4)?,
        tags: serde_json::from_str(tags).map_err(|_| decode_err("article tags"))?,
        status: ArticleStatus::from_str(status).map_err(|_| decode_err("article status"))?,
        visibility: Visibility::from_str(visibility)
            .map_err(|_| decode_err("article visibility"))?,
        author_id: r.try_get(8)?,
        created_at: ts(r.try_get(9)?),
        updated_at: ts(r.try_get(10)?),
        views: r.try_get(11)?,
        helpful_yes: r.try_get(12)?,
        helpful_no: r.try_get(13)?,
    })
}

fn category_row(r: &PgRow) -> Result<Category, sqlx::Error> {
    Ok(Category {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        parent_id: r.try_get(2)?,
    })
}

/// A tsquery for the words: all (`&`) or any (`|`), the last as a prefix while typed.
/// The words are letters and digits only, so quoting each is all the escaping needed.
fn ts_query(q: &SearchQuery, and: bool) -> String {
    let n = q.terms.len();
    q.terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i + 1 == n && q.last_is_prefix {
                format!("'{t}':*")
            } else {
                format!("'{t}'")
            }
        })
        .collect::<Vec<_>>()
        .join(if and { " & " } else { " | " })
}

/// Without pg_trgm: any word's opening (all but its last two letters, at least three)
/// as a prefix, so `keystne` still finds `keystone`.
fn prefix_query(q: &SearchQuery) -> Option<String> {
    let parts: Vec<String> = q
        .terms
        .iter()
        .filter_map(|t| {
            let chars: Vec<char> = t.chars().collect();
            (chars.len() >= 3).then(|| {
                let keep = chars.len().saturating_sub(2).max(3);
                format!("'{}':*", chars[..keep].iter().collect::<String>())
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" | "))
}

/// Normalisation 1 of ts_rank: divides by 1 + log(length), as bm25 favours the
/// article that is about the words over one that mentions them.
const RANK: &str = "ts_rank(a.search, query, 1)::float8";

async fn ts_page(
    c: &mut PgConnection,
    tsquery: &str,
    f: &ArticleFilter,
) -> Result<Page<ArticleHit>, sqlx::Error> {
    let filter = format!(
        "a.search @@ query AND {} AND {}",
        audience_sql(f.audience),
        in_category_sql(2)
    );
    // The headline is made for the page's rows only (it re-parses the body).
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT hit.*, ts_headline('english', hit.body, to_tsquery('english', $1), \
         'StartSel=\"[[\", StopSel=\"]]\", MaxWords=30, MinWords=12, MaxFragments=1, \
         FragmentDelimiter=\"…\"') FROM (SELECT {ARTICLE_COLS}, {RANK} AS score \
         FROM kb_articles a, to_tsquery('english', $1) query WHERE {filter} \
         ORDER BY score DESC, a.updated_at DESC, a.id LIMIT $3 OFFSET $4) hit \
         ORDER BY hit.score DESC, hit.updated_at DESC, hit.id"
    )))
    .bind(tsquery)
    .bind(f.category_id.as_deref())
    .bind(i64::from(f.per_page))
    .bind(i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page))
    .fetch_all(&mut *c)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(ArticleHit {
                article: article_row(r)?,
                score: r.try_get(14)?,
                snippet: r.try_get(15)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let total = match rules::total_from_page(f.page, f.per_page, items.len()) {
        Some(t) => t,
        None => sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM kb_articles a, to_tsquery('english', $1) query \
                 WHERE {filter} LIMIT {MAX_SEARCH_TOTAL}) m"
        )))
        .bind(tsquery)
        .bind(f.category_id.as_deref())
        .fetch_one(&mut *c)
        .await?,
    };
    Ok(Page {
        items,
        total,
        page: f.page,
        per_page: f.per_page,
    })
}

async fn trgm_page(
    c: &mut PgConnection,
    text: &str,
    f: &ArticleFilter,
) -> Result<Page<ArticleHit>, sqlx::Error> {
    // The operator `<%` uses the title's trigram index at this threshold.
    sqlx::query("SELECT set_config('pg_trgm.word_similarity_threshold', $1, false)")
        .bind(TRGM_THRESHOLD)
        .execute(&mut *c)
        .await?;
    let filter = format!(
        "$1 <% a.title AND {} AND {}",
        audience_sql(f.audience),
        in_category_sql(2)
    );
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ARTICLE_COLS}, word_similarity($1, a.title)::float8 AS score \
         FROM kb_articles a WHERE {filter} \
         ORDER BY score DESC, a.updated_at DESC, a.id LIMIT $3 OFFSET $4"
    )))
    .bind(text)
    .bind(f.category_id.as_deref())
    .bind(i64::from(f.per_page))
    .bind(i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page))
    .fetch_all(&mut *c)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let article = article_row(r)?;
            Ok(ArticleHit {
                snippet: excerpt(&article.body, EXCERPT_CHARS),
                score: r.try_get(14)?,
                article,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let total = match rules::total_from_page(f.page, f.per_page, items.len()) {
        Some(t) => t,
        None => {
            sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM kb_articles a WHERE {filter} \
                 LIMIT {MAX_SEARCH_TOTAL}) m"
            )))
            .bind(text)
            .bind(f.category_id.as_deref())
            .fetch_one(&mut *c)
            .await?
        }
    };
    Ok(Page {
        items,
        total,
        page: f.page,
        per_page: f.per_page,
    })
}

async fn has_trgm(c: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')")
        .fetch_one(c)
        .await
}

async fn search(
    c: &mut PgConnection,
    q: &SearchQuery,
    f: &ArticleFilter,
) -> Result<Page<ArticleHit>, sqlx::Error> {
    let all = ts_page(c, &ts_query(q, true), f).await?;
    if all.total > 0 {
        return Ok(all);
    }
    if q.terms.len() > 1 {
        let any = ts_page(c, &ts_query(q, false), f).await?;
        if any.total > 0 {
            return Ok(any);
        }
    }
    if has_trgm(c).await? {
        let typo = trgm_page(c, &q.text(), f).await?;
        if typo.total > 0 {
            return Ok(typo);
        }
    }
    match prefix_query(q) {
        Some(p) => ts_page(c, &p, f).await,
        None => Ok(all),
    }
}

async fn listing(c: &mut PgConnection, f: &ArticleFilter) -> Result<Page<ArticleHit>, sqlx::Error> {
    let filter = format!("{} AND {}", audience_sql(f.audience), in_category_sql(1));
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM kb_articles a WHERE {filter}"
    )))
    .bind(f.category_id.as_deref())
    .fetch_one(&mut *c)
    .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ARTICLE_COLS} FROM kb_articles a WHERE {filter} \
         ORDER BY a.updated_at DESC, a.id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(f.category_id.as_deref())
    .bind(i64::from(f.per_page))
    .bind(i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page))
    .fetch_all(&mut *c)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            article_row(r).map(|article| ArticleHit {
                snippet: excerpt(&article.body, EXCERPT_CHARS),
                score: 0.0,
                article,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        total,
        page: f.page,
        per_page: f.per_page,
    })
}

// ------------------------------------------------------------------ writes

async fn load_article(t: &mut Tx, id: &str) -> PgResult<Option<Article>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(t.conn())
    .await?;
    Ok(row.as_ref().map(article_row).transpose()?)
}

async fn category_exists(t: &mut Tx, id: &Option<String>) -> PgResult<()> {
    if let Some(c) = id {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM kb_categories WHERE id = $1")
                .bind(c)
                .fetch_optional(t.conn())
                .await?;
        if found.is_none() {
            return Err(ApiError::not_found(format!("no category {c}")).into());
        }
    }
    Ok(())
}

fn slug_taken(s: &str) -> ApiError {
    ApiError::conflict(format!("another article already has the slug {s:?}"))
}

/// As on SQLite; under the event lock, so two nodes never pick the same slug.
async fn pick_slug(t: &mut Tx, id: &str, chosen: Option<&str>, title: &str) -> PgResult<String> {
    t.lock_events().await?;
    if let Some(s) = chosen {
        let other: Option<String> =
            sqlx::query_scalar("SELECT id FROM kb_articles WHERE slug = $1 AND id != $2")
                .bind(s)
                .bind(id)
                .fetch_optional(t.conn())
                .await?;
        if other.is_some() {
            return Err(slug_taken(s).into());
        }
        return Ok(s.to_owned());
    }
    let base = rules::slugify(title);
    let like = format!("{}-%", base.replace('\\', "\\\\").replace('_', "\\_"));
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT slug FROM kb_articles WHERE (slug = $1 OR slug LIKE $2 ESCAPE '\\') AND id != $3",
    )
    .bind(&base)
    .bind(&like)
    .bind(id)
    .fetch_all(t.conn())
    .await?;
    let taken: HashSet<String> = taken.into_iter().collect();
    Ok(rules::unique_slug(&base, &taken))
}

async fn op_create_article(
    t: &mut Tx,
    author_id: String,
    input: ArticleInput,
) -> PgResult<Article> {
    category_exists(t, &input.category_id).await?;
    let id = new_id();
    let slug = pick_slug(t, &id, input.slug.as_deref(), &input.title).await?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO kb_articles (id, slug, title, body, category_id, tags, status, visibility, \
         author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&slug)
    .bind(&input.title)
    .bind(&input.body)
    .bind(input.category_id.as_deref())
    .bind(serde_json::to_string(&input.tags)?)
    .bind(input.status.as_str())
    .bind(input.visibility.as_str())
    .bind(&author_id)
    .bind(now)
    .execute(t.conn())
    .await
    .map_err(|e| unique_or(e, SLUG_INDEX, slug_taken(&slug)))?;
    load_article(t, &id)
        .await?
        .ok_or_else(|| crate::store::fail::inconsistent("a new article vanished"))
}

async fn op_update_article(
    t: &mut Tx,
    id: String,
    input: ArticleInput,
) -> PgResult<Option<Article>> {
    let Some(current) = load_article(t, &id).await? else {
        return Ok(None);
    };
    category_exists(t, &input.category_id).await?;
    let slug = match input.slug.as_deref() {
        Some(s) if s != current.slug => pick_slug(t, &id, Some(s), &input.title).await?,
        _ => current.slug,
    };
    sqlx::query(
        "UPDATE kb_articles SET slug = $1, title = $2, body = $3, category_id = $4, tags = $5, \
         status = $6, visibility = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&slug)
    .bind(&input.title)
    .bind(&input.body)
    .bind(input.category_id.as_deref())
    .bind(serde_json::to_string(&input.tags)?)
    .bind(input.status.as_str())
    .bind(input.visibility.as_str())
    .bind(now_ms())
    .bind(&id)
    .execute(t.conn())
    .await
    .map_err(|e| unique_or(e, SLUG_INDEX, slug_taken(&slug)))?;
    load_article(t, &id).await
}

async fn category_parents(t: &mut Tx) -> PgResult<HashMap<String, Option<String>>> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, parent_id FROM kb_categories")
            .fetch_all(t.conn())
            .await?;
    Ok(rows.into_iter().collect())
}

async fn sibling_named(
    t: &mut Tx,
    name: &str,
    parent: Option<&str>,
    except: &str,
) -> PgResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM kb_categories WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2 \
         AND id != $3",
    )
    .bind(name)
    .bind(parent)
    .bind(except)
    .fetch_optional(t.conn())
    .await?)
}

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(format!("a category named {name:?} already exists there"))
}

async fn op_create_category(t: &mut Tx, input: CategoryInput) -> PgResult<Category> {
    t.lock_events().await?;
    let parents = category_parents(t).await?;
    rules::check_parent(None, input.parent_id.as_deref(), &parents)?;
    if sibling_named(t, &input.name, input.parent_id.as_deref(), "")
        .await?
        .is_some()
    {
        return Err(name_taken(&input.name).into());
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO kb_categories (id, name, parent_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&input.name)
    .bind(input.parent_id.as_deref())
    .bind(now_ms())
    .execute(t.conn())
    .await?;
    Ok(Category {
        id,
        name: input.name,
        parent_id: input.parent_id,
    })
}

async fn op_update_category(
    t: &mut Tx,
    id: String,
    input: CategoryInput,
) -> PgResult<Option<Category>> {
    t.lock_events().await?;
    let parents = category_parents(t).await?;
    if !parents.contains_key(&id) {
        return Ok(None);
    }
    rules::check_parent(Some(&id), input.parent_id.as_deref(), &parents)?;
    if sibling_named(t, &input.name, input.parent_id.as_deref(), &id)
        .await?
        .is_some()
    {
        return Err(name_taken(&input.name).into());
    }
    sqlx::query("UPDATE kb_categories SET name = $1, parent_id = $2 WHERE id = $3")
        .bind(&input.name)
        .bind(input.parent_id.as_deref())
        .bind(&id)
        .execute(t.conn())
        .await?;
    Ok(Some(Category {
        id,
        name: input.name,
        parent_id: input.parent_id,
    }))
}

async fn op_delete_category(t: &mut Tx, id: String) -> PgResult<bool> {
    t.lock_events().await?;
    let used: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM kb_articles WHERE category_id = $1) \
         + (SELECT COUNT(*) FROM kb_categories WHERE parent_id = $1)",
    )
    .bind(&id)
    .fetch_one(t.conn())
    .await?;
    if used > 0 {
        return Err(ApiError::conflict(
            "the category still holds articles or subcategories; move or delete them first",
        )
        .into());
    }
    let n = sqlx::query("DELETE FROM kb_categories WHERE id = $1")
        .bind(&id)
        .execute(t.conn())
        .await?
        .rows_affected();
    Ok(n > 0)
}

async fn category_for_path(
    t: &mut Tx,
    path: &[String],
    created: &mut u32,
) -> PgResult<Option<String>> {
    let mut parent: Option<String> = None;
    for name in path {
        let id = match sibling_named(t, name, parent.as_deref(), "").await? {
            Some(id) => id,
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO kb_categories (id, name, parent_id, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(name)
                .bind(parent.as_deref())
                .bind(now_ms())
                .execute(t.conn())
                .await?;
                *created += 1;
                id
            }
        };
        parent = Some(id);
    }
    Ok(parent)
}

async fn op_import(
    t: &mut Tx,
    author_id: String,
    files: Vec<ArticleFile>,
) -> PgResult<ImportReport> {
    t.lock_events().await?;
    let mut report = ImportReport {
        created: 0,
        updated: 0,
        categories_created: 0,
    };
    for f in files {
        let category_id =
            category_for_path(t, &f.category_path, &mut report.categories_created).await?;
        let slug = f
            .input
            .slug
            .clone()
            .unwrap_or_else(|| rules::slugify(&f.input.title));
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM kb_articles WHERE slug = $1")
                .bind(&slug)
                .fetch_optional(t.conn())
                .await?;
        let input = ArticleInput {
            slug: Some(slug),
            category_id,
            ..f.input
        };
        match existing {
            Some(id) => {
                op_update_article(t, id, input).await?;
                report.updated += 1;
            }
            None => {
                op_create_article(t, author_id.clone(), input).await?;
                report.created += 1;
            }
        }
    }
    Ok(report)
}

async fn op_record_view(t: &mut Tx, article_id: String, agent_id: Option<String>) -> PgResult<()> {
    let n = sqlx::query("UPDATE kb_articles SET views = views + 1 WHERE id = $1")
        .bind(&article_id)
        .execute(t.conn())
        .await?
        .rows_affected();
    if n > 0
        && let Some(agent) = agent_id
    {
        sqlx::query(
            "INSERT INTO kb_reads (agent_id, article_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (agent_id, article_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(&agent)
        .bind(&article_id)
        .bind(now_ms())
        .execute(t.conn())
        .await?;
    }
    Ok(())
}

async fn op_vote(t: &mut Tx, article_id: String, helpful: bool) -> PgResult<bool> {
    let sql = if helpful {
        "UPDATE kb_articles SET helpful_yes = helpful_yes + 1 WHERE id = $1"
    } else {
        "UPDATE kb_articles SET helpful_no = helpful_no + 1 WHERE id = $1"
    };
    let n = sqlx::query(sql)
        .bind(&article_id)
        .execute(t.conn())
        .await?
        .rows_affected();
    Ok(n > 0)
}

async fn op_bookmark(t: &mut Tx, agent_id: String, article_id: String, on: bool) -> PgResult<bool> {
    if load_article(t, &article_id).await?.is_none() {
        return Ok(false);
    }
    if on {
        sqlx::query(
            "INSERT INTO kb_bookmarks (agent_id, article_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&agent_id)
        .bind(&article_id)
        .bind(now_ms())
        .execute(t.conn())
        .await?;
    } else {
        sqlx::query("DELETE FROM kb_bookmarks WHERE agent_id = $1 AND article_id = $2")
            .bind(&agent_id)
            .bind(&article_id)
            .execute(t.conn())
            .await?;
    }
    Ok(true)
}

async fn op_delete_article(t: &mut Tx, id: String) -> PgResult<bool> {
    let n = sqlx::query("DELETE FROM kb_articles WHERE id = $1")
        .bind(&id)
        .execute(t.conn())
        .await?
        .rows_affected();
    Ok(n > 0)
}

impl PgStore {
    async fn articles_where(&self, sql: String, bind: Option<String>) -> StoreResult<Vec<Article>> {
        self.read(move |c| {
            Box::pin(async move {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                if let Some(b) = bind {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(&mut *c).await?;
                rows.iter().map(article_row).collect::<Result<Vec<_>, _>>()
            })
        })
        .await
    }
}

#[async_trait]
impl KbStore for PgStore {
    async fn kb_categories(&self) -> StoreResult<Vec<Category>> {
        self.read(|c| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT id, name, parent_id FROM kb_categories ORDER BY lower(name), id",
                )
                .fetch_all(&mut *c)
                .await?;
                rows.iter().map(category_row).collect::<Result<Vec<_>, _>>()
            })
        })
        .await
    }

    async fn create_kb_category(&self, input: &CategoryInput) -> StoreResult<Category> {
        let input = input.clone();
        run_op!(self, op_create_category(input))
    }

    async fn update_kb_category(
        &self,
        id: &str,
        input: &CategoryInput,
    ) -> StoreResult<Option<Category>> {
        let (id, input) = (id.to_owned(), input.clone());
        run_op!(self, op_update_category(id, input))
    }

    async fn delete_kb_category(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        run_op!(self, op_delete_category(id))
    }

    async fn kb_articles(&self, f: &ArticleFilter) -> StoreResult<Page<ArticleHit>> {
        let f = f.clone();
        self.read(move |c| {
            Box::pin(async move {
                match f.query.as_ref().filter(|q| !q.is_empty()) {
                    Some(q) => search(c, q, &f).await,
                    None => listing(c, &f).await,
                }
            })
        })
        .await
    }

    async fn kb_article(&self, id: &str) -> StoreResult<Option<Article>> {
        let mut found = self
            .articles_where(
                format!("SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.id = $1"),
                Some(id.to_owned()),
            )
            .await?;
        Ok(found.pop())
    }

    async fn kb_article_by_slug(&self, slug: &str) -> StoreResult<Option<Article>> {
        let mut found = self
            .articles_where(
                format!("SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.slug = $1"),
                Some(slug.to_owned()),
            )
            .await?;
        Ok(found.pop())
    }

    async fn create_kb_article(
        &self,
        author_id: &str,
        input: &ArticleInput,
    ) -> StoreResult<Article> {
        let (author_id, input) = (author_id.to_owned(), input.clone());
        run_op!(self, op_create_article(author_id, input))
    }

    async fn update_kb_article(
        &self,
        id: &str,
        input: &ArticleInput,
    ) -> StoreResult<Option<Article>> {
        let (id, input) = (id.to_owned(), input.clone());
        run_op!(self, op_update_article(id, input))
    }

    async fn delete_kb_article(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        run_op!(self, op_delete_article(id))
    }

    async fn kb_record_view(&self, article_id: &str, agent_id: Option<&str>) -> StoreResult<()> {
        let (article_id, agent_id) = (article_id.to_owned(), agent_id.map(str::to_owned));
        run_op!(self, op_record_view(article_id, agent_id))
    }

    async fn kb_vote(&self, article_id: &str, helpful: bool) -> StoreResult<bool> {
        let article_id = article_id.to_owned();
        run_op!(self, op_vote(article_id, helpful))
    }

    async fn kb_set_bookmark(
        &self,
        agent_id: &str,
        article_id: &str,
        on: bool,
    ) -> StoreResult<bool> {
        let (agent_id, article_id) = (agent_id.to_owned(), article_id.to_owned());
        run_op!(self, op_bookmark(agent_id, article_id, on))
    }

    async fn kb_bookmarks(
        &self,
        agent_id: &str,
        audience: KbAudience,
    ) -> StoreResult<Vec<Article>> {
        self.articles_where(
            format!(
                "SELECT {ARTICLE_COLS} FROM kb_bookmarks b JOIN kb_articles a ON a.id = b.article_id \
                 WHERE b.agent_id = $1 AND {} ORDER BY b.created_at DESC, a.id",
                audience_sql(audience)
            ),
            Some(agent_id.to_owned()),
        )
        .await
    }

    async fn kb_recent(
        &self,
        agent_id: &str,
        audience: KbAudience,
        limit: u32,
    ) -> StoreResult<Vec<Article>> {
        self.articles_where(
            format!(
                "SELECT {ARTICLE_COLS} FROM kb_reads r JOIN kb_articles a ON a.id = r.article_id \
                 WHERE r.agent_id = $1 AND {} ORDER BY r.read_at DESC, a.id LIMIT {limit}",
                audience_sql(audience)
            ),
            Some(agent_id.to_owned()),
        )
        .await
    }

    async fn kb_popular(&self, audience: KbAudience, limit: u32) -> StoreResult<Vec<Article>> {
        self.articles_where(
            format!(
                "SELECT {ARTICLE_COLS} FROM kb_articles a WHERE {} \
                 ORDER BY a.views DESC, a.updated_at DESC, a.id LIMIT {limit}",
                audience_sql(audience)
            ),
            None,
        )
        .await
    }

    async fn kb_import(
        &self,
        author_id: &str,
        files: Vec<ArticleFile>,
    ) -> StoreResult<ImportReport> {
        let author_id = author_id.to_owned();
        run_op!(self, op_import(author_id, files))
    }

    async fn kb_all_articles(&self) -> StoreResult<Vec<Article>> {
        self.articles_where(
            format!("SELECT {ARTICLE_COLS} FROM kb_articles a ORDER BY a.created_at, a.id"),
            None,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsqueries_quote_every_word() {
        let q = rules::parse_search("hdmi no sig").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ts_query(&q, true), "'hdmi' & 'no' & 'sig':*");
        assert_eq!(ts_query(&q, false), "'hdmi' | 'no' | 'sig':*");
        assert_eq!(prefix_query(&q).as_deref(), Some("'hdm':* | 'sig':*"));
        let t = rules::parse_search("keystne firmwre").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(prefix_query(&t).as_deref(), Some("'keyst':* | 'firmw':*"));
    }
}
