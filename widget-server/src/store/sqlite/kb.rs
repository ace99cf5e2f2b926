//! The knowledge base on SQLite: articles with two FTS5 indexes (words with the porter
//! stemmer, ranked by bm25 with a highlighted snippet; trigrams of titles and tags for
//! small typos), categories, views, votes, bookmarks and recent reads.

use std::collections::HashSet;

use shared::kb::{
    Article, ArticleHit, ArticleInput, ArticleStatus, Category, CategoryInput, ImportReport,
    SNIPPET_CLOSE, SNIPPET_OPEN, Visibility,
};

use super::*;
use crate::domain::kb::{
    self as rules, ArticleFile, EXCERPT_CHARS, KbAudience, MAX_SEARCH_TOTAL, SearchQuery, excerpt,
};
use crate::store::{ArticleFilter, KbStore};

const ARTICLE_COLS: &str = "a.id, a.slug, a.title, a.body, a.category_id, a.tags, a.status, \
    a.visibility, a.author_id, a.created_at, a.updated_at, a.views, a.helpful_yes, a.helpful_no";

/// The articles an audience may read, as a condition on `a`.
fn audience_sql(audience: KbAudience) -> &'static str {
    match audience {
        KbAudience::Public => "a.status = 'published' AND a.visibility = 'public'",
        KbAudience::Agents => "a.status = 'published'",
        KbAudience::Writers => "1 = 1",
    }
}

/// `a.category_id` is the category bound at `?N` or one below it.
fn in_category_sql(n: usize) -> String {
    format!(
        "(?{n} IS NULL OR a.category_id IN (WITH RECURSIVE sub(id) AS (SELECT ?{n} \
         UNION SELECT c.id FROM kb_categories c JOIN sub ON c.parent_id = sub.id) \
         SELECT id FROM sub))"
    )
}

fn article_row<R: Cols>(r: &R) -> Result<Article, R::Err> {
    Ok(Article {
        id: r.text_at(0)?,
        slug: r.text_at(1)?,
        title: r.text_at(2)?,
        body: r.text_at(3)?,
        category_id: r.opt_text_at(4)?,
        tags: r.json_at(5)?,
        status: ArticleStatus::from_str(r.str_at(6)?).map_err(|_| bad::<R>("article status"))?,
        visibility: Visibility::from_str(r.str_at(7)?)
            .map_err(|_| bad::<R>("article visibility"))?,
        author_id: r.text_at(8)?,
        created_at: ts(r.int_at(9)?),
        updated_at: ts(r.int_at(10)?),
        views: r.int_at(11)?,
        helpful_yes: r.int_at(12)?,
        helpful_no: r.int_at(13)?,
    })
}

fn category_row<R: Cols>(r: &R) -> Result<Category, R::Err> {
    Ok(Category {
        id: r.text_at(0)?,
        name: r.text_at(1)?,
        parent_id: r.opt_text_at(2)?,
    })
}

/// An FTS5 query for the words: all of them (`and`) or any (`or`); the last one as a
/// prefix while it is being typed. The words are letters and digits only, so quoting
/// each is all the escaping they need.
fn word_match(q: &SearchQuery, and: bool) -> String {
    let n = q.terms.len();
    let parts: Vec<String> = q
        .terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i + 1 == n && q.last_is_prefix {
                format!("\"{t}\"*")
            } else {
                format!("\"{t}\"")
            }
        })
        .collect();
    parts.join(if and { " " } else { " OR " })
}

