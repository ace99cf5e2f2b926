//! What the network reports to the Tickets view: pages of the list, tickets and
//! timelines, sent replies and notes, the results of actions, the customer's
//! record, and the `ticket:created/updated/entry` pushes (also replayed by `sync`).

use shared::events::ServerEvent;
use shared::ticket::{Ticket, TicketEntry};

use super::{detail, list};
use crate::effect::{Effect, TicketCmd};
use crate::msg::{TicketOp, TicketReply};
use crate::state::views::tickets::Timeline;
use crate::state::{FlashLevel, State, ViewId};
use crate::update::flash;

pub(crate) fn on_reply(state: &mut State, r: TicketReply, fx: &mut Vec<Effect>) {
    match r {
        TicketReply::Listed { generation, page } => {
            if generation != state.tickets.generation {
                return;
            }
            let t = &mut state.tickets;
            t.loading = false;
            t.total = page.total;
            t.list = page.items.iter().map(|x| x.id.clone()).collect();
            for ticket in page.items {
                t.tickets.insert(ticket.id.clone(), ticket);
            }
            list::keep_selection(state);
        }
        TicketReply::ListFailed { generation, error } => {
            if generation == state.tickets.generation {
                state.tickets.loading = false;
                flash(
                    state,
                    FlashLevel::Error,
                    format!("Loading tickets: {error}"),
                );
            }
        }
        TicketReply::Loaded(ticket) => loaded(state, ticket, fx),
        TicketReply::EntriesLoaded { ticket_id, entries } => {
            let tl = state.tickets.timelines.entry(ticket_id).or_default();
            tl.entries = entries.into_iter().map(|e| (e.seq, e)).collect();
            tl.loaded = true;
            detail::clamp_cursor(state);
        }
        TicketReply::Posted {
            client_msg_id,
            entry,
        } => {
            state
                .tickets
                .pending
                .retain(|p| p.client_msg_id != client_msg_id);
            add_entry(state, entry);
        }
        TicketReply::PostFailed {
            client_msg_id,
            error,
        } => {
            if let Some(p) = state
                .tickets
                .pending
                .iter_mut()
                .find(|p| p.client_msg_id == client_msg_id)
            {
                p.failed = Some(error.clone());
            }
            flash(state, FlashLevel::Error, format!("Not sent: {error}"));
        }
        TicketReply::Done { op, ticket } => done(state, op, ticket, fx),
        TicketReply::Failed { op, error } => {
            flash(
                state,
                FlashLevel::Error,
                format!("Could not {}: {error}", op.verb()),
            );
        }
        TicketReply::Exported { path } => {
            flash(state, FlashLevel::Info, format!("Exported to {path}"));
        }
        TicketReply::CustomerLoaded { customer, card } => {
            state.tickets.customers.insert(customer.id.clone(), card);
            customer_changed(state, customer);
        }
        TicketReply::CustomerSaved(customer) => {
            flash(state, FlashLevel::Info, format!("Saved {}", customer.name));
            customer_changed(state, customer);
        }
        TicketReply::CustomerNotesChanged { customer_id } => {
            flash(state, FlashLevel::Info, "Customer notes saved");
            fx.push(TicketCmd::LoadCustomer(customer_id).into());
        }
    }
}

/// A customer's new fields, everywhere the console shows them.
pub(crate) fn customer_changed(state: &mut State, c: shared::model::Customer) {
    for t in state.tickets.tickets.values_mut() {
        if t.customer.id == c.id {
            t.customer = c.clone();
        }
    }
    if let Some(p) = state.directory.customers.get_mut(&c.id) {
        p.customer = c;
    }
}

fn loaded(state: &mut State, ticket: Ticket, fx: &mut Vec<Effect>) {
    let id = ticket.id.clone();
    let merged = ticket.merged_into.clone();
    let label = ticket.label();
    list::upsert(state, ticket, false);
    // A merged ticket lives on in its target: the detail follows it there.
    if let Some(target) = merged
        && state.tickets.open.as_ref() == Some(&id)
    {
        flash(
            state,
            FlashLevel::Info,
            format!("{label} was merged into another ticket: showing that one"),
        );
        detail::open_ticket(state, &target, fx);
    }
}

fn done(state: &mut State, op: TicketOp, ticket: Ticket, fx: &mut Vec<Effect>) {
    let id = ticket.id.clone();
    let label = ticket.label();
    let status = ticket.status;
    let created = matches!(
        op,
        TicketOp::Create | TicketOp::Clone | TicketOp::Split | TicketOp::FromChat
    );
    list::upsert(state, ticket, created);
    let text = match op {
        TicketOp::Create => format!("Created {label}"),
        TicketOp::Clone => format!("Cloned as {label}"),
        TicketOp::Split => format!("Split into {label}"),
        TicketOp::FromChat => format!("The chat is now ticket {label}"),
        TicketOp::Merge => format!("Merged into {label}"),
        TicketOp::Close => format!("Closed {label}"),
        TicketOp::Reopen => format!("Reopened {label}"),
        TicketOp::Escalate => format!("Escalated {label}"),
        TicketOp::Spam => format!("{label}: spam mark saved"),
        TicketOp::Link | TicketOp::Unlink => format!("{label}: links saved"),
        TicketOp::Update => format!("{label} saved · {status}"),
    };
    flash(state, FlashLevel::Info, text);
    if op == TicketOp::Split {
        state.tickets.marked.clear();
    }
    if created || op == TicketOp::Merge {
        state.view = ViewId::Tickets;
        detail::open_ticket(state, &id, fx);
    }
    // The event lines of the change come as pushes; the timeline is asked for again
    // in case the socket is down.
    if let Some(open) = state.tickets.open.clone() {
        fx.push(TicketCmd::LoadEntries(open).into());
    }
}

/// An entry, from an answer or a push: into its timeline (once, by seq).
fn add_entry(state: &mut State, entry: TicketEntry) {
    let reading =
        state.view == ViewId::Tickets && state.tickets.open.as_ref() == Some(&entry.ticket_id);
    list::touched_by(state, &entry, reading);
    let at_end = state.tickets.cursor.saturating_add(1) >= state.tickets.open_entries().len();
    let tl: &mut Timeline = state
        .tickets
        .timelines
        .entry(entry.ticket_id.clone())
        .or_default();
    tl.entries.insert(entry.seq, entry);
    if at_end && reading {
        state.tickets.cursor = usize::MAX;
    }
    detail::clamp_cursor(state);
}

pub(crate) fn on_push(state: &mut State, ev: ServerEvent, _fx: &mut Vec<Effect>) {
    match ev {
        ServerEvent::TicketCreated(e) => {
            let id = e.ticket.id.clone();
            list::upsert(state, e.ticket, true);
            if state.tickets.open.as_ref() != Some(&id) {
                state.tickets.unread.insert(id);
            }
        }
        ServerEvent::TicketUpdated(e) => list::upsert(state, e.ticket, false),
        ServerEvent::TicketEntry(e) => {
            let cmid = e.entry.client_msg_id.clone();
            state.tickets.pending.retain(|p| p.client_msg_id != cmid);
            add_entry(state, e.entry);
        }
        _ => {}
    }
}
