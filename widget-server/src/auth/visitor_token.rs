//! Visitor tokens: what the widget keeps to stay the same visitor across page loads.
//!
//! A token is `v1.<customer id>.<HMAC-SHA256 of the id, hex>`, signed with a key
//! derived from the server's secret (`jwt.secret`), so any node of the deployment
//! can check it without a database row: a visitor who never starts a chat leaves
//! nothing behind. A token that does not verify is no identity at all (the visitor
//! is treated as new); one that verifies names a customer id that is only written to
//! the store when the visitor starts a chat.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "v1.";

/// The key visitor tokens are signed with.
#[derive(Clone)]
pub struct VisitorKey {
    key: [u8; 32],
}

impl VisitorKey {
    /// Derives the visitor key from the server's secret (never the secret itself, so
    /// a visitor token's signature says nothing about an agent token's).
    pub fn from_secret(secret: &[u8]) -> VisitorKey {
        let mut h = Sha256::new();
        h.update(b"agent-panel visitor token key\0");
        h.update(secret);
        VisitorKey {
            key: h.finalize().into(),
        }
    }

    fn mac(&self, customer_id: &str) -> HmacSha256 {
        // A 32-byte key is always accepted by HMAC.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(customer_id.as_bytes());
        mac
    }

    /// A token for a new visitor identity (`customer_id`, a fresh id).
    pub fn issue(&self, customer_id: &str) -> String {
        let tag = self.mac(customer_id).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{customer_id}.{hex}")
    }

    /// The customer id a token was issued for, if this server signed it.
    pub fn verify(&self, token: &str) -> Option<String> {
        let rest = token.strip_prefix(PREFIX)?;
        let (id, hex) = rest.rsplit_once('.')?;
        if id.is_empty() || id.len() > 64 || hex.len() != 64 {
            return None;
        }
        let mut tag = [0u8; 32];
        for (i, byte) in tag.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        self.mac(id).verify_slice(&tag).ok()?;
        Some(id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_key_that_signed_them() {
        let key = VisitorKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let id = "019300aa-0000-7000-8000-000000000001";
        let token = key.issue(id);
        assert!(token.len() <= 128, "{token}");
        assert_eq!(key.verify(&token).as_deref(), Some(id));
        let other = VisitorKey::from_secret(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&token), None);
    }

    #[test]
    fn forged_or_altered_tokens_are_no_identity() {
        let key = VisitorKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let token = key.issue("c1");
        let forged = token.replace("c1", "c2");
        assert_eq!(key.verify(&forged), None);
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(key.verify(&flipped), None);
        for bad in [
            "",
            "v1.",
            "v1.c1",
            "v1.c1.zz",
            "v2.c1.00",
            "ééé",
            &token[..token.len() - 1],
        ] {
            assert_eq!(key.verify(bad), None, "{bad:?}");
        }
        // Random tokens of older widgets are not signed tokens.
        assert_eq!(key.verify("5f1d2c3b4a5f1d2c3b4a5f1d2c3b4a5f"), None);
    }
}
