//! Visitor identities: who a `/customer` connect is, and when their row is written.
//!
//! A visitor is known by a signed token (`auth::VisitorKey`) that carries their
//! customer id. Nothing is stored until they start a chat: a connect, a reconnect or
//! an upload before that leaves no customer row behind.

/// The display name of a visitor who gave none: `Visitor` and the last four
/// characters of their id.
pub fn default_name(customer_id: &str) -> String {
    let tail: String = {
        let chars: Vec<char> = customer_id.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("Visitor {tail}")
}

/// Who a `/customer` connect is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A visitor with a stored row (they have chatted): their customer id.
    Stored(String),
    /// A visitor whose token this server signed, with no row yet: their customer id.
    Signed(String),
    /// No token, or one that is neither stored nor signed here: a new visitor.
    New,
}

/// Decides the identity from what the token resolved to: a stored row (by its hash)
/// wins, then a valid signature; anything else is a new visitor (forged and unknown
/// tokens are not errors, they are no identity).
pub fn identify(stored: Option<String>, signed: Option<String>) -> Identity {
    match (stored, signed) {
        (Some(id), _) => Identity::Stored(id),
        (None, Some(id)) => Identity::Signed(id),
        (None, None) => Identity::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_without_a_name_is_named_by_their_id() {
        assert_eq!(default_name("0193-abcd-1f2e"), "Visitor 1f2e");
        assert_eq!(default_name("ab"), "Visitor ab");
    }

    #[test]
    fn stored_rows_win_then_signatures_else_a_new_visitor() {
        assert_eq!(
            identify(Some("c1".into()), Some("c2".into())),
            Identity::Stored("c1".into())
        );
        assert_eq!(
            identify(None, Some("c2".into())),
            Identity::Signed("c2".into())
        );
        assert_eq!(identify(None, None), Identity::New);
    }
}
