//! Limits of the wire contract and the validation of user-supplied text against them.

use crate::error::ApiError;

/// A message body: 1..=4000 characters after trimming.
pub const MAX_BODY_CHARS: usize = 4000;
/// One Socket.IO packet (and one WebSocket frame/message).
pub const MAX_PACKET_BYTES: usize = 64 * 1024;
/// One attachment upload.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// A REST JSON body.
pub const MAX_REST_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;
/// The last page a list may ask for: with `MAX_PER_PAGE` that is ten million items in,
/// far past any real list, and every offset stays well inside `u32`.
pub const MAX_PAGE: u32 = 100_000;
/// `GET /chats/{id}/messages` page size.
pub const DEFAULT_MESSAGE_LIMIT: u32 = 50;
pub const MAX_MESSAGE_LIMIT: u32 = 500;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_TAG_CHARS: usize = 40;
pub const MAX_TAGS_PER_CHAT: usize = 20;
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
pub const MAX_ID_CHARS: usize = 64;
pub const MAX_RESOLUTION_CHARS: usize = 1000;
pub const MAX_COMMENT_CHARS: usize = 1000;
pub const MAX_SEARCH_CHARS: usize = 200;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// `sync` replays at most this many events; more than that answers `resync`.
pub const MAX_SYNC_EVENTS: usize = 1000;

/// The first control character in `s` that has no place in chat text: C0 controls
/// other than tab, newline and carriage return, DEL, and C1 controls (ESC included).
pub fn find_control_char(s: &str, allow_newlines: bool) -> Option<(usize, char)> {
    s.chars().enumerate().find(|&(_, c)| {
        let allowed_ws = c == '\t' || (allow_newlines && (c == '\n' || c == '\r'));
        (c.is_control() && !allowed_ws) || c == '\u{7f}'
    })
}

fn control_error(field: &str, (pos, c): (usize, char)) -> ApiError {
    ApiError::invalid(format!(
        "{field} contains a control character (U+{:04X} at position {pos}); control and escape characters are not allowed",
        c as u32
    ))
}

/// Files in one message.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 5;

/// Validates the files named in a message: at most five well-formed ids.
pub fn validate_attachment_ids(ids: &[String]) -> Result<(), ApiError> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(ApiError::invalid(format!(
            "at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments per message"
        )));
    }
    for id in ids {
        validate_client_id("attachment id", id)?;
    }
    Ok(())
}

/// A body may be empty when the message carries files.
pub fn validate_body_with_files(body: &str, has_files: bool) -> Result<String, ApiError> {
    if has_files && body.trim().is_empty() {
        return Ok(String::new());
    }
    validate_body(body)
}

/// Validates a message body and returns it trimmed.
pub fn validate_body(body: &str) -> Result<String, ApiError> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(
            "body is empty: a message needs some text",
        ));
    }
    let n = trimmed.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(ApiError::too_large(format!(
            "body is {n} characters; the limit is {MAX_BODY_CHARS}"
        )));
    }
    if let Some(bad) = find_control_char(trimmed, true) {
        return Err(control_error("body", bad));
    }
    Ok(trimmed.to_owned())
}

/// Validates a one-line text field (a name, a tag, a resolution) and returns it trimmed.
/// `required` rejects an empty value.
pub fn validate_line(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(format!("{field} is empty")));
    }
    let n = trimmed.chars().count();
    if n > max_chars {
        return Err(ApiError::invalid(format!(
            "{field} is {n} characters; the limit is {max_chars}"
        )));
    }
    if let Some(bad) = find_control_char(trimmed, false) {
        return Err(control_error(field, bad));
    }
    Ok(trimmed.to_owned())
}

/// Validates free text that may span lines (a resolution, a rating comment).
pub fn validate_text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if n > max_chars {
        return Err(ApiError::invalid(format!(
            "{field} is {n} characters; the limit is {max_chars}"
        )));
    }
    if let Some(bad) = find_control_char(trimmed, true) {
        return Err(control_error(field, bad));
    }
    Ok(trimmed.to_owned())
}