/// An FTS5 trigram query: any three-letter piece of any word of three letters or more.
fn trigram_match(q: &SearchQuery) -> Option<String> {
    let mut grams: Vec<String> = Vec::new();
    for t in &q.terms {
        let chars: Vec<char> = t.chars().collect();
        for w in chars.windows(3) {
            let g: String = w.iter().collect();
            if !grams.contains(&g) {
                grams.push(g);
            }
        }
    }
    if grams.is_empty() {
        return None;
    }
    Some(
        grams
            .iter()
            .map(|g| format!("\"{g}\""))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

impl SqliteStore {
    /// A page of matches of one index, best first. `rank` is bm25 with the column
    /// weights the migration configured (lower is better); ordering by it lets FTS5
    /// sort, so the snippet is made for the page's rows only.
    async fn fts_page(
        &self,
        index: &str,
        snippet: bool,
        expr: &str,
        f: &ArticleFilter,
    ) -> StoreResult<Page<ArticleHit>> {
        let filter = format!(
            "{index} MATCH ?1 AND {} AND {}",
            audience_sql(f.audience),
            in_category_sql(2)
        );
        let snip = if snippet {
            format!("snippet({index}, 3, '{SNIPPET_OPEN}', '{SNIPPET_CLOSE}', '…', 24)")
        } else {
            "NULL".to_owned()
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ARTICLE_COLS}, -rank, {snip} FROM {index} \
             CROSS JOIN kb_articles a ON a.id = {index}.id WHERE {filter} \
             ORDER BY rank LIMIT ?3 OFFSET ?4"
        )))
        .bind(expr)
        .bind(f.category_id.as_deref())
        .bind(i64::from(f.per_page))
        .bind(i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page))
        .fetch_all(&self.read)
        .await
        .map_err(read_failed)?;
        let items = rows
            .iter()
            .map(|r| {
                let article = article_row(r)?;
                let score: f64 = r.try_get(14)?;
                let snippet: Option<String> = r.try_get(15)?;
                let snippet = snippet.unwrap_or_else(|| excerpt(&article.body, EXCERPT_CHARS));
                Ok(ArticleHit {
                    article,
                    score,
                    snippet,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(read_failed)?;
        let total = match rules::total_from_page(f.page, f.per_page, items.len()) {
            Some(t) => t,
            None => sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {index} CROSS JOIN kb_articles a \
                 ON a.id = {index}.id WHERE {filter} LIMIT {MAX_SEARCH_TOTAL})"
            )))
            .bind(expr)
            .bind(f.category_id.as_deref())
            .fetch_one(&self.read)
            .await
            .map_err(read_failed)?,
        };
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn articles_where(&self, sql: String, binds: Vec<String>) -> StoreResult<Vec<Article>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.read).await.map_err(read_failed)?;
        rows.iter()
            .map(article_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)
    }
}

// ------------------------------------------------------------------ writes

fn load_article(t: &Tx<'_>, id: &str) -> WResult<Option<Article>> {
    Ok(t.conn
        .prepare_cached(&format!(
            "SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.id = ?1"
        ))?
        .query_row([id], |r| article_row(r))
        .optional()?)
}

fn category_exists(t: &Tx<'_>, id: &Option<String>) -> WResult<()> {
    if let Some(c) = id {
        let found: Option<String> = t.opt_one("SELECT id FROM kb_categories WHERE id = ?1", [c])?;
        if found.is_none() {
            return Err(ApiError::not_found(format!("no category {c}")).into());
        }
    }
    Ok(())
}

/// The slug a new or changed article gets: the chosen one if free (else `conflict`),
/// or one made from the title and numbered until free.
fn pick_slug(t: &Tx<'_>, id: &str, chosen: Option<&str>, title: &str) -> WResult<String> {
    if let Some(s) = chosen {
        let other: Option<String> = t.opt_one(
            "SELECT id FROM kb_articles WHERE slug = ?1 AND id != ?2",
            params![s, id],
        )?;
        if other.is_some() {
            return Err(
                ApiError::conflict(format!("another article already has the slug {s:?}")).into(),
            );
        }
        return Ok(s.to_owned());
    }
    let base = rules::slugify(title);
    let mut stmt = t.conn.prepare_cached(
        "SELECT slug FROM kb_articles WHERE (slug = ?1 OR slug LIKE ?2 ESCAPE '\\') AND id != ?3",
    )?;
    let like = format!("{}-%", base.replace('\\', "\\\\").replace('_', "\\_"));
    let taken = stmt
        .query_map(params![base, like, id], |r| r.get::<_, String>(0))?
        .collect::<Result<HashSet<String>, _>>()?;
    Ok(rules::unique_slug(&base, &taken))
}

