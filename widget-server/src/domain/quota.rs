//! Quotas for what anonymous callers may store: a visitor token is free, so the
//! uploads a visitor has not sent yet are limited in number and bytes per window.

use shared::{ApiError, ErrorCode};

/// How much a visitor may upload without sending it, within `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    pub files: u64,
    pub bytes: u64,
    pub window_ms: i64,
}

/// An upload of `size` bytes, by an owner whose unsent uploads in the window are
/// `used_files` files of `used_bytes` bytes: allowed, or `rate_limited`.
pub fn check_upload(
    quota: &UploadQuota,
    used_files: u64,
    used_bytes: u64,
    size: u64,
) -> Result<(), ApiError> {
    if used_files >= quota.files || used_bytes.saturating_add(size) > quota.bytes {
        let mib = quota.bytes as f64 / (1024.0 * 1024.0);
        let minutes = quota.window_ms / 60_000;
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "upload limit reached: at most {} files and {mib:.0} MiB not yet sent in a \
                 message per {minutes} minutes; send the files you uploaded, or wait",
                quota.files
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: UploadQuota = UploadQuota {
        files: 3,
        bytes: 1000,
        window_ms: 3_600_000,
    };

    #[test]
    fn uploads_within_the_quota_pass() {
        assert!(check_upload(&Q, 0, 0, 1000).is_ok());
        assert!(check_upload(&Q, 2, 500, 500).is_ok());
    }

    #[test]
    fn the_file_count_and_the_bytes_are_both_limited() {
        let e = check_upload(&Q, 3, 0, 1).unwrap_err();
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("at most 3 files"), "{}", e.message);
        assert!(check_upload(&Q, 1, 600, 401).is_err());
        assert!(check_upload(&Q, 0, u64::MAX, 1).is_err(), "no overflow");
    }
}
