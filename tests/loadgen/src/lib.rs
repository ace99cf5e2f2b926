//! Load generator and benchmark harness for the Agent Panel widget server.
//!
//! Module map: `sio` (Socket.IO/Engine.IO packets), `conn` (one socket and its task),
//! `track` (each message's fate: acked, delivered, lost), `stats` (histograms and
//! counters), `pace` (open-loop pacing), `setup` (target check, fd limit, agents,
//! login), `run` (one scenario end to end), `report` (the table), `procstat` (server
//! RSS/CPU from /proc), `bench` (fresh server, standard scenarios, docs/performance.md),
//! `cli` (the command line).

pub mod bench;
pub mod cli;
pub mod conn;
pub mod pace;
pub mod procstat;
pub mod report;
pub mod run;
pub mod setup;
pub mod sio;
pub mod stats;
pub mod track;
