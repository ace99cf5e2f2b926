//! The knowledge base on the wire: articles, categories, search hits with their
//! highlighted snippet, suggestions, votes, and the requests that write them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An article title: 1..=200 characters on one line.
pub const MAX_KB_TITLE_CHARS: usize = 200;
/// A slug: 1..=120 of `[a-z0-9-]`.
pub const MAX_KB_SLUG_CHARS: usize = 120;
/// An article body (Markdown), in bytes of UTF-8. Writes with a body fit the REST
/// body limit with room for the other fields.
pub const MAX_KB_BODY_BYTES: usize = 48 * 1024;
/// Tags per article.
pub const MAX_KB_TAGS: usize = 20;
/// A category name: 1..=80 characters on one line.
pub const MAX_KB_CATEGORY_CHARS: usize = 80;
/// How deep categories nest (a root category is depth 1).
pub const MAX_KB_CATEGORY_DEPTH: usize = 6;
/// Files in one import.
pub const MAX_KB_IMPORT_FILES: usize = 500;
/// The request body of an import, in bytes.
pub const MAX_KB_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// Suggestions answered at most.
pub const MAX_KB_SUGGESTIONS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
        }
    }
}

impl std::str::FromStr for ArticleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(ArticleStatus::Draft),
            "published" => Ok(ArticleStatus::Published),
            other => Err(format!(
                "unknown status {other:?}: expected draft or published"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Agents only: never on a public route, never to a visitor.
    Internal,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "internal" => Ok(Visibility::Internal),
            "public" => Ok(Visibility::Public),
            other => Err(format!(
                "unknown visibility {other:?}: expected internal or public"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: String,
    pub slug: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category_id: Option<String>,
    pub tags: Vec<String>,
    pub status: ArticleStatus,
    pub visibility: Visibility,
    pub author_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// One search hit: the article, its relevance (higher is better; comparable within
/// one answer only) and a snippet of the body with the matched words between
/// `[[` and `]]` (plain text, no HTML; the public page turns them into `<mark>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleHit {
    #[serde(flatten)]
    pub article: Article,
    pub score: f64,
    pub snippet: String,
}

/// What a public search answers per article: no body, no internal fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicHit {
    pub slug: String,
    pub title: String,
    pub snippet: String,
    /// The public page, relative to the server (`/kb/{slug}`).
    pub url: String,
}

/// The highlight markers inside a snippet.
pub const SNIPPET_OPEN: &str = "[[";
pub const SNIPPET_CLOSE: &str = "]]";

/// `POST /kb/articles` and `PUT /kb/articles/{id}`. On `PUT` a missing `slug` keeps
/// the current one; every other field is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "default_status")]
    pub status: ArticleStatus,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
}

fn default_status() -> ArticleStatus {
    ArticleStatus::Draft
}

fn default_visibility() -> Visibility {
    Visibility::Internal
}

/// `POST /kb/categories` and `PUT /kb/categories/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// `POST /kb/articles/{id}/vote` (agents) and `POST /api/v1/public/kb/{slug}/vote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteInput {
    pub helpful: bool,
}

/// One Markdown file with front matter, as imported and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbFile {
    /// A file name such as `hdmi-no-signal.md` (informative; the slug comes from the
    /// front matter or the title).
    pub name: String,
    pub content: String,
}

/// `POST /kb/import {files}` and the answer of `GET /kb/export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbFiles {
    pub files: Vec<KbFile>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
    pub categories_created: u32,
}

/// A suggestion: an article the customer's words match, with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    #[serde(flatten)]
    pub article: Article,
    pub score: f64,
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// The words the suggestions were found with (the customer's, stop words out).
    pub query: String,
    pub items: Vec<Suggestion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_without_status_and_visibility_is_an_internal_draft() {
        let i: ArticleInput = serde_json::from_str(r#"{"title":"T","body":"B"}"#).expect("parses");
        assert_eq!(i.status, ArticleStatus::Draft);
        assert_eq!(i.visibility, Visibility::Internal);
        assert!(i.tags.is_empty());
    }

    #[test]
    fn a_hit_flattens_the_article_and_round_trips() {
        let a = Article {
            id: "a1".into(),
            slug: "s".into(),
            title: "T".into(),
            body: "B".into(),
            category_id: None,
            tags: vec!["x".into()],
            status: ArticleStatus::Published,
            visibility: Visibility::Public,
            author_id: "ag".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            views: 3,
            helpful_yes: 1,
            helpful_no: 0,
        };
        let h = ArticleHit {
            article: a,
            score: 1.5,
            snippet: "a [[b]]".into(),
        };
        let v = serde_json::to_value(&h).expect("serializes");
        assert_eq!(v["slug"], "s");
        assert_eq!(v["status"], "published");
        assert_eq!(v["snippet"], "a [[b]]");
        let back: ArticleHit = serde_json::from_value(v).expect("parses");
        assert_eq!(back, h);
    }
}