/// Validates an e-mail address: one `@`, something on both sides, no spaces.
pub fn validate_email(value: &str) -> Result<String, ApiError> {
    let e = validate_line("email", value, MAX_EMAIL_CHARS)?;
    let mut parts = e.split('@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let ok = parts.next().is_none()
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(char::is_whitespace);
    if !ok {
        return Err(ApiError::invalid(format!(
            "email {e:?} is not an e-mail address"
        )));
    }
    Ok(e.to_lowercase())
}

/// Validates a tag: lowercase letters, digits, `-`, `_`, `:`; returned lowercased.
pub fn validate_tag(value: &str) -> Result<String, ApiError> {
    let t = validate_line("tag", value, MAX_TAG_CHARS)?.to_lowercase();
    if let Some(c) = t
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')))
    {
        return Err(ApiError::invalid(format!(
            "tag {t:?} has {c:?}: tags are letters, digits, '-', '_', ':' and '.'"
        )));
    }
    Ok(t)
}

/// Validates a record id named in a request (a chat, agent, customer, file…): 1 to
/// [`MAX_ID_CHARS`] bytes. Whether the record exists is the store's answer.
pub fn validate_id(field: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > MAX_ID_CHARS {
        return Err(ApiError::invalid(format!("{field} is not a valid id")));
    }
    Ok(())
}

/// Validates a client-chosen id (`client_msg_id`): 1..=64 of `[A-Za-z0-9_-]`.
pub fn validate_client_id(field: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() || value.len() > MAX_CLIENT_MSG_ID_CHARS {
        return Err(ApiError::invalid(format!(
            "{field} must be 1 to {MAX_CLIENT_MSG_ID_CHARS} characters (a UUID is best)"
        )));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(ApiError::invalid(format!(
            "{field} has {c:?}: only letters, digits, '-' and '_' are allowed"
        )));
    }
    Ok(value.to_owned())
}

/// Page and per-page values, clamped into range with a clear error when nonsensical.
pub fn validate_page(page: Option<u32>, per_page: Option<u32>) -> Result<(u32, u32), ApiError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(ApiError::invalid("page starts at 1"));
    }
    if page > MAX_PAGE {
        return Err(ApiError::invalid(format!("page must be 1 to {MAX_PAGE}")));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::invalid(format!(
            "per_page must be 1 to {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn body_is_trimmed_and_bounded() {
        assert_eq!(validate_body("  hi \n").unwrap(), "hi");
        assert_eq!(
            validate_body("   \n\t ").unwrap_err().code,
            ErrorCode::Invalid
        );
        assert_eq!(validate_body("").unwrap_err().code, ErrorCode::Invalid);
        let long = "x".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(validate_body(&long).unwrap_err().code, ErrorCode::TooLarge);
        assert!(validate_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
    }

    #[test]
    fn control_and_escape_characters_are_refused() {
        let e = validate_body("hi \u{1b}[2J there").unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert!(e.message.contains("U+001B"), "{}", e.message);
        assert!(validate_body("a\u{0}b").is_err());
        assert!(validate_body("a\u{9b}b").is_err());
        assert!(validate_body("a\u{7f}b").is_err());
        assert!(validate_body("line one\nline two\ttab").is_ok());
        assert!(validate_line("name", "a\nb", 10).is_err());
    }

    #[test]
    fn emails_and_tags() {
        assert_eq!(
            validate_email("Ada@Example.com").unwrap(),
            "ada@example.com"
        );
        assert!(validate_email("nope").is_err());
        assert!(validate_email("a@b").is_err());
        assert!(validate_email("a b@c.d").is_err());
        assert_eq!(validate_tag("VIP").unwrap(), "vip");
        assert!(validate_tag("two words").is_err());
        assert!(validate_tag("<script>").is_err());
    }

    #[test]
    fn client_ids_and_pages() {
        assert!(validate_client_id("client_msg_id", "0b9f8c2e-2a59-4b87").is_ok());
        assert!(validate_client_id("client_msg_id", "").is_err());
        assert!(validate_client_id("client_msg_id", "a b").is_err());
        assert!(validate_client_id("client_msg_id", &"a".repeat(65)).is_err());
        assert_eq!(validate_page(None, None).unwrap(), (1, DEFAULT_PER_PAGE));
        assert!(validate_page(Some(0), None).is_err());
        assert!(validate_page(None, Some(101)).is_err());
        assert_eq!(
            validate_page(Some(MAX_PAGE), Some(MAX_PER_PAGE)).unwrap(),
            (MAX_PAGE, MAX_PER_PAGE)
        );
        assert!(validate_page(Some(MAX_PAGE + 1), None).is_err());
        assert!(validate_page(Some(u32::MAX), Some(MAX_PER_PAGE)).is_err());
        // The offset of the last allowed page fits with room to spare.
        assert!((MAX_PAGE - 1).checked_mul(MAX_PER_PAGE).is_some());
    }
}
