//! Knowledge-base rules: what an article or category may be (validation, slugs, the
//! category tree), who writes, who reads what, the words a search or a suggestion is
//! made of, and the Markdown-with-front-matter files of import and export.

use std::collections::{HashMap, HashSet};

use shared::ApiError;
use shared::kb::{
    Article, ArticleInput, ArticleStatus, CategoryInput, MAX_KB_BODY_BYTES, MAX_KB_CATEGORY_CHARS,
    MAX_KB_CATEGORY_DEPTH, MAX_KB_SLUG_CHARS, MAX_KB_TAGS, MAX_KB_TITLE_CHARS, Visibility,
};
use shared::limits::{MAX_SEARCH_CHARS, find_control_char, validate_line, validate_tag};
use shared::model::Role;

/// Who reads the knowledge base, which decides what a list or a search may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KbAudience {
    /// The public pages and the widget: published public articles only.
    Public,
    /// Agents: every published article, internal ones included.
    Agents,
    /// Supervisors and admins: drafts too.
    Writers,
}

impl KbAudience {
    pub fn of_role(role: Role) -> KbAudience {
        if may_write(role) {
            KbAudience::Writers
        } else {
            KbAudience::Agents
        }
    }

    /// May this audience read an article in this state?
    pub fn may_read(self, status: ArticleStatus, visibility: Visibility) -> bool {
        match self {
            KbAudience::Public => {
                status == ArticleStatus::Published && visibility == Visibility::Public
            }
            KbAudience::Agents => status == ArticleStatus::Published,
            KbAudience::Writers => true,
        }
    }
}

/// Articles and categories are curated by supervisors and admins.
pub fn may_write(role: Role) -> bool {
    role.sees_everything()
}

/// The refusal for an agent who tries to write.
pub fn write_forbidden() -> ApiError {
    ApiError::forbidden("only supervisors and admins write knowledge-base articles and categories")
}

/// A URL slug from a title: lowercase ASCII letters and digits joined by single `-`
/// (accents folded, everything else a separator), at most [`MAX_KB_SLUG_CHARS`].
/// A title with nothing usable gives `article`.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= MAX_KB_SLUG_CHARS {
            break;
        }
    }
    out.truncate(MAX_KB_SLUG_CHARS);
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "article".to_owned()
    } else {
        out
    }
}

fn fold_accent(c: char) -> Vec<char> {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => return vec!['s', 's'],
        other => other,
    };
    vec![base]
}

