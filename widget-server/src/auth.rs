//! Who is asking: argon2id passwords, signed JWTs with revocation, and (in its
//! submodules) the sign-in throttle, the password-check pool and the client address.

mod checks;
mod client_ip;
mod throttle;
mod visitor_token;

pub use checks::{DEFAULT_CHECK_WAIT, PasswordChecks, default_max_checks};
pub use client_ip::{client_ip, parse_trusted_proxy};
pub use throttle::{Attempt, LoginThrottle};
pub use visitor_token::VisitorKey;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shared::ApiError;
use shared::limits::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use shared::model::Agent;

use crate::store::Store;

pub const SESSION_TTL: Duration = Duration::from_secs(24 * 3600);
pub const REMEMBER_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    /// Issue time in milliseconds, so a password reset can refuse every earlier token
    /// without refusing one issued the same second after it.
    #[serde(default)]
    pub iat_ms: u64,
}

impl Claims {
    /// When the token was issued, in Unix milliseconds (older tokens: whole seconds).
    pub fn issued_ms(&self) -> i64 {
        let ms = if self.iat_ms > 0 {
            self.iat_ms
        } else {
            self.iat.saturating_mul(1000)
        };
        i64::try_from(ms).unwrap_or(i64::MAX)
    }
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    visitor: VisitorKey,
}

impl Tokens {
    /// Loads the signing secret from `<data_dir>/jwt.secret`, creating it (0600) on
    /// first start. A secret that other users can read is refused rather than fixed:
    /// whoever read it can forge any agent's token, so the operator must decide
    /// whether to keep it.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Tokens> {
        let path = data_dir.join("jwt.secret");
        refuse_if_shared(&path)?;
        let secret = match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => s.trim().to_owned(),
            Ok(_) => anyhow::bail!("{} is too short to be a signing secret", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let s = format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                );
                write_private(&path, s.as_bytes())?;
                s
            }
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        Ok(Tokens::from_secret(secret.as_bytes()))
    }

    pub fn from_secret(secret: &[u8]) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            visitor: VisitorKey::from_secret(secret),
        }
    }

    /// The key visitor tokens are signed with (derived from the same secret).
    pub fn visitor_key(&self) -> &VisitorKey {
        &self.visitor
    }

    pub fn issue(&self, agent_id: &str, ttl: Duration) -> Result<(String, Claims), ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: agent_id.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + ttl.as_secs(),
            iat_ms: u64::try_from(crate::store::now_ms()).unwrap_or(now * 1000),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::internal()
        })?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => {
                        ApiError::unauthorized("your session has expired; sign in again")
                    }
                    _ => ApiError::unauthorized("invalid token"),
                }
            })
    }
}

/// Fails when `path` exists and its group or other users may read or write it.
fn refuse_if_shared(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let p = path.display();
                anyhow::bail!(
                    "{p} is not private (mode {mode:04o}): other users may have read it, \
                     and anyone who did can sign in as any agent. If you are sure it has not \
                     leaked, run `chmod 600 {p}`; otherwise delete it and a new one is made \
                     at the next start (every agent is signed out)"
                );
            }
        }
    }
    Ok(())
}

/// Writes a file readable only by its owner.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash to verify against when the email is unknown, so that an unknown user and a
/// wrong password take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password-at-all").unwrap_or_default())
}

/// Checks a new password: long enough, not all one character, no control characters.
pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "password is too long: at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(ApiError::invalid("password contains control characters"));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Err(ApiError::invalid(
            "password is too weak: use at least 4 different characters",
        ));
    }
    Ok(())
}

/// Resolves a bearer token to its agent, refusing revoked or expired tokens.
pub async fn authenticate(
    tokens: &Tokens,
    store: &dyn Store,
    revoked: &RevokedCache,
    token: &str,
) -> Result<(Agent, Claims), ApiError> {
    let claims = tokens.verify(token)?;
    if revoked.contains(&claims.jti) || store.is_revoked(&claims.jti).await? {
        return Err(ApiError::unauthorized(
            "this session was signed out; sign in again",
        ));
    }
    let agent = store
        .agent(&claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid token"))?;
    if claims.issued_ms() < store.sessions_valid_after(&agent.id).await? {
        return Err(ApiError::unauthorized(
            "your password was changed; sign in again",
        ));
    }
    Ok((agent, claims))
}

/// Revoked token ids seen by this node, a fast path in front of the store (the source
/// of truth, which every check also asks). An entry lives as long as its token could:
/// past the token's expiry the signature check refuses it anyway. At most
/// [`MAX_REVOKED_CACHED`] are kept; beyond that the ones expiring soonest give way.
#[derive(Default)]
pub struct RevokedCache(Mutex<HashMap<String, u64>>);

pub const MAX_REVOKED_CACHED: usize = 10_000;

impl RevokedCache {
    /// Remembers `jti` until `expires_at` (the token's `exp`, Unix seconds).
    pub fn insert(&self, jti: &str, expires_at: u64) {
        let now = jsonwebtoken::get_current_timestamp();
        if expires_at <= now {
            return;
        }
        let Ok(mut map) = self.0.lock() else {
            return;
        };
        if map.len() >= MAX_REVOKED_CACHED {
            map.retain(|_, exp| *exp > now);
        }
        if map.len() >= MAX_REVOKED_CACHED {
            // Still full of live tokens: drop the tenth expiring soonest in one go, so
            // a run of sign-outs does not rescan the map each time.
            let mut exps: Vec<u64> = map.values().copied().collect();
            let (_, cut, _) = exps.select_nth_unstable(MAX_REVOKED_CACHED / 10);
            let cut = *cut;
            map.retain(|_, exp| *exp > cut);
        }
        map.insert(jti.to_owned(), expires_at);
    }

    pub fn contains(&self, jti: &str) -> bool {
        let now = jsonwebtoken::get_current_timestamp();
        self.0
            .lock()
            .map(|m| m.get(jti).is_some_and(|exp| *exp > now))
            .unwrap_or(false)
    }

    /// Entries held (expired ones included until the next prune).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ErrorCode;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = Tokens::from_secret(b"0123456789abcdef0123456789abcdef");
        let (tok, claims) = t.issue("agent-1", SESSION_TTL).unwrap();
        assert_eq!(t.verify(&tok).unwrap().sub, "agent-1");
        assert_eq!(t.verify(&tok).unwrap().jti, claims.jti);
        let other = Tokens::from_secret(b"another-secret-another-secret-xx");
        assert_eq!(
            other.verify(&tok).unwrap_err().code,
            ErrorCode::Unauthorized
        );
        assert!(t.verify("garbage").is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("aaaaaaaaaaaa").is_err());
        assert!(check_password_strength("").is_err());
        assert!(check_password_strength("a good long passphrase").is_ok());
    }

    #[test]
    fn revoked_cache_stays_bounded_and_forgets_expired_tokens() {
        let cache = RevokedCache::default();
        let now = jsonwebtoken::get_current_timestamp();
        // Already expired: nothing to remember.
        cache.insert("old", now - 1);
        assert!(cache.is_empty());
        cache.insert("first", now + 60);
        for i in 0..MAX_REVOKED_CACHED * 2 {
            cache.insert(&format!("jti-{i}"), now + 3600 + i as u64);
        }
        assert!(cache.len() <= MAX_REVOKED_CACHED, "{} entries", cache.len());
        // The soonest to expire gave way; the latest are kept.
        assert!(!cache.contains("first"));
        assert!(!cache.contains("jti-0"));
        assert!(cache.contains(&format!("jti-{}", MAX_REVOKED_CACHED * 2 - 1)));
    }
}