fn op_create_article(t: &mut Tx<'_>, author_id: String, input: ArticleInput) -> WResult<Article> {
    category_exists(t, &input.category_id)?;
    let id = new_id();
    let slug = pick_slug(t, &id, input.slug.as_deref(), &input.title)?;
    let now = now_ms();
    t.exec(
        "INSERT INTO kb_articles (id, slug, title, body, category_id, tags, status, visibility, \
         author_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            id,
            slug,
            input.title,
            input.body,
            input.category_id,
            serde_json::to_string(&input.tags)?,
            input.status.as_str(),
            input.visibility.as_str(),
            author_id,
            now
        ],
    )?;
    load_article(t, &id)?.ok_or_else(|| inconsistent("a new article vanished"))
}

fn op_update_article(t: &mut Tx<'_>, id: String, input: ArticleInput) -> WResult<Option<Article>> {
    let Some(current) = load_article(t, &id)? else {
        return Ok(None);
    };
    category_exists(t, &input.category_id)?;
    let slug = match input.slug.as_deref() {
        Some(s) if s != current.slug => pick_slug(t, &id, Some(s), &input.title)?,
        _ => current.slug,
    };
    t.exec(
        "UPDATE kb_articles SET slug = ?1, title = ?2, body = ?3, category_id = ?4, tags = ?5, \
         status = ?6, visibility = ?7, updated_at = ?8 WHERE id = ?9",
        params![
            slug,
            input.title,
            input.body,
            input.category_id,
            serde_json::to_string(&input.tags)?,
            input.status.as_str(),
            input.visibility.as_str(),
            now_ms(),
            id
        ],
    )?;
    load_article(t, &id)
}

fn category_parents(t: &Tx<'_>) -> WResult<HashMap<String, Option<String>>> {
    let mut stmt = t
        .conn
        .prepare_cached("SELECT id, parent_id FROM kb_categories")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(rows)
}

fn sibling_named(
    t: &Tx<'_>,
    name: &str,
    parent: Option<&str>,
    except: &str,
) -> WResult<Option<String>> {
    t.opt_one(
        "SELECT id FROM kb_categories WHERE name = ?1 AND parent_id IS ?2 AND id != ?3",
        params![name, parent, except],
    )
}

fn op_create_category(t: &mut Tx<'_>, input: CategoryInput) -> WResult<Category> {
    let parents = category_parents(t)?;
    rules::check_parent(None, input.parent_id.as_deref(), &parents)?;
    if sibling_named(t, &input.name, input.parent_id.as_deref(), "")?.is_some() {
        return Err(ApiError::conflict(format!(
            "a category named {:?} already exists there",
            input.name
        ))
        .into());
    }
    let id = new_id();
    t.exec(
        "INSERT INTO kb_categories (id, name, parent_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, input.name, input.parent_id, now_ms()],
    )?;
    Ok(Category {
        id,
        name: input.name,
        parent_id: input.parent_id,
    })
}

fn op_update_category(
    t: &mut Tx<'_>,
    id: String,
    input: CategoryInput,
) -> WResult<Option<Category>> {
    let parents = category_parents(t)?;
    if !parents.contains_key(&id) {
        return Ok(None);
    }
    rules::check_parent(Some(&id), input.parent_id.as_deref(), &parents)?;
    if sibling_named(t, &input.name, input.parent_id.as_deref(), &id)?.is_some() {
        return Err(ApiError::conflict(format!(
            "a category named {:?} already exists there",
            input.name
        ))
        .into());
    }
    t.exec(
        "UPDATE kb_categories SET name = ?1, parent_id = ?2 WHERE id = ?3",
        params![input.name, input.parent_id, id],
    )?;
    Ok(Some(Category {
        id,
        name: input.name,
        parent_id: input.parent_id,
    }))
}

