//! The public knowledge base: `/kb` and `/kb/{slug}` as HTML (Markdown rendered with
//! pulldown-cmark, then sanitised with ammonia: no script, no event handler, no
//! `javascript:` link survives), and the widget's `/api/v1/public/kb/*` search and
//! "did it help" vote. Published public articles only; everything else is missing.

use std::sync::LazyLock;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::kb::{Article, PublicHit, SNIPPET_CLOSE, SNIPPET_OPEN, VoteInput};

use crate::AppState;
use crate::domain::kb::{self as rules, KbAudience};
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::store::ArticleFilter;

/// Hits the widget shows at most.
const PUBLIC_HITS: u32 = 5;

/// Pages run no script at all; styles are the page's own.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The HTML pages (merged at the server's root).
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/kb", get(index))
        .route("/kb/{slug}", get(article_page))
        .route("/kb/{slug}/vote", post(page_vote))
}

/// The widget's routes (under `/api/v1`, cross-origin like the visitor routes).
pub fn public_api() -> Router<AppState> {
    Router::new()
        .route("/public/kb/search", get(public_search))
        .route("/public/kb/{slug}/vote", post(public_vote))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A snippet as HTML: escaped, its `[[…]]` highlights as `<mark>`.
fn snippet_html(s: &str) -> String {
    esc(s)
        .replace(&esc(SNIPPET_OPEN), "<mark>")
        .replace(&esc(SNIPPET_CLOSE), "</mark>")
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// Markdown to safe HTML: rendered, then everything that could run removed.
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(md, opts));
    SANITIZER.clean(&raw).to_string()
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Help center</title><style>\
         body{{font:16px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         a{{color:#0b5cad}} mark{{background:#ffe58a}} pre{{background:#f4f4f4;padding:.6rem;overflow:auto}}\
         code{{background:#f4f4f4}} .meta{{color:#666;font-size:.9rem}} li{{margin:.3rem 0}}\
         form.vote button{{margin-right:.5rem}}</style></head><body>\
         <p><a href=\"/kb\">Help center</a></p>{body}</body></html>",
        esc(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    r
}

fn missing() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "<h1>Not found</h1><p>There is no such article. <a href=\"/kb\">Search the help center</a>.</p>",
    )
}

fn failed(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    page(
        status,
        "Error",
        &format!("<h1>Sorry</h1><p>{}</p>", esc(&e.message)),
    )
}

/// A published public article by slug, or nothing.
async fn public_article(state: &AppState, slug: &str) -> Result<Option<Article>, ApiError> {
    if rules::validate_slug(slug).is_err() {
        return Ok(None);
    }
    Ok(state
        .store
        .kb_article_by_slug(slug)
        .await?
        .filter(|a| KbAudience::Public.may_read(a.status, a.visibility)))
}

#[derive(Deserialize)]
struct IndexQuery {
    q: Option<String>,
}

async fn index(State(state): State<AppState>, Query(q): Query<IndexQuery>) -> Response {
    match index_html(&state, q.q.as_deref().unwrap_or("")).await {
        Ok(html) => page(StatusCode::OK, "Help center", &html),
        Err(e) => failed(&e),
    }
}

async fn index_html(state: &AppState, q: &str) -> Result<String, ApiError> {
    let query = rules::parse_search(q)?;
    let searching = !query.is_empty();
    let filter = ArticleFilter {
        audience: KbAudience::Public,
        query: searching.then_some(query),
        category_id: None,
        page: 1,
        per_page: 100,
    };
    let hits = state.store.kb_articles(&filter).await?;
    let mut html = format!(
        "<h1>Help center</h1><form method=\"get\" action=\"/kb\"><input name=\"q\" \
         value=\"{}\" placeholder=\"Search articles\" aria-label=\"Search articles\"> \
         <button>Search</button></form>",
        esc(q)
    );
    if hits.items.is_empty() {
        html.push_str("<p>No articles found.</p>");
        return Ok(html);
    }
    let categories = state.store.kb_categories().await?;
    let names: std::collections::HashMap<String, (String, Option<String>)> = categories
        .into_iter()
        .map(|c| (c.id, (c.name, c.parent_id)))
        .collect();
    html.push_str("<ul>");
    for h in &hits.items {
        let path = rules::category_path(h.article.category_id.as_deref(), &names);
        html.push_str(&format!(
            "<li><a href=\"/kb/{}\">{}</a>{}<br><span class=\"meta\">{}</span></li>",
            esc(&h.article.slug),
            esc(&h.article.title),
            if path.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"meta\">· {}</span>", esc(&path.join(" › ")))
            },
            snippet_html(&h.snippet)
        ));
    }
    html.push_str("</ul>");
    Ok(html)
}

#[derive(Deserialize)]
struct ThanksQuery {
    voted: Option<String>,
}

async fn article_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(t): Query<ThanksQuery>,
) -> Response {
    let a = match public_article(&state, &slug).await {
        Ok(Some(a)) => a,
        Ok(None) => return missing(),
        Err(e) => return failed(&e),
    };
    if let Err(e) = state.store.kb_record_view(&a.id, None).await {
        return failed(&e);
    }
    let updated = a
        .updated_at
        .format(&time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let vote = if t.voted.is_some() {
        "<p class=\"meta\">Thank you for your answer.</p>".to_owned()
    } else {
        format!(
            "<form class=\"vote\" method=\"post\" action=\"/kb/{}/vote\">Did this help? \
             <button name=\"helpful\" value=\"yes\">Yes</button>\
             <button name=\"helpful\" value=\"no\">No</button></form>",
            esc(&a.slug)
        )
    };
    let body = format!(
        "<article><h1>{}</h1><p class=\"meta\">Updated {}</p>{}</article><hr>{}",
        esc(&a.title),
        esc(&updated),
        render_markdown(&a.body),
        vote
    );
    page(StatusCode::OK, &a.title, &body)
}

#[derive(Deserialize)]
struct VoteForm {
    helpful: String,
}

async fn page_vote(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(v): Form<VoteForm>,
) -> Response {
    let helpful = match v.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => return failed(&ApiError::invalid("helpful must be yes or no")),
    };
    match public_article(&state, &slug).await {
        Ok(Some(a)) => match state.store.kb_vote(&a.id, helpful).await {
            Ok(_) => Redirect::to(&format!("/kb/{}?voted=1", a.slug)).into_response(),
            Err(e) => failed(&e),
        },
        Ok(None) => missing(),
        Err(e) => failed(&e),
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    limit: Option<u32>,
}

async fn public_search(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let per_page = match q.limit {
        None => PUBLIC_HITS,
        Some(n) if (1..=PUBLIC_HITS * 2).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::invalid(format!("limit must be 1 to {}", PUBLIC_HITS * 2)).into(),
            );
        }
    };
    let query = rules::parse_search(q.q.as_deref().unwrap_or(""))?;
    if query.is_empty() {
        return Ok(Json(json!({ "items": [] })));
    }
    let filter = ArticleFilter {
        audience: KbAudience::Public,
        query: Some(query),
        category_id: None,
        page: 1,
        per_page,
    };
    let items: Vec<PublicHit> = state
        .store
        .kb_articles(&filter)
        .await?
        .items
        .into_iter()
        .map(|h| PublicHit {
            url: format!("/kb/{}", h.article.slug),
            slug: h.article.slug,
            title: h.article.title,
            snippet: h.snippet,
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn public_vote(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(v): ApiJson<VoteInput>,
) -> ApiResult<Json<Value>> {
    let a = public_article(&state, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no article {slug}")))?;
    state.store.kb_vote(&a.id, v.helpful).await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_its_formatting_and_loses_every_script() {
        let html = render_markdown(
            "# Title\n\n**bold** [ok](https://wzatco.com) [bad](javascript:alert(1))\n\n\
             <script>alert(1)</script><img src=x onerror=alert(1)>\
             <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">x</a>",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("href=\"https://wzatco.com\""), "{html}");
        for bad in ["<script", "onerror", "onclick", "javascript:"] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn snippets_are_escaped_then_highlighted() {
        assert_eq!(
            snippet_html("<b>x</b> [[hdmi]] cable"),
            "&lt;b&gt;x&lt;/b&gt; <mark>hdmi</mark> cable"
        );
    }
}
