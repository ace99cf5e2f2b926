//! Canned responses: the saved replies agents insert with `/`, their validation, and
//! the `{{variables}}` a response may contain.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::limits::{MAX_BODY_CHARS, find_control_char, validate_line, validate_text};
use crate::model::AgentId;

/// A title: 1..=100 characters on one line.
pub const MAX_CANNED_TITLE_CHARS: usize = 100;
/// A shortcut: 1..=32 of `[a-z0-9_-]`.
pub const MAX_CANNED_SHORTCUT_CHARS: usize = 32;
/// A category: 1..=40 characters on one line.
pub const MAX_CANNED_CATEGORY_CHARS: usize = 40;
/// A body is a message once inserted, so it has a message's limit.
pub const MAX_CANNED_BODY_CHARS: usize = MAX_BODY_CHARS;

/// Who sees a response: only its owner, or every agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CannedScope {
    Personal,
    Team,
}

impl CannedScope {
    pub fn as_str(self) -> &'static str {
        match self {
            CannedScope::Personal => "personal",
            CannedScope::Team => "team",
        }
    }
}

impl std::str::FromStr for CannedScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "personal" => Ok(CannedScope::Personal),
            "team" => Ok(CannedScope::Team),
            other => Err(format!(
                "unknown scope {other:?}: expected personal or team"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: String,
    pub title: String,
    /// What the agent types after `/` (e.g. `refund`).
    pub shortcut: String,
    pub body: String,
    pub category: Option<String>,
    pub scope: CannedScope,
    /// Who created it (for team responses, the supervisor or admin who did).
    pub owner_id: AgentId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `POST /canned-responses` and `PUT /canned-responses/{id}`. On `PUT` every field
/// is replaced; a missing `scope` keeps the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedInput {
    pub title: String,
    pub shortcut: String,
    pub body: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub scope: Option<CannedScope>,
}

impl CannedInput {
    /// The input trimmed and checked: every field within its limits, no control
    /// characters, a well-formed shortcut; a blank category becomes none.
    pub fn validate(&self) -> Result<CannedInput, ApiError> {
        let title = validate_line("title", &self.title, MAX_CANNED_TITLE_CHARS)?;
        let shortcut = validate_shortcut(&self.shortcut)?;
        if self.body.trim().is_empty() {
            return Err(ApiError::invalid("body is empty"));
        }
        let body = validate_text("body", &self.body, MAX_CANNED_BODY_CHARS)?;
        let category = match self.category.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(validate_line("category", c, MAX_CANNED_CATEGORY_CHARS)?),
        };
        Ok(CannedInput {
            title,
            shortcut,
            body,
            category,
            scope: self.scope,
        })
    }
}

/// A shortcut is 1..=32 of lowercase ASCII letters, digits, `_` and `-`.
pub fn validate_shortcut(value: &str) -> Result<String, ApiError> {
    let s = value.trim();
    let n = s.chars().count();
    if n == 0 || n > MAX_CANNED_SHORTCUT_CHARS {
        return Err(ApiError::invalid(format!(
            "shortcut must be 1 to {MAX_CANNED_SHORTCUT_CHARS} characters"
        )));
    }
    if let Some((pos, c)) = find_control_char(s, false) {
        return Err(ApiError::invalid(format!(
            "shortcut contains a control character (U+{:04X} at position {pos})",
            c as u32
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')))
    {
        return Err(ApiError::invalid(format!(
            "shortcut {s:?} has {c:?}: only a-z, 0-9, '_' and '-' are allowed"
        )));
    }
    Ok(s.to_owned())
}

/// The variables a body may contain, with what each stands for.
pub const VARIABLES: &[(&str, &str)] = &[
    ("customer_name", "the customer's name"),
    ("customer_first_name", "the customer's first name"),
    ("customer_email", "the customer's e-mail address"),
    ("agent_name", "your name"),
    ("agent_first_name", "your first name"),
    ("department", "the chat's department"),
];

/// Replaces each `{{name}}` (spaces inside the braces allowed) with `value(name)`.
/// Unknown variables, and known ones without a value, are left as written so the
/// agent sees what still needs filling in before sending.
pub fn substitute(body: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match value(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first word of a name ("Ada Lovelace" → "Ada").
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn input(title: &str, shortcut: &str, body: &str) -> CannedInput {
        CannedInput {
            title: title.into(),
            shortcut: shortcut.into(),
            body: body.into(),
            category: Some("  ".into()),
            scope: None,
        }
    }

    #[test]
    fn input_is_trimmed_and_checked() {
        let ok = input(" Refund ", " refund ", " Hello\nthere ")
            .validate()
            .unwrap();
        assert_eq!(
            (ok.title.as_str(), ok.shortcut.as_str(), ok.body.as_str()),
            ("Refund", "refund", "Hello\nthere")
        );
        assert_eq!(ok.category, None);
        for bad in [
            input("", "a", "b"),
            input(&"t".repeat(101), "a", "b"),
            input("t", "", "b"),
            input("t", "Refund", "b"),
            input("t", "re fund", "b"),
            input("t", &"a".repeat(33), "b"),
            input("t", "a", "  "),
            input("t", "a", &"b".repeat(MAX_CANNED_BODY_CHARS + 1)),
            input("t", "a", "b\u{1b}[2J"),
            input("t\u{7}", "a", "b"),
        ] {
            assert_eq!(
                bad.validate().unwrap_err().code,
                ErrorCode::Invalid,
                "{bad:?}"
            );
        }
        assert!(
            input("t", "a-b_9", &"é".repeat(MAX_CANNED_BODY_CHARS))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn variables_are_substituted_and_unknown_ones_kept() {
        let v = |n: &str| match n {
            "customer_name" => Some("Ada Lovelace".to_owned()),
            "agent_first_name" => Some("Maya".to_owned()),
            _ => None,
        };
        assert_eq!(
            substitute(
                "Hi {{customer_name}}, {{ agent_first_name }} here. {{nope}} {{",
                v
            ),
            "Hi Ada Lovelace, Maya here. {{nope}} {{"
        );
        assert_eq!(substitute("no vars", v), "no vars");
        assert_eq!(first_name("Ada Lovelace"), "Ada");
        assert_eq!(first_name(""), "");
    }

    #[test]
    fn round_trips_as_json() {
        let c = CannedResponse {
            id: "c1".into(),
            title: "Refund policy".into(),
            shortcut: "refund".into(),
            body: "30 days".into(),
            category: Some("billing".into()),
            scope: CannedScope::Team,
            owner_id: "a1".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["scope"], "team");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
        let back: CannedResponse = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