fn op_delete_category(t: &mut Tx<'_>, id: String) -> WResult<bool> {
    let used: i64 = t.one(
        "SELECT (SELECT COUNT(*) FROM kb_articles WHERE category_id = ?1) \
         + (SELECT COUNT(*) FROM kb_categories WHERE parent_id = ?1)",
        [&id],
    )?;
    if used > 0 {
        return Err(ApiError::conflict(
            "the category still holds articles or subcategories; move or delete them first",
        )
        .into());
    }
    Ok(t.exec("DELETE FROM kb_categories WHERE id = ?1", [&id])? > 0)
}

/// Finds or creates the categories of a path, returning the last one's id.
fn category_for_path(t: &Tx<'_>, path: &[String], created: &mut u32) -> WResult<Option<String>> {
    let mut parent: Option<String> = None;
    for name in path {
        let found = sibling_named(t, name, parent.as_deref(), "")?;
        let id = match found {
            Some(id) => id,
            None => {
                let id = new_id();
                t.exec(
                    "INSERT INTO kb_categories (id, name, parent_id, created_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, name, parent, now_ms()],
                )?;
                *created += 1;
                id
            }
        };
        parent = Some(id);
    }
    Ok(parent)
}

fn op_import(t: &mut Tx<'_>, author_id: String, files: Vec<ArticleFile>) -> WResult<ImportReport> {
    let mut report = ImportReport {
        created: 0,
        updated: 0,
        categories_created: 0,
    };
    for f in files {
        let category_id = category_for_path(t, &f.category_path, &mut report.categories_created)?;
        let slug = f
            .input
            .slug
            .clone()
            .unwrap_or_else(|| rules::slugify(&f.input.title));
        let existing: Option<String> =
            t.opt_one("SELECT id FROM kb_articles WHERE slug = ?1", [&slug])?;
        let input = ArticleInput {
            slug: Some(slug),
            category_id,
            ..f.input
        };
        match existing {
            Some(id) => {
                op_update_article(t, id, input)?;
                report.updated += 1;
            }
            None => {
                op_create_article(t, author_id.clone(), input)?;
                report.created += 1;
            }
        }
    }
    Ok(report)
}