/// Checks a slug someone chose: 1..=120 of `[a-z0-9-]`, no leading, trailing or
/// double `-`.
pub fn validate_slug(slug: &str) -> Result<String, ApiError> {
    let s = slug.trim();
    if s.is_empty() || s.len() > MAX_KB_SLUG_CHARS {
        return Err(ApiError::invalid(format!(
            "slug must be 1 to {MAX_KB_SLUG_CHARS} characters"
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(ApiError::invalid(format!(
            "slug has {c:?}: only lowercase letters, digits and '-' are allowed"
        )));
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err(ApiError::invalid(
            "slug must not start or end with '-' or contain '--'",
        ));
    }
    Ok(s.to_owned())
}

/// The first of `base`, `base-2`, `base-3`… that is not taken.
pub fn unique_slug(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_owned();
    }
    let mut n = 2u32;
    loop {
        let suffix = format!("-{n}");
        let mut stem = base.to_owned();
        stem.truncate(MAX_KB_SLUG_CHARS - suffix.len());
        let candidate = format!("{}{suffix}", stem.trim_end_matches('-'));
        if !taken.contains(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// An article's input, trimmed and checked; the slug is the chosen one (checked) or
/// none, in which case the store derives one from the title with [`slugify`] and
/// [`unique_slug`]. Tags are lowercased and deduplicated, in their first order.
pub fn validate_article(input: &ArticleInput) -> Result<ArticleInput, ApiError> {
    let title = validate_line("title", &input.title, MAX_KB_TITLE_CHARS)?;
    let body = input.body.trim();
    if body.is_empty() {
        return Err(ApiError::invalid("body is empty"));
    }
    if body.len() > MAX_KB_BODY_BYTES {
        return Err(ApiError::too_large(format!(
            "body is {} bytes; the limit is {MAX_KB_BODY_BYTES}",
            body.len()
        )));
    }
    if let Some((pos, c)) = find_control_char(body, true) {
        return Err(ApiError::invalid(format!(
            "body contains a control character (U+{:04X} at position {pos})",
            c as u32
        )));
    }
    let slug = match input.slug.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(validate_slug(s)?),
    };
    if input.tags.len() > MAX_KB_TAGS {
        return Err(ApiError::invalid(format!(
            "{} tags; an article has at most {MAX_KB_TAGS}",
            input.tags.len()
        )));
    }
    let mut tags: Vec<String> = Vec::with_capacity(input.tags.len());
    for t in &input.tags {
        let t = validate_tag(t)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let category_id = match input.category_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            shared::limits::validate_id("category_id", c)?;
            Some(c.to_owned())
        }
    };
    Ok(ArticleInput {
        title,
        body: body.to_owned(),
        slug,
        category_id,
        tags,
        status: input.status,
        visibility: input.visibility,
    })
}

pub fn validate_category(input: &CategoryInput) -> Result<CategoryInput, ApiError> {
    let name = validate_line("name", &input.name, MAX_KB_CATEGORY_CHARS)?;
    let parent_id = match input.parent_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => {
            shared::limits::validate_id("parent_id", p)?;
            Some(p.to_owned())
        }
    };
    Ok(CategoryInput { name, parent_id })
}

/// Checks that giving category `id` (`None`: a new one) the parent `parent` keeps the
/// tree a tree: the parent exists, is not the category itself or one of its
/// descendants, and the depth stays within [`MAX_KB_CATEGORY_DEPTH`]. `parents` maps
/// every category id to its current parent.
pub fn check_parent(
    id: Option<&str>,
    parent: Option<&str>,
    parents: &HashMap<String, Option<String>>,
) -> Result<(), ApiError> {
    let Some(parent) = parent else {
        return Ok(());
    };
    if !parents.contains_key(parent) {
        return Err(ApiError::not_found(format!("no category {parent}")));
    }
    // Walk up from the new parent; meeting `id` means a cycle.
    let mut depth = 1usize;
    let mut at = Some(parent.to_owned());
    let mut seen = HashSet::new();
    while let Some(c) = at {
        if Some(c.as_str()) == id {
            return Err(ApiError::invalid(
                "a category cannot be inside itself or one of its subcategories",
            ));
        }
        if !seen.insert(c.clone()) {
            break;
        }
        depth += 1;
        at = parents.get(&c).cloned().flatten();
    }
    // The moved category's own subtree goes along.
    let below = id.map_or(0, |id| subtree_height(id, parents));
    if depth + below > MAX_KB_CATEGORY_DEPTH {
        return Err(ApiError::invalid(format!(
            "categories nest at most {MAX_KB_CATEGORY_DEPTH} deep"
        )));
    }
    Ok(())
}

fn subtree_height(id: &str, parents: &HashMap<String, Option<String>>) -> usize {
    let children: Vec<&String> = parents
        .iter()
        .filter(|(_, p)| p.as_deref() == Some(id))
        .map(|(c, _)| c)
        .collect();
    children
        .into_iter()
        .map(|c| 1 + subtree_height(c, parents))
        .max()
        .unwrap_or(0)
}

/// A search counts its matches up to this many; `total` says "at least" past it, which
/// bounds the cost of a search for a common word.
pub const MAX_SEARCH_TOTAL: i64 = 1000;

/// The `total` of a search page when the page itself tells it (a page that is not
/// full is the last one); `None` when the matches must be counted.
pub fn total_from_page(page: u32, per_page: u32, on_page: usize) -> Option<i64> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let last = on_page < per_page as usize && (on_page > 0 || page == 1);
    last.then_some(offset + on_page as i64)
}

/// The most words a search or a suggestion is made of.
pub const MAX_QUERY_TERMS: usize = 12;
/// Words longer than this are cut (no real word is; it bounds the query).
const MAX_TERM_CHARS: usize = 40;

/// A parsed search: its words, lowercased, in order, without repeats, and whether the
/// last one is still being typed (no space after it), so it matches as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub terms: Vec<String>,
    pub last_is_prefix: bool,
}

impl SearchQuery {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The words as one line (what a suggestion says it searched for).
    pub fn text(&self) -> String {
        self.terms.join(" ")
    }
}

