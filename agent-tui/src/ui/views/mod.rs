//! One module per view: each draws the body of the screen for its view, and says
//! what its view adds to the bars (hints, counts, filters).

pub mod chats;
pub mod dashboard;
pub mod kb;
pub mod notifications;
pub mod tickets;
