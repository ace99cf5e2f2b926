//! Who is asking: argon2id passwords, signed JWTs with revocation, and the throttle
//! that slows down and locks out repeated failed sign-ins.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shared::limits::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use shared::model::Agent;
use shared::{ApiError, ErrorCode};

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

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    /// Loads the signing secret from `<data_dir>/jwt.secret`, creating it (0600) on
    /// first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Tokens> {
        let path = data_dir.join("jwt.secret");
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
        }
    }

    pub fn issue(&self, agent_id: &str, ttl: Duration) -> Result<(String, Claims), ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: agent_id.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + ttl.as_secs(),
            iat_ms: u64::try_from(crate::store::sqlite::now_ms()).unwrap_or(now * 1000),
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
    let issued_ms = if claims.iat_ms > 0 {
        claims.iat_ms
    } else {
        claims.iat * 1000
    };
    if (issued_ms as i64) < store.sessions_valid_after(&agent.id).await? {
        return Err(ApiError::unauthorized(
            "your password was changed; sign in again",
        ));
    }
    Ok((agent, claims))
}

/// Revoked token ids seen by this node (the store is the source of truth).
#[derive(Default)]
pub struct RevokedCache(Mutex<std::collections::HashSet<String>>);

impl RevokedCache {
    pub fn insert(&self, jti: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(jti.to_owned());
        }
    }
    pub fn contains(&self, jti: &str) -> bool {
        self.0.lock().map(|s| s.contains(jti)).unwrap_or(false)
    }
}

/// Failed sign-ins per account and per address. Five failures for one account (or
/// twenty from one address) within fifteen minutes lock it for five minutes.
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Failures>>,
}

struct Failures {
    count: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCKOUT: Duration = Duration::from_secs(5 * 60);
const MAX_PER_ACCOUNT: u32 = 5;
const MAX_PER_ADDRESS: u32 = 20;

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginThrottle {
    fn keys(email: &str, ip: Option<IpAddr>) -> Vec<(String, u32)> {
        let mut k = vec![(format!("account:{email}"), MAX_PER_ACCOUNT)];
        if let Some(ip) = ip {
            k.push((format!("address:{ip}"), MAX_PER_ADDRESS));
        }
        k
    }

    /// Refuses while the account or address is locked.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Ok(entries) = self.entries.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        for (key, _) in Self::keys(email, ip) {
            if let Some(until) = entries.get(&key).and_then(|f| f.locked_until)
                && until > now
            {
                let secs = (until - now).as_secs().max(1);
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!("too many failed sign-ins; try again in {secs} seconds"),
                ));
            }
        }
        Ok(())
    }

    pub fn failed(&self, email: &str, ip: Option<IpAddr>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() > 100_000 {
            entries.retain(|_, f| now.duration_since(f.window_start) < WINDOW);
        }
        for (key, max) in Self::keys(email, ip) {
            let f = entries.entry(key).or_insert(Failures {
                count: 0,
                window_start: now,
                locked_until: None,
            });
            if now.duration_since(f.window_start) > WINDOW {
                f.count = 0;
                f.window_start = now;
            }
            f.count += 1;
            if f.count >= max {
                f.locked_until = Some(now + LOCKOUT);
                f.count = 0;
                f.window_start = now;
            }
        }
    }

    pub fn succeeded(&self, email: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&format!("account:{email}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn throttle_locks_after_repeated_failures() {
        let th = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.failed("a@b.c", None);
            assert!(th.check("a@b.c", None).is_ok());
        }
        th.failed("a@b.c", None);
        assert_eq!(
            th.check("a@b.c", None).unwrap_err().code,
            ErrorCode::RateLimited
        );
        assert!(th.check("other@b.c", None).is_ok());
    }
}