/// Checks a `q` parameter and splits it into words (letters and digits; everything
/// else separates, so no search syntax of either backend reaches it).
pub fn parse_search(q: &str) -> Result<SearchQuery, ApiError> {
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::invalid(format!(
            "q is longer than {MAX_SEARCH_CHARS} characters"
        )));
    }
    if let Some((pos, c)) = find_control_char(q, false) {
        return Err(ApiError::invalid(format!(
            "q contains a control character (U+{:04X} at position {pos})",
            c as u32
        )));
    }
    let terms = words(q)
        .into_iter()
        .fold(Vec::new(), |mut acc: Vec<String>, w| {
            if !acc.contains(&w) && acc.len() < MAX_QUERY_TERMS {
                acc.push(w);
            }
            acc
        });
    let last_is_prefix = q.chars().last().is_some_and(char::is_alphanumeric);
    Ok(SearchQuery {
        terms,
        last_is_prefix,
    })
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(MAX_TERM_CHARS).collect())
        .collect()
}

/// Words that say nothing about what a customer needs.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anyone", "are", "as",
    "at", "be", "because", "been", "before", "being", "but", "by", "can", "cannot", "cant",
    "could", "did", "do", "does", "doing", "dont", "for", "from", "get", "got", "had", "has",
    "have", "having", "he", "hello", "help", "her", "here", "hey", "hi", "him", "his", "how", "i",
    "if", "im", "in", "into", "is", "it", "its", "ive", "just", "know", "like", "me", "my", "need",
    "no", "not", "now", "of", "ok", "okay", "on", "one", "or", "our", "out", "please", "pls",
    "problem", "question", "really", "she", "should", "so", "some", "still", "thank", "thanks",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "too", "tried",
    "try", "trying", "up", "us", "very", "want", "was", "way", "we", "were", "what", "when",
    "where", "which", "while", "who", "why", "will", "with", "would", "yes", "you", "your",
];

fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.binary_search(&w).is_ok()
}

/// The search for a suggestion, from what the customer wrote, newest message first:
/// their words without stop words, apostrophes and one-letter words, newest first,
/// each once, at most [`MAX_QUERY_TERMS`]. Whole words only (no prefix).
pub fn suggestion_query<'a>(newest_first: impl IntoIterator<Item = &'a str>) -> SearchQuery {
    let mut terms: Vec<String> = Vec::new();
    'messages: for body in newest_first {
        let cleaned = body.replace(['\'', '’'], "");
        for w in words(&cleaned) {
            if w.chars().count() < 2 || is_stop_word(&w) || w.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if !terms.contains(&w) {
                terms.push(w);
                if terms.len() >= MAX_QUERY_TERMS {
                    break 'messages;
                }
            }
        }
    }
    SearchQuery {
        terms,
        last_is_prefix: false,
    }
}

/// How many of a chat's newest customer messages a suggestion reads.
pub const SUGGESTION_MESSAGES: usize = 5;

/// How long an excerpt is, in characters.
pub const EXCERPT_CHARS: usize = 160;

/// The opening of a body as one line of plain text: Markdown marks (`#`, `*`, `_`,
/// `` ` ``, `>`, link brackets) dropped, whitespace collapsed, cut at a word with `…`.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let mut flat = String::with_capacity(max_chars + 8);
    let mut space = false;
    for c in body.chars() {
        if matches!(c, '#' | '*' | '_' | '`' | '>' | '[' | ']' | '|') {
            continue;
        }
        if c.is_whitespace() {
            space = !flat.is_empty();
            continue;
        }
        if space {
            flat.push(' ');
            space = false;
        }
        flat.push(c);
        if flat.chars().count() > max_chars {
            break;
        }
    }
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let cut: String = flat.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

// ---------------------------------------------------------------- front matter

/// An article as a file: front matter between `---` lines, then the Markdown body.
///
/// ```text
/// ---
/// title: HDMI shows no signal
/// slug: hdmi-no-signal
/// category: Connections / HDMI
/// tags: hdmi, cables
/// status: published
/// visibility: public
/// ---
/// Body…
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleFile {
    pub input: ArticleInput,
    /// The category as a path of names from the root (`Connections / HDMI`).
    pub category_path: Vec<String>,
}

