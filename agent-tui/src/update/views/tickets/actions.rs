//! What the keys do in the Tickets view: panes and movement, opening, composing,
//! search, sort and paging, the split marks, and the pickers (assignee, merge).

use crate::action::Action;
use crate::effect::Effect;
use crate::state::views::tickets::TicketPane;
use crate::state::{
    ComposeKind, FlashLevel, Mode, Picker, PickerItem, PickerKind, PickerValue, State,
};
use crate::update::views::chats;
use crate::update::{flash, open_command};

use super::{detail, list};

pub(super) fn on_action(state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool {
    if state.mode == Mode::Canned {
        chats::canned_action(state, a, fx);
        return true;
    }
    let focus = state.tickets.focus;
    match a {
        Action::MoveDown
        | Action::MoveUp
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp => match focus {
            TicketPane::List => list::movement(state, a),
            TicketPane::Detail => detail::movement(state, a),
            TicketPane::Customer => {}
        },
        Action::FocusLeft | Action::PrevPane => move_focus(state, -1),
        Action::FocusRight | Action::NextPane => move_focus(state, 1),
        Action::FocusQueue => state.tickets.focus = TicketPane::List,
        Action::FocusChat => state.tickets.focus = TicketPane::Detail,
        Action::FocusCustomer => state.tickets.focus = TicketPane::Customer,
        Action::Open => match focus {
            TicketPane::List => match state.tickets.selected_ticket().map(|t| t.id.clone()) {
                Some(id) => detail::open_ticket(state, &id, fx),
                None => flash(state, FlashLevel::Info, "No ticket on this page"),
            },
            _ => detail::begin_compose(state, ComposeKind::Reply, fx),
        },
        Action::NextUnread => next_unread(state, fx),
        Action::Search => {
            state.tickets.focus = TicketPane::List;
            state.mode = Mode::Search;
        }
        Action::ClearFilter => clear(state, fx),
        Action::Compose => detail::begin_compose(state, ComposeKind::Reply, fx),
        Action::ComposeNote => detail::begin_compose(state, ComposeKind::Note, fx),
        Action::ToggleNote => {
            let c = &mut state.tickets.composer;
            c.kind = match c.kind {
                ComposeKind::Reply => ComposeKind::Note,
                ComposeKind::Note => ComposeKind::Reply,
            };
        }
        Action::Send => detail::send(state, fx),
        Action::CannedResponses => chats::canned_trigger(state, fx),
        Action::Normal => state.mode = Mode::Normal,
        Action::NextPage | Action::PrevPage => {
            if let Err(e) = list::turn_page(state, a == Action::NextPage, fx) {
                flash(state, FlashLevel::Info, e);
            }
        }
        Action::CycleSort => {
            let next = state.tickets.query.sort.next();
            super::commands::sort(state, next.as_str(), fx);
        }
        Action::EditFilter => {
            let text = state.tickets.filter_text.clone();
            let line = if text.is_empty() {
                "filter ".to_owned()
            } else {
                format!("filter {text} ")
            };
            open_command(state, &line);
        }
        Action::MarkEntry => {
            if focus == TicketPane::Detail {
                detail::toggle_mark(state);
            } else {
                flash(
                    state,
                    FlashLevel::Info,
                    "Marks are set in the open ticket (l or Enter)",
                );
            }
        }
        Action::SetTicketStatus => open_command(state, "status "),
        Action::SetPriority => open_command(state, "priority "),
        Action::SetDue => open_command(state, "due "),
        Action::Tag => open_command(state, "tag "),
        Action::Close => open_command(state, "close "),
        Action::Reopen => super::commands::COMMANDS
            .iter()
            .find(|c| c.name == "reopen")
            .map_or((), |c| (c.run)(state, "", fx)),
        Action::Export => open_command(state, "export "),
        Action::Assign | Action::Transfer => open_assign_picker(state),
        Action::Merge => open_merge_picker(state),
        _ => return false,
    }
    true
}

fn move_focus(state: &mut State, by: i32) {
    let panes = TicketPane::ALL;
    let i = panes
        .iter()
        .position(|p| *p == state.tickets.focus)
        .unwrap_or(0) as i32;
    let j = (i + by).clamp(0, panes.len() as i32 - 1) as usize;
    state.tickets.focus = panes[j];
}

/// Esc: leaves the open ticket first, then clears the search, then the filter.
fn clear(state: &mut State, fx: &mut Vec<Effect>) {
    let t = &mut state.tickets;
    if t.focus != TicketPane::List {
        t.focus = TicketPane::List;
    } else if !t.search_input.is_empty() || !t.query.search.is_empty() {
        t.search_input.clear();
        let had_query = !t.query.search.is_empty();
        t.query.search.clear();
        if had_query {
            t.query.page = 1;
            list::reload(state, fx);
        }
        flash(state, FlashLevel::Info, "Search cleared");
    } else if !t.query.filter.is_empty() {
        super::commands::filter(state, "", fx);
    } else {
        state.flash = None;
    }
}

fn next_unread(state: &mut State, fx: &mut Vec<Effect>) {
    let rows = state.tickets.rows();
    let cur = state.tickets.selected_index();
    let n = rows.len();
    let hit = (1..=n)
        .map(|k| &rows[(cur + k) % n])
        .find(|t| state.tickets.unread.contains(&t.id))
        .map(|t| t.id.clone());
    match hit {
        Some(id) => detail::open_ticket(state, &id, fx),
        None => flash(state, FlashLevel::Info, "No unread ticket on this page"),
    }
}

/// The assignee picker: agents (with presence) and departments.
pub(crate) fn open_assign_picker(state: &mut State) {
    let Some(ticket_id) = state.tickets.target() else {
        flash(state, FlashLevel::Warn, "No ticket selected");
        return;
    };
    let current = state
        .tickets
        .tickets
        .get(&ticket_id)
        .and_then(|t| t.assignee_id.clone());
    let mut items: Vec<PickerItem> = state
        .directory
        .agents
        .iter()
        .map(|a| PickerItem {
            label: a.name.clone(),
            detail: if current.as_ref() == Some(&a.id) {
                "assigned now".into()
            } else {
                format!("{} open chats", a.active_chats)
            },
            badge: Some(crate::ui::theme::status_symbol(a.status).to_owned()),
            value: PickerValue::Agent(a.id.clone()),
        })
        .collect();
    items.extend(state.directory.departments.iter().map(|d| PickerItem {
        label: d.name.clone(),
        detail: "department".into(),
        badge: Some("▣".into()),
        value: PickerValue::Department(d.id.clone()),
    }));
    state.picker = Some(Picker {
        kind: PickerKind::AssignTicket { ticket_id },
        title: "Assign the ticket".into(),
        items,
        query: String::new(),
        selected: 0,
    });
    state.mode = Mode::Picker;
}

/// The merge picker: every other ticket the console knows, searchable by number,
/// subject and customer.
pub(crate) fn open_merge_picker(state: &mut State) {
    let Some(ticket_id) = state.tickets.target() else {
        flash(state, FlashLevel::Warn, "No ticket selected");
        return;
    };
    let mut others: Vec<&shared::ticket::Ticket> = state
        .tickets
        .tickets
        .values()
        .filter(|t| t.id != ticket_id && t.merged_into.is_none())
        .collect();
    others.sort_by_key(|t| std::cmp::Reverse(t.number));
    let items = others
        .into_iter()
        .map(|t| PickerItem {
            label: format!("{} {}", t.label(), t.subject),
            detail: format!("{} · {}", t.customer.name, t.status),
            badge: None,
            value: PickerValue::Ticket(t.id.clone()),
        })
        .collect();
    let label = state
        .tickets
        .tickets
        .get(&ticket_id)
        .map(|t| t.label())
        .unwrap_or_default();
    state.picker = Some(Picker {
        kind: PickerKind::MergeTicket { ticket_id },
        title: format!("Merge {label} into…"),
        items,
        query: String::new(),
        selected: 0,
    });
    state.mode = Mode::Picker;
}
