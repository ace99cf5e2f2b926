//! `/kb/*`: the knowledge base for agents — articles and their search, categories,
//! bookmarks, recent and popular, votes, suggestions from a chat's customer words, and
//! import/export as Markdown files with front matter. Writes: supervisors and admins.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::kb::{
    Article, ArticleHit, ArticleInput, Category, CategoryInput, ImportReport, KbFile, KbFiles,
    MAX_KB_IMPORT_BYTES, MAX_KB_IMPORT_FILES, MAX_KB_SUGGESTIONS, Suggestion, Suggestions,
    VoteInput,
};
use shared::limits::{validate_id, validate_page};
use shared::model::{AuthorKind, Page};

use super::AuthAgent;
use crate::AppState;
use crate::domain::kb::{self as rules, KbAudience, SUGGESTION_MESSAGES};
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::store::ArticleFilter;

/// Recent and popular lists are this long at most.
const MAX_LIST: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kb/articles", get(list).post(create))
        .route("/kb/articles/{id}", get(one).put(replace).delete(remove))
        .route("/kb/articles/{id}/vote", post(vote))
        .route("/kb/categories", get(categories).post(create_category))
        .route(
            "/kb/categories/{id}",
            put(replace_category).delete(remove_category),
        )
        .route("/kb/bookmarks", get(bookmarks))
        .route(
            "/kb/bookmarks/{article_id}",
            put(bookmark).delete(unbookmark),
        )
        .route("/kb/recent", get(recent))
        .route("/kb/popular", get(popular))
        .route("/kb/suggest", get(suggest))
        .route("/kb/export", get(export))
        .route(
            "/kb/import",
            post(import).route_layer(DefaultBodyLimit::max(MAX_KB_IMPORT_BYTES)),
        )
}

fn audience(auth: &AuthAgent) -> KbAudience {
    KbAudience::of_role(auth.agent.role)
}

fn writer(auth: &AuthAgent) -> Result<(), ApiError> {
    if rules::may_write(auth.agent.role) {
        Ok(())
    } else {
        Err(rules::write_forbidden())
    }
}

fn no_article(id: &str) -> ApiError {
    ApiError::not_found(format!("no article {id}"))
}