#[async_trait]
impl KbStore for SqliteStore {
    async fn kb_categories(&self) -> StoreResult<Vec<Category>> {
        let rows = sqlx::query(
            "SELECT id, name, parent_id FROM kb_categories ORDER BY name COLLATE NOCASE, id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(read_failed)?;
        rows.iter()
            .map(category_row)
            .collect::<Result<_, _>>()
            .map_err(read_failed)
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
        if let Some(q) = f.query.as_ref().filter(|q| !q.is_empty()) {
            let all = self
                .fts_page("kb_fts", true, &word_match(q, true), f)
                .await?;
            if all.total > 0 {
                return Ok(all);
            }
            if q.terms.len() > 1 {
                let any = self
                    .fts_page("kb_fts", true, &word_match(q, false), f)
                    .await?;
                if any.total > 0 {
                    return Ok(any);
                }
            }
            return match trigram_match(q) {
                Some(expr) => self.fts_page("kb_fts_tri", false, &expr, f).await,
                None => Ok(all),
            };
        }
        let filter = format!("{} AND {}", audience_sql(f.audience), in_category_sql(1));
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM kb_articles a WHERE {filter}"
        )))
        .bind(f.category_id.as_deref())
        .fetch_one(&self.read)
        .await
        .map_err(read_failed)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ARTICLE_COLS} FROM kb_articles a WHERE {filter} \
             ORDER BY a.updated_at DESC, a.id DESC LIMIT ?2 OFFSET ?3"
        )))
        .bind(f.category_id.as_deref())
        .bind(i64::from(f.per_page))
        .bind(i64::from(f.page.saturating_sub(1)) * i64::from(f.per_page))
        .fetch_all(&self.read)
        .await
        .map_err(read_failed)?;
        let items = rows
            .iter()
            .map(|r| {
                article_row(r).map(|article| ArticleHit {
                    snippet: excerpt(&article.body, EXCERPT_CHARS),
                    score: 0.0,
                    article,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(read_failed)?;
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn kb_article(&self, id: &str) -> StoreResult<Option<Article>> {
        let mut found = self
            .articles_where(
                format!("SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.id = ?1"),
                vec![id.to_owned()],
            )
            .await?;
        Ok(found.pop())
    }

    async fn kb_article_by_slug(&self, slug: &str) -> StoreResult<Option<Article>> {
        let mut found = self
            .articles_where(
                format!("SELECT {ARTICLE_COLS} FROM kb_articles a WHERE a.slug = ?1"),
                vec![slug.to_owned()],
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
        self.run(move |t| Ok(t.exec("DELETE FROM kb_articles WHERE id = ?1", [id])? > 0))
            .await
    }

    async fn kb_record_view(&self, article_id: &str, agent_id: Option<&str>) -> StoreResult<()> {
        let (article_id, agent_id) = (article_id.to_owned(), agent_id.map(str::to_owned));
        self.run(move |t| {
            let n = t.exec(
                "UPDATE kb_articles SET views = views + 1 WHERE id = ?1",
                [&article_id],
            )?;
            if n > 0
                && let Some(agent) = agent_id
            {
                t.exec(
                    "INSERT INTO kb_reads (agent_id, article_id, read_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (agent_id, article_id) DO UPDATE SET read_at = excluded.read_at",
                    params![agent, article_id, now_ms()],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn kb_vote(&self, article_id: &str, helpful: bool) -> StoreResult<bool> {
        let article_id = article_id.to_owned();
        let sql = if helpful {
            "UPDATE kb_articles SET helpful_yes = helpful_yes + 1 WHERE id = ?1"
        } else {
            "UPDATE kb_articles SET helpful_no = helpful_no + 1 WHERE id = ?1"
        };
        self.run(move |t| Ok(t.exec(sql, [article_id])? > 0)).await
    }

    async fn kb_set_bookmark(
        &self,
        agent_id: &str,
        article_id: &str,
        on: bool,
    ) -> StoreResult<bool> {
        let (agent_id, article_id) = (agent_id.to_owned(), article_id.to_owned());
        self.run(move |t| {
            if load_article(t, &article_id)?.is_none() {
                return Ok(false);
            }
            if on {
                t.exec(
                    "INSERT INTO kb_bookmarks (agent_id, article_id, created_at) \
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![agent_id, article_id, now_ms()],
                )?;
            } else {
                t.exec(
                    "DELETE FROM kb_bookmarks WHERE agent_id = ?1 AND article_id = ?2",
                    params![agent_id, article_id],
                )?;
            }
            Ok(true)
        })
        .await
    }

    async fn kb_bookmarks(
        &self,
        agent_id: &str,
        audience: KbAudience,
    ) -> StoreResult<Vec<Article>> {
        self.articles_where(
            format!(
                "SELECT {ARTICLE_COLS} FROM kb_bookmarks b JOIN kb_articles a ON a.id = b.article_id \
                 WHERE b.agent_id = ?1 AND {} ORDER BY b.created_at DESC, a.id",
                audience_sql(audience)
            ),
            vec![agent_id.to_owned()],
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
                 WHERE r.agent_id = ?1 AND {} ORDER BY r.read_at DESC, a.id LIMIT {limit}",
                audience_sql(audience)
            ),
            vec![agent_id.to_owned()],
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
            vec![],
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
            vec![],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_every_word() {
        let q = rules::parse_search("hdmi no sig").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(word_match(&q, true), "\"hdmi\" \"no\" \"sig\"*");
        assert_eq!(word_match(&q, false), "\"hdmi\" OR \"no\" OR \"sig\"*");
        let t = rules::parse_search("keyst").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            trigram_match(&t).as_deref(),
            Some("\"key\" OR \"eys\" OR \"yst\"")
        );
        let short = rules::parse_search("tv").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(trigram_match(&short), None);
    }
}
