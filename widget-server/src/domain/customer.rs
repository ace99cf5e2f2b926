//! Customer edits and internal customer notes: what an edit may contain, who may
//! edit a customer and who may delete a note.

use std::collections::BTreeMap;

use serde::Deserialize;
use shared::ApiError;
use shared::limits::{
    MAX_NAME_CHARS, MAX_TAGS_PER_CHAT, validate_email, validate_line, validate_tag, validate_text,
};

use super::Actor;

pub const MAX_PHONE_CHARS: usize = 32;
pub const MAX_LOCATION_CHARS: usize = 100;
pub const MAX_CUSTOM_FIELDS: usize = 30;
pub const MAX_FIELD_KEY_CHARS: usize = 40;
pub const MAX_FIELD_VALUE_CHARS: usize = 500;
pub const MAX_CUSTOMER_NOTE_CHARS: usize = 4000;

/// `PATCH /customers/{id}` as sent: every field optional; `""` clears email, phone
/// and location; `tags` and `custom_fields` replace the whole list / map.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub location: Option<String>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<BTreeMap<String, String>>,
}

/// A validated edit: `Some` fields are written (`Some(None)` clears).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerEdit {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<BTreeMap<String, String>>,
}

impl CustomerEdit {
    pub fn is_empty(&self) -> bool {
        *self == CustomerEdit::default()
    }

    /// Writes the edit onto the stored customer.
    pub fn apply(&self, c: &mut shared::model::Customer) {
        if let Some(n) = &self.name {
            c.name.clone_from(n);
        }
        if let Some(e) = &self.email {
            c.email.clone_from(e);
        }
        if let Some(p) = &self.phone {
            c.phone.clone_from(p);
        }
        if let Some(l) = &self.location {
            c.location.clone_from(l);
        }
        if let Some(t) = &self.tags {
            c.tags.clone_from(t);
        }
        if let Some(f) = &self.custom_fields {
            c.custom_fields.clone_from(f);
        }
    }
}

fn clearable(
    v: Option<String>,
    check: impl Fn(&str) -> Result<String, ApiError>,
) -> Result<Option<Option<String>>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(Some(None)),
        Some(s) => Ok(Some(Some(check(&s)?))),
    }
}

/// A phone number: digits with `+`, spaces, `-`, `.`, `(`, `)`; 3 to 32 characters
/// with at least 3 digits.
pub fn validate_phone(s: &str) -> Result<String, ApiError> {
    let p = validate_line("phone", s, MAX_PHONE_CHARS)?;
    if let Some(c) = p
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')')))
    {
        return Err(ApiError::invalid(format!(
            "phone {p:?} has {c:?}: a phone number is digits, '+', spaces, '-', '.', '(' and ')'"
        )));
    }
    if p.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err(ApiError::invalid(format!(
            "phone {p:?} has fewer than 3 digits"
        )));
    }
    Ok(p)
}

