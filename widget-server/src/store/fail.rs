//! How a store operation fails, shared by every backend: a write is refused (nothing of
//! it is kept) or storage fails (the whole batch is rolled back); and the answers the
//! caller gets for each.

use shared::{ApiError, ErrorCode};

/// A storage error from any driver.
pub type DbError = Box<dyn std::error::Error + Send + Sync>;

/// A failure inside a write: a refusal (its savepoint is rolled back, the rest of the
/// batch goes on) or a storage error (the whole batch is rolled back).
#[derive(Debug)]
pub enum Fail {
    Api(ApiError),
    Db(DbError),
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

/// What a write returns inside its transaction.
pub type WResult<T> = Result<T, Fail>;

/// A state the store should never be in (a row that vanished inside a transaction).
pub fn inconsistent(what: &str) -> Fail {
    Fail::Db(format!("{what} in store").into())
}

/// The store is closed or its writer is gone.
pub fn unavailable() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "the store is not accepting writes (shutting down or failing); retry",
    )
}

/// The batch a write was in failed and was rolled back.
pub fn storage_failed() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "storage error; nothing was saved, retry",
    )
}

/// A read failed; logged here, answered without the driver's details.
pub fn read_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "store read failed");
    ApiError::new(ErrorCode::Unavailable, "storage error; retry")
}
