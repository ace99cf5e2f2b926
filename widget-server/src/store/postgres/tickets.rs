//! Tickets on PostgreSQL: not stored on this backend yet. Every call answers
//! `unavailable` with a message naming SQLite, so nothing half-written can happen.

use async_trait::async_trait;
use shared::model::{Page, Seq};
use shared::ticket::{EntryKind, Ticket, TicketEntry};
use shared::{ApiError, ErrorCode};

use super::PgStore;
use crate::store::{Actor, EntryView, NewTicket, StoreResult, TicketAction, TicketFilter, TicketStore};

fn not_yet() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "tickets are not stored on PostgreSQL yet; run the server on SQLite to use them",
    )
}

#[async_trait]
impl TicketStore for PgStore {
    async fn tickets(&self, _: &Actor, _: &TicketFilter) -> StoreResult<Page<Ticket>> {
        Err(not_yet())
    }
    async fn ticket(&self, _: &str) -> StoreResult<Option<Ticket>> {
        Err(not_yet())
    }
    async fn ticket_entries(
        &self,
        _: &str,
        _: Seq,
        _: u32,
        _: EntryView,
    ) -> StoreResult<Vec<TicketEntry>> {
        Err(not_yet())
    }
    async fn create_ticket(&self, _: &Actor, _: NewTicket) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn ticket_action(&self, _: &Actor, _: &str, _: TicketAction) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn add_ticket_entry(
        &self,
        _: &Actor,
        _: &str,
        _: EntryKind,
        _: &str,
        _: &str,
        _: &[String],
    ) -> StoreResult<(TicketEntry, bool)> {
        Err(not_yet())
    }
    async fn merge_ticket(&self, _: &Actor, _: &str, _: &str) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn split_ticket(&self, _: &Actor, _: &str, _: &[String], _: &str) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn clone_ticket(&self, _: &Actor, _: &str) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn customer_tickets(&self, _: &str) -> StoreResult<Vec<Ticket>> {
        Err(not_yet())
    }
    async fn tickets_of_customer(&self, _: &str) -> StoreResult<Vec<Ticket>> {
        Err(not_yet())
    }
    async fn customer_ticket_entry(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
    ) -> StoreResult<(TicketEntry, bool)> {
        Err(not_yet())
    }
    async fn customer_create_ticket(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: &str,
    ) -> StoreResult<Ticket> {
        Err(not_yet())
    }
}