/// Parses a file; `name` is only for the error messages.
pub fn parse_article_file(name: &str, content: &str) -> Result<ArticleFile, ApiError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let bad = |what: &str| ApiError::invalid(format!("{name}: {what}"));
    let mut lines = content.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(bad(
            "no front matter: the file must start with a line '---'",
        ));
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(bad(&format!(
                "front-matter line {line:?} is not 'key: value'"
            )));
        };
        let v = unquote(v.trim());
        fields.insert(k.trim().to_ascii_lowercase(), v.to_owned());
    }
    if !closed {
        return Err(bad("the front matter has no closing '---' line"));
    }
    let body: String = lines.collect::<Vec<_>>().join("\n");
    for k in fields.keys() {
        if !matches!(
            k.as_str(),
            "title" | "slug" | "category" | "tags" | "status" | "visibility"
        ) {
            return Err(bad(&format!(
                "unknown front-matter key {k:?} (known: title, slug, category, tags, status, visibility)"
            )));
        }
    }
    let title = fields
        .get("title")
        .cloned()
        .ok_or_else(|| bad("the front matter has no title"))?;
    let status = match fields.get("status") {
        None => ArticleStatus::Published,
        Some(s) => s.parse().map_err(|e: String| bad(&e))?,
    };
    let visibility = match fields.get("visibility") {
        None => Visibility::Internal,
        Some(s) => s.parse().map_err(|e: String| bad(&e))?,
    };
    let tags = fields
        .get("tags")
        .map(|t| {
            t.trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|s| unquote(s.trim()).to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let category_path: Vec<String> = fields
        .get("category")
        .map(|c| {
            c.split('/')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if category_path.len() > MAX_KB_CATEGORY_DEPTH {
        return Err(bad(&format!(
            "categories nest at most {MAX_KB_CATEGORY_DEPTH} deep"
        )));
    }
    for c in &category_path {
        validate_line("category", c, MAX_KB_CATEGORY_CHARS).map_err(|e| bad(&e.message))?;
    }
    let input = validate_article(&ArticleInput {
        title,
        body,
        slug: fields.get("slug").cloned(),
        category_id: None,
        tags,
        status,
        visibility,
    })
    .map_err(|e| ApiError::new(e.code, format!("{name}: {}", e.message)))?;
    Ok(ArticleFile {
        input,
        category_path,
    })
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Writes an article as a file that [`parse_article_file`] reads back to the same
/// article; `category_path` names its category from the root.
pub fn write_article_file(article: &Article, category_path: &[String]) -> String {
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", quote_if_needed(&article.title)));
    out.push_str(&format!("slug: {}\n", article.slug));
    if !category_path.is_empty() {
        out.push_str(&format!("category: {}\n", category_path.join(" / ")));
    }
    if !article.tags.is_empty() {
        out.push_str(&format!("tags: {}\n", article.tags.join(", ")));
    }
    out.push_str(&format!("status: {}\n", article.status.as_str()));
    out.push_str(&format!("visibility: {}\n", article.visibility.as_str()));
    out.push_str("---\n");
    out.push_str(&article.body);
    out.push('\n');
    out
}

fn quote_if_needed(v: &str) -> String {
    let needs = v.starts_with(['"', '\'', ' ']) || v.ends_with(['"', '\'', ' ']);
    if needs {
        format!("\"{v}\"")
    } else {
        v.to_owned()
    }
}

/// The category path of `id` from the root, by names.
pub fn category_path(
    id: Option<&str>,
    names: &HashMap<String, (String, Option<String>)>,
) -> Vec<String> {
    let mut path = Vec::new();
    let mut at = id.map(str::to_owned);
    let mut seen = HashSet::new();
    while let Some(c) = at {
        if !seen.insert(c.clone()) {
            break;
        }
        match names.get(&c) {
            Some((name, parent)) => {
                path.push(name.clone());
                at = parent.clone();
            }
            None => break,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn input(title: &str, body: &str) -> ArticleInput {
        ArticleInput {
            title: title.into(),
            body: body.into(),
            slug: None,
            category_id: None,
            tags: vec![],
            status: ArticleStatus::Published,
            visibility: Visibility::Public,
        }
    }

    #[test]
    fn slugs_come_from_titles() {
        assert_eq!(
            slugify("  HDMI: no signal (4K / 60 Hz)! "),
            "hdmi-no-signal-4k-60-hz"
        );
        assert_eq!(slugify("Café crème à l'été"), "cafe-creme-a-l-ete");
        assert_eq!(slugify("???"), "article");
        assert!(slugify(&"word ".repeat(100)).len() <= MAX_KB_SLUG_CHARS);
        assert!(!slugify(&"ab ".repeat(100)).ends_with('-'));
    }

    #[test]
    fn a_taken_slug_gets_the_next_free_number() {
        let taken: HashSet<String> = ["wifi", "wifi-2"].iter().map(|s| s.to_string()).collect();
        assert_eq!(unique_slug("wifi", &taken), "wifi-3");
        assert_eq!(unique_slug("hdmi", &taken), "hdmi");
    }

    #[test]
    fn chosen_slugs_are_checked() {
        assert_eq!(validate_slug("lamp-life").unwrap(), "lamp-life");
        for bad in ["", "Lamp", "a b", "-a", "a-", "a--b", "<script>"] {
            assert!(validate_slug(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn article_input_is_trimmed_and_checked() {
        let mut i = input("  Keystone  ", " body ");
        i.tags = vec!["Setup".into(), "setup".into(), "image".into()];
        let v = validate_article(&i).unwrap();
        assert_eq!(v.title, "Keystone");
        assert_eq!(v.body, "body");
        assert_eq!(v.tags, vec!["setup", "image"]);

        assert!(validate_article(&input("", "b")).is_err());
        assert!(validate_article(&input("t", "  ")).is_err());
        let big = validate_article(&input("t", &"x".repeat(MAX_KB_BODY_BYTES + 1))).unwrap_err();
        assert_eq!(big.code, shared::ErrorCode::TooLarge);
        assert!(validate_article(&input("t", "a\u{1b}[31m")).is_err());
        let mut many = input("t", "b");
        many.tags = (0..=MAX_KB_TAGS).map(|n| format!("t{n}")).collect();
        assert!(validate_article(&many).is_err());
        let mut bad_tag = input("t", "b");
        bad_tag.tags = vec!["no spaces".into()];
        assert!(validate_article(&bad_tag).is_err());
    }

    #[test]
    fn only_supervisors_and_admins_write() {
        assert!(!may_write(Role::Agent));
        assert!(may_write(Role::Supervisor));
        assert!(may_write(Role::Admin));
    }

    #[test]
    fn internal_articles_and_drafts_stay_with_those_who_may_read_them() {
        use ArticleStatus::*;
        use Visibility::*;
        let p = KbAudience::Public;
        assert!(p.may_read(Published, Public));
        assert!(!p.may_read(Published, Internal));
        assert!(!p.may_read(Draft, Public));
        let a = KbAudience::of_role(Role::Agent);
        assert!(a.may_read(Published, Internal));
        assert!(!a.may_read(Draft, Internal));
        let w = KbAudience::of_role(Role::Supervisor);
        assert!(w.may_read(Draft, Internal));
    }

    fn tree(pairs: &[(&str, Option<&str>)]) -> HashMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(c, p)| (c.to_string(), p.map(str::to_string)))
            .collect()
    }

    #[test]
    fn the_category_tree_has_no_cycles() {
        let t = tree(&[("a", None), ("b", Some("a")), ("c", Some("b"))]);
        assert!(check_parent(None, Some("c"), &t).is_ok());
        assert!(check_parent(Some("a"), Some("c"), &t).is_err());
        assert!(check_parent(Some("a"), Some("a"), &t).is_err());
        assert!(check_parent(Some("c"), Some("a"), &t).is_ok());
        assert!(check_parent(Some("c"), None, &t).is_ok());
        let missing = check_parent(None, Some("zz"), &t).unwrap_err();
        assert_eq!(missing.code, shared::ErrorCode::NotFound);
    }

    #[test]
    fn the_category_tree_has_a_depth_limit() {
        let mut pairs = vec![("c1".to_string(), None)];
        for n in 2..=MAX_KB_CATEGORY_DEPTH {
            pairs.push((format!("c{n}"), Some(format!("c{}", n - 1))));
        }
        let t: HashMap<String, Option<String>> = pairs.into_iter().collect();
        let deepest = format!("c{MAX_KB_CATEGORY_DEPTH}");
        assert!(check_parent(None, Some(&deepest), &t).is_err());
        assert!(check_parent(None, Some("c1"), &t).is_ok());
        // Moving c2's subtree (depth - 1 levels) under a new root of its own fits only
        // at the top.
        let t2 = {
            let mut t2 = t.clone();
            t2.insert("x".into(), None);
            t2
        };
        assert!(check_parent(Some("c2"), Some("x"), &t2).is_ok());
        assert!(check_parent(Some("c1"), Some("x"), &t2).is_err());
    }

    #[test]
    fn searches_are_words_only() {
        let q = parse_search("HDMI \"no\" signal* OR (NEAR) proj").unwrap();
        assert_eq!(q.terms, vec!["hdmi", "no", "signal", "or", "near", "proj"]);
        assert!(q.last_is_prefix);
        assert!(!parse_search("hdmi ").unwrap().last_is_prefix);
        assert!(parse_search("   ").unwrap().is_empty());
        assert!(parse_search(&"x".repeat(MAX_SEARCH_CHARS + 1)).is_err());
        assert!(parse_search("a\u{7}b").is_err());
        let many = parse_search("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14").unwrap();
        assert_eq!(many.terms.len(), MAX_QUERY_TERMS);
    }

    #[test]
    fn the_stop_word_list_is_sorted() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn suggestions_use_the_customers_own_recent_words() {
        let q = suggestion_query([
            "Hi, I can't get my projector's Wi-Fi casting to work with my iPhone",
            "hello?",
            "My HDMI cable is fine",
        ]);
        assert_eq!(
            q.terms,
            vec![
                "projectors",
                "wi",
                "fi",
                "casting",
                "work",
                "iphone",
                "hdmi",
                "cable",
                "fine"
            ]
        );
        assert!(suggestion_query(["hi, thanks!", "ok"]).is_empty());
        assert!(suggestion_query(["1080 1920"]).is_empty());
    }

    const FILE: &str = "---\ntitle: HDMI shows no signal\nslug: hdmi-no-signal\ncategory: Connections / HDMI\ntags: hdmi, cables\nstatus: published\nvisibility: public\n---\n# Check the cable\n\nTry another port.";

    #[test]
    fn front_matter_files_parse() {
        let f = parse_article_file("hdmi.md", FILE).unwrap();
        assert_eq!(f.input.title, "HDMI shows no signal");
        assert_eq!(f.input.slug.as_deref(), Some("hdmi-no-signal"));
        assert_eq!(f.category_path, vec!["Connections", "HDMI"]);
        assert_eq!(f.input.tags, vec!["hdmi", "cables"]);
        assert_eq!(f.input.visibility, Visibility::Public);
        assert_eq!(f.input.body, "# Check the cable\n\nTry another port.");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        for (content, says) in [
            ("title: x\n", "no front matter"),
            ("---\ntitle: x\nslug: y", "no closing"),
            ("---\nslug: x\n---\nbody", "no title"),
            (
                "---\ntitle: x\nauthor: me\n---\nbody",
                "unknown front-matter key",
            ),
            (
                "---\ntitle: x\nvisibility: secret\n---\nbody",
                "unknown visibility",
            ),
            ("---\ntitle: x\n---\n", "body is empty"),
            ("---\ntitle x\n---\nbody", "not 'key: value'"),
        ] {
            let e = parse_article_file("f.md", content).unwrap_err();
            assert!(e.message.contains(says), "{content:?}: {}", e.message);
            assert!(e.message.starts_with("f.md: "), "{}", e.message);
        }
    }

    #[test]
    fn written_files_read_back_to_the_same_article() {
        let f = parse_article_file("hdmi.md", FILE).unwrap();
        let a = Article {
            id: "a".into(),
            slug: "hdmi-no-signal".into(),
            title: f.input.title.clone(),
            body: f.input.body.clone(),
            category_id: Some("c".into()),
            tags: f.input.tags.clone(),
            status: f.input.status,
            visibility: f.input.visibility,
            author_id: "x".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            views: 0,
            helpful_yes: 0,
            helpful_no: 0,
        };
        let text = write_article_file(&a, &f.category_path);
        assert_eq!(parse_article_file("hdmi.md", &text).unwrap(), f);
    }

    #[test]
    fn a_page_that_is_not_full_tells_the_total() {
        assert_eq!(total_from_page(1, 20, 7), Some(7));
        assert_eq!(total_from_page(1, 20, 0), Some(0));
        assert_eq!(total_from_page(3, 20, 5), Some(45));
        assert_eq!(total_from_page(1, 20, 20), None);
        assert_eq!(total_from_page(4, 20, 0), None);
    }

    #[test]
    fn excerpts_are_plain_and_short() {
        assert_eq!(
            excerpt("# Title\n\nSome **bold** `code`.", 100),
            "Title Some bold code."
        );
        let long = excerpt(&"word ".repeat(100), 20);
        assert!(long.ends_with('…'));
        assert!(long.chars().count() <= 21);
    }

    #[test]
    fn category_paths_run_from_the_root() {
        let names: HashMap<String, (String, Option<String>)> = [
            ("a".to_string(), ("Setup".to_string(), None)),
            (
                "b".to_string(),
                ("Image".to_string(), Some("a".to_string())),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(category_path(Some("b"), &names), vec!["Setup", "Image"]);
        assert!(category_path(None, &names).is_empty());
    }
}
