//! The ticket list: asking the server for a page, taking its answer, moving the
//! selection, paging and sorting, and keeping the page right as pushes arrive
//! (a new ticket that matches the filter shows up, one that stops matching goes).

use std::cmp::Ordering;

use shared::ticket::{Ticket, TicketEntry};

use crate::effect::{Effect, TicketCmd};
use crate::state::State;
use crate::state::views::tickets::{
    AssigneeFilter, PER_PAGE, SpamFilter, TicketFilter, TicketSort,
};
use crate::update::PAGE;

/// Asks for the page `state.tickets.query` names; older answers will be dropped.
pub(crate) fn reload(state: &mut State, fx: &mut Vec<Effect>) {
    let t = &mut state.tickets;
    t.generation += 1;
    t.loading = true;
    fx.push(
        TicketCmd::List {
            generation: t.generation,
            query: t.query.clone(),
        }
        .into(),
    );
}

/// The order the server sorts by, for placing pushed tickets the same way.
pub fn compare(sort: TicketSort, a: &Ticket, b: &Ticket) -> Ordering {
    let newest = b
        .created_at
        .cmp(&a.created_at)
        .then(b.number.cmp(&a.number));
    match sort {
        TicketSort::Newest => newest,
        TicketSort::Oldest => newest.reverse(),
        TicketSort::Updated => b.updated_at.cmp(&a.updated_at).then(newest),
        TicketSort::Priority => b
            .priority
            .cmp(&a.priority)
            .then(b.updated_at.cmp(&a.updated_at))
            .then(newest),
        // Soonest due first; tickets without a due date last.
        TicketSort::Due => match (a.due_at, b.due_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then(b.priority.cmp(&a.priority))
        .then(newest),
    }
}

/// Whether a ticket belongs in a list with this filter (what the server would say).
pub fn matches(f: &TicketFilter, t: &Ticket, me: Option<&str>) -> bool {
    if t.merged_into.is_some() {
        return false;
    }
    let spam_ok = match f.spam {
        SpamFilter::Hide => !t.spam,
        SpamFilter::Only => t.spam,
        SpamFilter::Any => true,
    };
    let assignee_ok = match &f.assignee {
        None => true,
        Some(AssigneeFilter::Me) => me.is_some() && t.assignee_id.as_deref() == me,
        Some(AssigneeFilter::Unassigned) => t.assignee_id.is_none(),
        Some(AssigneeFilter::Agent(id)) => t.assignee_id.as_ref() == Some(id),
    };
    spam_ok
        && assignee_ok
        && (f.status.is_empty() || f.status.contains(&t.status))
        && (f.priority.is_empty() || f.priority.contains(&t.priority))
        && f.priority_min.is_none_or(|p| t.priority >= p)
        && f.tag.as_ref().is_none_or(|tag| t.tags.contains(tag))
        && f.department_id
            .as_ref()
            .is_none_or(|d| &t.department_id == d)
}

/// Puts the page's ids back in the sort order.
fn resort(state: &mut State) {
    let sort = state.tickets.query.sort;
    let tickets = &state.tickets.tickets;
    state
        .tickets
        .list
        .sort_by(|a, b| match (tickets.get(a), tickets.get(b)) {
            (Some(x), Some(y)) => compare(sort, x, y),
            _ => Ordering::Equal,
        });
}

/// A ticket as it is now (answer or push): kept, and placed in or out of the page.
pub(crate) fn upsert(state: &mut State, ticket: Ticket, created: bool) {
    let id = ticket.id.clone();
    let me = state.my_id().map(str::to_owned);
    let fits = matches(&state.tickets.query.filter, &ticket, me.as_deref());
    state.tickets.tickets.insert(id.clone(), ticket);
    let t = &mut state.tickets;
    let listed = t.list.contains(&id);
    // Only the first page without a search takes tickets it has not listed: on a
    // later page a new ticket would belong to a page before it.
    let takes_new = t.query.page <= 1 && t.query.search.trim().is_empty();
    match (listed, fits) {
        (true, true) => resort(state),
        (true, false) => {
            t.list.retain(|x| x != &id);
            t.total = (t.total - 1).max(0);
        }
        (false, true) if takes_new => {
            t.list.push(id);
            if created {
                t.total += 1;
            }
            resort(state);
            state.tickets.list.truncate(PER_PAGE as usize);
        }
        _ => {}
    }
}

/// A new entry on a ticket: the ticket moves up (sorted by last update) and is
/// marked unread unless the agent wrote it or is reading the ticket.
pub(crate) fn touched_by(state: &mut State, e: &TicketEntry, reading: bool) {
    let mine = state.my_id().is_some_and(|me| me == e.author.id);
    let Some(t) = state.tickets.tickets.get(&e.ticket_id) else {
        if !mine {
            state.tickets.unread.insert(e.ticket_id.clone());
        }
        return;
    };
    let mut t = t.clone();
    t.last_seq = t.last_seq.max(e.seq);
    t.updated_at = t.updated_at.max(e.created_at);
    upsert(state, t, false);
    if !mine && !reading {
        state.tickets.unread.insert(e.ticket_id.clone());
    }
}

/// j/k and friends on the list.
pub(crate) fn movement(state: &mut State, a: crate::action::Action) {
    use crate::action::Action;
    let rows = state.tickets.rows();
    if rows.is_empty() {
        return;
    }
    let last = rows.len() - 1;
    let cur = state.tickets.selected_index();
    let to = match a {
        Action::MoveDown => (cur + 1).min(last),
        Action::MoveUp => cur.saturating_sub(1),
        Action::PageDown => (cur + PAGE).min(last),
        Action::PageUp => cur.saturating_sub(PAGE),
        Action::Top => 0,
        _ => last,
    };
    let id = rows[to].id.clone();
    state.tickets.selected = Some(id);
}

/// Keeps the selection on a row that is shown.
pub(crate) fn keep_selection(state: &mut State) {
    let rows = state.tickets.rows();
    let ok = state
        .tickets
        .selected
        .as_ref()
        .is_some_and(|id| rows.iter().any(|t| &t.id == id));
    if !ok {
        let first = rows.first().map(|t| t.id.clone());
        state.tickets.selected = first;
    }
}

/// `]` / `[`: the next or previous page, when there is one.
pub(crate) fn turn_page(
    state: &mut State,
    forward: bool,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let pages = state.tickets.pages();
    let cur = state.tickets.query.page.max(1);
    let to = if forward {
        if cur >= pages {
            return Err(format!("This is the last page ({cur} of {pages})"));
        }
        cur + 1
    } else {
        if cur <= 1 {
            return Err("This is the first page".into());
        }
        cur - 1
    };
    go_to_page(state, to, fx);
    Ok(())
}

pub(crate) fn go_to_page(state: &mut State, page: u32, fx: &mut Vec<Effect>) {
    state.tickets.query.page = page.max(1);
    state.tickets.selected = None;
    reload(state, fx);
}
