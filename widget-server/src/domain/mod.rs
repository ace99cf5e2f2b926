//! The product rules, pure and synchronous: who may do what (`actor`), what a chat
//! operation decides from a snapshot of the chat (`chat`), who is mentioned in a note
//! (`mention`), what report figures mean (`metrics`) and how they add up (`report`), who receives an event and what a visitor sees of it (`audience`), and
//! where chats are routed (`routing`). No I/O, no async: store backends and handlers
//! load the facts, call these functions and apply what they decide.

pub mod actor;
pub mod audience;
pub mod chat;
pub mod customer;
pub mod kb;
pub mod mention;
pub mod metrics;
pub mod quota;
pub mod report;
pub mod routing;
pub mod ticket;
pub mod visitor;

pub use actor::{Actor, ChatScope};
pub use audience::{Audience, Published};
pub use chat::ChatCore;
