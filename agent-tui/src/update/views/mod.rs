//! One module per view: each implements `crate::views::View` for its view (keys,
//! commands, actions, what it does with the network and the session).

pub mod chats;
pub mod dashboard;
pub mod kb;
pub mod notifications;
pub mod tickets;
