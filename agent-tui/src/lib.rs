//! Agent Panel's terminal console. Module map:
//! - `action`: every action a key can trigger (named in the config file);
//! - `keys`: keymaps (global, per view, per mode), defaults and the user's overrides;
//! - `views`: the view registry (Chats, Notifications…) and the `View` trait;
//! - `state`: plain data — the session, each view's own state, forms;
//! - `msg` / `effect`: what happens to the console, and what it asks for;
//! - `update`: the pure state machine between them, `update/views/` per view;
//! - `ui`: `render(&State, &mut Frame)`: bars and overlays, `ui/views/` per view;
//! - `net`: the worker that owns REST and the socket, and sanitises all input;
//! - `config`: config file, session and outbox files;
//! - `app`: the terminal loop; `demo`: the one-command demo (`demo_tickets`: its
//!   helpdesk tickets).

pub mod action;
pub mod app;
pub mod config;
pub mod demo;
mod demo_tickets;
pub mod effect;
pub mod fixtures;
pub mod keys;
pub mod msg;
pub mod net;
pub mod state;
pub mod ui;
pub mod update;
pub mod views;
