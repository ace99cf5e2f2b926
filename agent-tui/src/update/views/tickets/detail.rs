//! The open ticket: opening it (timeline, customer record, read mark), the cursor
//! over its entries and the split marks, and the composer (reply or internal note,
//! drafts kept per ticket, sending with a `client_msg_id`).

use shared::ticket::{EntryKind, TicketId};

use crate::effect::{Effect, TicketCmd};
use crate::state::views::tickets::{PendingEntry, TicketPane};
use crate::state::{ComposeKind, FlashLevel, Mode, State, new_textarea};
use crate::update::{PAGE, flash};

/// Opens a ticket in the detail pane; keeps the draft of the one being left.
pub(crate) fn open_ticket(state: &mut State, id: &TicketId, fx: &mut Vec<Effect>) {
    let t = &mut state.tickets;
    if t.open.as_ref() != Some(id) {
        if let Some(old) = t.open.take() {
            if t.composer.is_empty() {
                t.composer.drafts.remove(&old);
            } else {
                let lines = t.composer.textarea.lines().to_vec();
                t.composer.drafts.insert(old, (lines, t.composer.kind));
            }
        }
        let (lines, kind) = t
            .composer
            .drafts
            .remove(id)
            .unwrap_or((Vec::new(), ComposeKind::Reply));
        t.composer.textarea = new_textarea(lines);
        t.composer.kind = kind;
        t.open = Some(id.clone());
        t.marked.clear();
        t.cursor = usize::MAX;
    }
    t.selected = Some(id.clone());
    t.focus = TicketPane::Detail;
    t.unread.remove(id);
    // The ticket itself is asked for again: a merged one answers with its target.
    fx.push(TicketCmd::Load(id.clone()).into());
    if !t.timelines.get(id).is_some_and(|tl| tl.loaded) {
        fx.push(TicketCmd::LoadEntries(id.clone()).into());
    }
    if let Some(c) = t.tickets.get(id).map(|t| t.customer.id.clone()) {
        fx.push(TicketCmd::LoadCustomer(c).into());
    }
    // Linked tickets are named by number in the header: load the ones not listed.
    let links: Vec<TicketId> = t
        .tickets
        .get(id)
        .map(|tk| {
            tk.links
                .iter()
                .map(|l| l.ticket_id.clone())
                .chain(tk.merged_into.clone())
                .filter(|other| !t.tickets.contains_key(other))
                .collect()
        })
        .unwrap_or_default();
    for other in links {
        fx.push(TicketCmd::Load(other).into());
    }
    clamp_cursor(state);
}

/// Keeps the timeline cursor on an entry (`usize::MAX` means the newest).
pub(crate) fn clamp_cursor(state: &mut State) {
    let n = state.tickets.open_entries().len();
    if n > 0 {
        state.tickets.cursor = state.tickets.cursor.min(n - 1);
    }
}

pub(crate) fn movement(state: &mut State, a: crate::action::Action) {
    use crate::action::Action;
    let n = state.tickets.open_entries().len();
    if n == 0 {
        return;
    }
    let last = n - 1;
    let cur = state.tickets.cursor.min(last);
    state.tickets.cursor = match a {
        Action::MoveDown => (cur + 1).min(last),
        Action::MoveUp => cur.saturating_sub(1),
        Action::PageDown => (cur + PAGE).min(last),
        Action::PageUp => cur.saturating_sub(PAGE),
        Action::Top => 0,
        _ => last,
    };
}

/// Space: marks (or unmarks) the entry under the cursor for `:split`. Event lines
/// are not the customer's words and are never split off.
pub(crate) fn toggle_mark(state: &mut State) {
    let entries = state.tickets.open_entries();
    let Some(e) = entries.get(state.tickets.cursor.min(entries.len().saturating_sub(1))) else {
        flash(
            state,
            FlashLevel::Info,
            "Open a ticket first (Enter on a row)",
        );
        return;
    };
    if e.kind == EntryKind::Event {
        flash(
            state,
            FlashLevel::Warn,
            "Event lines stay with the ticket: mark replies or notes",
        );
        return;
    }
    let id = e.id.clone();
    let t = &mut state.tickets;
    if !t.marked.remove(&id) {
        t.marked.insert(id);
    }
    let n = t.marked.len();
    let text = match n {
        0 => "No entry marked".to_owned(),
        n => format!("{n} marked · :split <subject> moves them to a new ticket"),
    };
    flash(state, FlashLevel::Info, text);
}

pub(crate) fn begin_compose(state: &mut State, kind: ComposeKind, fx: &mut Vec<Effect>) {
    if state.tickets.open.is_none() {
        match state.tickets.selected_ticket().map(|t| t.id.clone()) {
            Some(id) => open_ticket(state, &id, fx),
            None => {
                flash(
                    state,
                    FlashLevel::Warn,
                    "Open a ticket first (Enter on a row)",
                );
                return;
            }
        }
    }
    state.tickets.composer.kind = kind;
    state.tickets.focus = TicketPane::Detail;
    state.mode = Mode::Insert;
}

/// Sends the composer's text as a reply or note of the open ticket.
pub(crate) fn send(state: &mut State, fx: &mut Vec<Effect>) {
    let text = state.tickets.composer.text();
    let kind = state.tickets.composer.kind;
    if send_text(state, kind, &text, fx) {
        state.tickets.composer.textarea = new_textarea(Vec::new());
    }
}

/// Sends `text` as a reply or note of the open ticket; false (with the reason
/// shown) when it cannot go.
pub(crate) fn send_text(
    state: &mut State,
    kind: ComposeKind,
    text: &str,
    fx: &mut Vec<Effect>,
) -> bool {
    let Some(ticket_id) = state.tickets.open.clone() else {
        flash(state, FlashLevel::Warn, "No ticket is open");
        return false;
    };
    let body = match shared::limits::validate_body(text) {
        Ok(b) => b,
        Err(e) => {
            flash(state, FlashLevel::Warn, e.message);
            return false;
        }
    };
    if !state.conn.is_online() {
        flash(
            state,
            FlashLevel::Warn,
            "Offline: the reply stays in the composer — send it when back online",
        );
        return false;
    }
    let kind = match kind {
        ComposeKind::Reply => EntryKind::Reply,
        ComposeKind::Note => EntryKind::Note,
    };
    let client_msg_id = uuid::Uuid::new_v4().to_string();
    state.tickets.pending.push(PendingEntry {
        client_msg_id: client_msg_id.clone(),
        ticket_id: ticket_id.clone(),
        kind,
        body: body.clone(),
        at: state.now,
        failed: None,
    });
    fx.push(
        TicketCmd::Post {
            ticket_id,
            kind,
            body,
            client_msg_id,
        }
        .into(),
    );
    state.tickets.cursor = usize::MAX;
    true
}