/// Customer tags: the chat tag rules (each valid, lowercased, duplicates dropped),
/// at most 20.
pub fn validate_customer_tags(tags: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = validate_tag(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS_PER_CHAT {
        return Err(ApiError::invalid(format!(
            "a customer has at most {MAX_TAGS_PER_CHAT} tags ({} given)",
            out.len()
        )));
    }
    Ok(out)
}

/// Custom fields: at most 30; keys one line of 1 to 40 characters, values one line of
/// at most 500 (an empty value drops the field).
pub fn validate_custom_fields(
    fields: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for (k, v) in fields {
        let key = validate_line("custom field name", k, MAX_FIELD_KEY_CHARS)?;
        let value = v.trim();
        if value.is_empty() {
            continue;
        }
        let value = validate_line(
            &format!("custom field {key:?}"),
            value,
            MAX_FIELD_VALUE_CHARS,
        )?;
        if out.insert(key.clone(), value).is_some() {
            return Err(ApiError::invalid(format!(
                "custom field {key:?} is given twice"
            )));
        }
    }
    if out.len() > MAX_CUSTOM_FIELDS {
        return Err(ApiError::invalid(format!(
            "a customer has at most {MAX_CUSTOM_FIELDS} custom fields ({} given)",
            out.len()
        )));
    }
    Ok(out)
}

/// Checks every field of an edit; the first bad one is named in the error and
/// nothing is changed. An edit that changes nothing is refused.
pub fn validate_patch(p: CustomerPatch) -> Result<CustomerEdit, ApiError> {
    let edit = CustomerEdit {
        name: p
            .name
            .map(|n| validate_line("name", &n, MAX_NAME_CHARS))
            .transpose()?,
        email: clearable(p.email, validate_email)?,
        phone: clearable(p.phone, validate_phone)?,
        location: clearable(p.location, |s| {
            validate_line("location", s, MAX_LOCATION_CHARS)
        })?,
        tags: p.tags.as_deref().map(validate_customer_tags).transpose()?,
        custom_fields: p
            .custom_fields
            .as_ref()
            .map(validate_custom_fields)
            .transpose()?,
    };
    if edit.is_empty() {
        return Err(ApiError::invalid(
            "nothing to change: give name, email, phone, location, tags or custom_fields",
        ));
    }
    Ok(edit)
}

/// A note's body: 1 to 4000 characters, lines allowed.
pub fn validate_note_body(body: &str) -> Result<String, ApiError> {
    let b = validate_text("body", body, MAX_CUSTOMER_NOTE_CHARS)?;
    if b.is_empty() {
        return Err(ApiError::invalid("body is empty"));
    }
    Ok(b)
}

/// An agent may edit (and keep notes on) a customer they may see; supervisors and
/// admins every customer.
pub fn may_edit(actor: &Actor, sees_customer: bool) -> bool {
    actor.sees_every_customer() || sees_customer
}

/// A note is deleted by its author, a supervisor or an admin.
pub fn may_delete_note(actor: &Actor, author_id: &str) -> bool {
    actor.oversees_all() || actor.id == author_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::Role;

    fn actor(role: Role, id: &str) -> Actor {
        Actor {
            id: id.into(),
            name: id.into(),
            role,
            department_ids: vec![],
        }
    }

    fn patch(v: serde_json::Value) -> Result<CustomerEdit, ApiError> {
        validate_patch(serde_json::from_value(v).expect("shape"))
    }

    #[test]
    fn a_full_edit_is_trimmed_and_normalised() {
        let e = patch(serde_json::json!({
            "name": " Vera Lind ", "email": "Vera@Example.COM", "phone": "+46 (0)70-123 45 67",
            "location": "Malmö", "tags": ["VIP", "vip", "b2b"],
            "custom_fields": {"plan": "Pro", "empty": " "}
        }))
        .unwrap();
        assert_eq!(e.name.as_deref(), Some("Vera Lind"));
        assert_eq!(e.email, Some(Some("vera@example.com".into())));
        assert_eq!(e.phone, Some(Some("+46 (0)70-123 45 67".into())));
        assert_eq!(e.location, Some(Some("Malmö".into())));
        assert_eq!(e.tags, Some(vec!["vip".into(), "b2b".into()]));
        assert_eq!(
            e.custom_fields,
            Some([("plan".to_owned(), "Pro".to_owned())].into())
        );
    }

    #[test]
    fn empty_strings_clear_and_an_empty_edit_is_refused() {
        let e = patch(serde_json::json!({"email": "", "phone": " "})).unwrap();
        assert_eq!(e.email, Some(None));
        assert_eq!(e.phone, Some(None));
        assert_eq!(e.location, None);
        assert!(patch(serde_json::json!({})).is_err());
    }

    #[test]
    fn every_bad_field_is_named() {
        let long = "x".repeat(101);
        for (v, word) in [
            (serde_json::json!({"name": ""}), "name"),
            (serde_json::json!({"name": long}), "name"),
            (serde_json::json!({"email": "not-an-address"}), "email"),
            (serde_json::json!({"phone": "call me"}), "phone"),
            (serde_json::json!({"phone": "+1"}), "phone"),
            (serde_json::json!({"location": "a\u{7}b"}), "location"),
            (serde_json::json!({"tags": ["no spaces"]}), "tag"),
            (
                serde_json::json!({"custom_fields": {"": "v"}}),
                "custom field",
            ),
            (
                serde_json::json!({"custom_fields": {"k": "v".repeat(501)}}),
                "custom field",
            ),
        ] {
            let e = patch(v.clone()).expect_err(&v.to_string());
            assert!(e.message.contains(word), "{v}: {}", e.message);
        }
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(patch(serde_json::json!({ "tags": many })).is_err());
        let fields: BTreeMap<String, String> =
            (0..31).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(patch(serde_json::json!({ "custom_fields": fields })).is_err());
    }

    #[test]
    fn note_bodies_and_who_deletes_notes() {
        assert!(validate_note_body("  ").is_err());
        assert!(validate_note_body(&"x".repeat(4001)).is_err());
        assert_eq!(validate_note_body(" a\nb ").unwrap(), "a\nb");
        assert!(may_delete_note(&actor(Role::Agent, "a1"), "a1"));
        assert!(!may_delete_note(&actor(Role::Agent, "a2"), "a1"));
        assert!(may_delete_note(&actor(Role::Supervisor, "s"), "a1"));
        assert!(may_delete_note(&actor(Role::Admin, "ad"), "a1"));
        assert!(may_edit(&actor(Role::Agent, "a1"), true));
        assert!(!may_edit(&actor(Role::Agent, "a1"), false));
        assert!(may_edit(&actor(Role::Supervisor, "s"), false));
    }
}
