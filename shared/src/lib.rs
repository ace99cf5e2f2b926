//! The Agent Panel wire contract: every object, event, error code and limit that the
//! widget server, the agent TUI and the customer widget agree on, plus the sanitiser
//! for untrusted text. No I/O lives here.

pub mod canned;
pub mod error;
pub mod events;
pub mod kb;
pub mod limits;
pub mod model;
pub mod report;
pub mod text;
pub mod ticket;

pub use error::{ApiError, ErrorBody, ErrorCode};