/// Loads an article the caller may read; drafts are missing to those who may not.
async fn readable(state: &AppState, auth: &AuthAgent, id: &str) -> Result<Article, ApiError> {
    validate_id("article id", id)?;
    match state.store.kb_article(id).await? {
        Some(a) if audience(auth).may_read(a.status, a.visibility) => Ok(a),
        _ => Err(no_article(id)),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    category_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<ArticleHit>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    let query = q.q.as_deref().map(rules::parse_search).transpose()?;
    let category_id = q.category_id.filter(|c| !c.trim().is_empty());
    if let Some(c) = &category_id {
        validate_id("category_id", c)?;
    }
    let filter = ArticleFilter {
        audience: audience(&auth),
        query: query.filter(|q| !q.is_empty()),
        category_id,
        page,
        per_page,
    };
    Ok(Json(state.store.kb_articles(&filter).await?))
}

async fn one(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Article>> {
    let mut a = readable(&state, &auth, &id).await?;
    state
        .store
        .kb_record_view(&a.id, Some(&auth.agent.id))
        .await?;
    a.views += 1;
    Ok(Json(a))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(input): ApiJson<ArticleInput>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    writer(&auth)?;
    let input = rules::validate_article(&input)?;
    let a = state
        .store
        .create_kb_article(&auth.agent.id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

async fn replace(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ArticleInput>,
) -> ApiResult<Json<Article>> {
    writer(&auth)?;
    validate_id("article id", &id)?;
    let input = rules::validate_article(&input)?;
    state
        .store
        .update_kb_article(&id, &input)
        .await?
        .map(Json)
        .ok_or_else(|| no_article(&id).into())
}

async fn remove(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    writer(&auth)?;
    validate_id("article id", &id)?;
    if !state.store.delete_kb_article(&id).await? {
        return Err(no_article(&id).into());
    }
    Ok(Json(json!({})))
}

async fn vote(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(v): ApiJson<VoteInput>,
) -> ApiResult<Json<Value>> {
    let a = readable(&state, &auth, &id).await?;
    if !state.store.kb_vote(&a.id, v.helpful).await? {
        return Err(no_article(&id).into());
    }
    Ok(Json(json!({})))
}

async fn categories(State(state): State<AppState>, _auth: AuthAgent) -> ApiResult<Json<Value>> {
    let items: Vec<Category> = state.store.kb_categories().await?;
    Ok(Json(json!({ "items": items })))
}

async fn create_category(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(input): ApiJson<CategoryInput>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    writer(&auth)?;
    let input = rules::validate_category(&input)?;
    let c = state.store.create_kb_category(&input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn replace_category(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CategoryInput>,
) -> ApiResult<Json<Category>> {
    writer(&auth)?;
    validate_id("category id", &id)?;
    let input = rules::validate_category(&input)?;
    state
        .store
        .update_kb_category(&id, &input)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no category {id}")).into())
}

async fn remove_category(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    writer(&auth)?;
    validate_id("category id", &id)?;
    if !state.store.delete_kb_category(&id).await? {
        return Err(ApiError::not_found(format!("no category {id}")).into());
    }
    Ok(Json(json!({})))
}

async fn bookmarks(State(state): State<AppState>, auth: AuthAgent) -> ApiResult<Json<Value>> {
    let items = state
        .store
        .kb_bookmarks(&auth.agent.id, audience(&auth))
        .await?;
    Ok(Json(json!({ "items": items })))
}

async fn bookmark(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(article_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = readable(&state, &auth, &article_id).await?;
    if !state
        .store
        .kb_set_bookmark(&auth.agent.id, &a.id, true)
        .await?
    {
        return Err(no_article(&article_id).into());
    }
    Ok(Json(json!({})))
}

async fn unbookmark(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(article_id): Path<String>,
) -> ApiResult<Json<Value>> {
    validate_id("article id", &article_id)?;
    if !state
        .store
        .kb_set_bookmark(&auth.agent.id, &article_id, false)
        .await?
    {
        return Err(no_article(&article_id).into());
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u32>,
}

fn limit(q: &LimitQuery) -> Result<u32, ApiError> {
    match q.limit {
        None => Ok(10),
        Some(n) if (1..=MAX_LIST).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(format!("limit must be 1 to {MAX_LIST}"))),
    }
}

async fn recent(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<Value>> {
    let items = state
        .store
        .kb_recent(&auth.agent.id, audience(&auth), limit(&q)?)
        .await?;
    Ok(Json(json!({ "items": items })))
}

async fn popular(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<Value>> {
    let items = state.store.kb_popular(audience(&auth), limit(&q)?).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct SuggestQuery {
    chat_id: Option<String>,
    ticket_id: Option<String>,
    limit: Option<u32>,
}

/// Articles for what the customer of a chat wrote (their own words; agents' replies
/// and notes are not read).
async fn suggest(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> ApiResult<Json<Suggestions>> {
    let per_page = match q.limit {
        None => 3,
        Some(n) if (1..=MAX_KB_SUGGESTIONS as u32).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::invalid(format!("limit must be 1 to {MAX_KB_SUGGESTIONS}")).into(),
            );
        }
    };
    let chat_id = match (q.chat_id, q.ticket_id) {
        (Some(c), None) => c,
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "suggestions for tickets are not available on this server yet; use chat_id",
            )
            .into());
        }
        _ => return Err(ApiError::invalid("give exactly one of chat_id or ticket_id").into()),
    };
    validate_id("chat_id", &chat_id)?;
    let chat = state
        .store
        .chat(&chat_id)
        .await?
        .filter(|c| {
            auth.actor
                .may_see_chat(&c.department_id, c.assignee_id.as_deref())
        })
        .ok_or_else(|| ApiError::not_found(format!("no chat {chat_id}")))?;
    let messages = state
        .store
        .messages(&chat.id, None, shared::limits::MAX_MESSAGE_LIMIT, false)
        .await?;
    let words: Vec<&str> = messages
        .iter()
        .rev()
        .filter(|m| m.author.kind == AuthorKind::Customer)
        .take(SUGGESTION_MESSAGES)
        .map(|m| m.body.as_str())
        .collect();
    let query = rules::suggestion_query(words);
    if query.is_empty() {
        return Ok(Json(Suggestions {
            query: String::new(),
            items: vec![],
        }));
    }
    let filter = ArticleFilter {
        audience: KbAudience::Agents,
        query: Some(query.clone()),
        category_id: None,
        page: 1,
        per_page,
    };
    let hits = state.store.kb_articles(&filter).await?;
    Ok(Json(Suggestions {
        query: query.text(),
        items: hits
            .items
            .into_iter()
            .map(|h| Suggestion {
                article: h.article,
                score: h.score,
                snippet: h.snippet,
            })
            .collect(),
    }))
}

async fn export(State(state): State<AppState>, auth: AuthAgent) -> ApiResult<Json<KbFiles>> {
    writer(&auth)?;
    let categories = state.store.kb_categories().await?;
    let names = categories
        .into_iter()
        .map(|c| (c.id, (c.name, c.parent_id)))
        .collect();
    let files = state
        .store
        .kb_all_articles()
        .await?
        .into_iter()
        .map(|a| {
            let path = rules::category_path(a.category_id.as_deref(), &names);
            KbFile {
                name: format!("{}.md", a.slug),
                content: rules::write_article_file(&a, &path),
            }
        })
        .collect();
    Ok(Json(KbFiles { files }))
}

async fn import(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(body): ApiJson<KbFiles>,
) -> ApiResult<Json<ImportReport>> {
    writer(&auth)?;
    if body.files.is_empty() {
        return Err(ApiError::invalid("files is empty").into());
    }
    if body.files.len() > MAX_KB_IMPORT_FILES {
        return Err(ApiError::too_large(format!(
            "{} files; an import takes at most {MAX_KB_IMPORT_FILES}",
            body.files.len()
        ))
        .into());
    }
    let mut parsed = Vec::with_capacity(body.files.len());
    let mut slugs = std::collections::HashSet::new();
    for f in &body.files {
        let name: String = f.name.chars().take(120).collect();
        let file = rules::parse_article_file(&name, &f.content)?;
        let slug = file
            .input
            .slug
            .clone()
            .unwrap_or_else(|| rules::slugify(&file.input.title));
        if !slugs.insert(slug.clone()) {
            return Err(ApiError::invalid(format!(
                "{name}: another file of this import has the slug {slug:?}"
            ))
            .into());
        }
        parsed.push(file);
    }
    Ok(Json(state.store.kb_import(&auth.agent.id, parsed).await?))
}
