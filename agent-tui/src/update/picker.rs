//! The picker overlay (transfer target, status, theme): moving in it and what
//! choosing an entry does.

use shared::model::AgentStatus;

use super::{PAGE, flash};
use crate::action::Action;
use serde_json::{Value, json};

use crate::effect::{ChatCmd, DirectoryCmd, Effect, TicketCmd};
use crate::msg::TicketOp;
use crate::state::{FlashLevel, Mode, Picker, PickerItem, PickerKind, PickerValue, State};

pub(crate) fn open_status_picker(state: &mut State) {
    let current = state.me().map(|a| a.status);
    let items = AgentStatus::ALL
        .into_iter()
        .map(|s| PickerItem {
            label: s.as_str().replace('_', " "),
            detail: if Some(s) == current {
                "current".into()
            } else {
                String::new()
            },
            badge: Some(crate::ui::theme::status_symbol(s).to_owned()),
            value: PickerValue::Status(s),
        })
        .collect();
    state.picker = Some(Picker {
        kind: PickerKind::Status,
        title: "Set your status".into(),
        items,
        query: String::new(),
        selected: 0,
    });
    state.mode = Mode::Picker;
}

pub(super) fn movement(state: &mut State, a: Action) {
    if let Some(p) = &mut state.picker {
        let n = p.visible().len();
        if n == 0 {
            return;
        }
        p.selected = match a {
            Action::MoveDown => (p.selected + 1).min(n - 1),
            Action::MoveUp => p.selected.saturating_sub(1),
            Action::PageDown => (p.selected + PAGE).min(n - 1),
            Action::PageUp => p.selected.saturating_sub(PAGE),
            Action::Top => 0,
            _ => n - 1,
        };
    }
}

pub(super) fn confirm(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(p) = state.picker.take() else {
        state.mode = Mode::Normal;
        return;
    };
    state.mode = Mode::Normal;
    let Some(item) = p.visible().get(p.selected).map(|i| (*i).clone()) else {
        return;
    };
    match (&p.kind, item.value) {
        (PickerKind::Transfer { chat_id }, PickerValue::Agent(a)) => {
            fx.push(
                ChatCmd::Transfer {
                    chat_id: chat_id.clone(),
                    to_agent_id: Some(a),
                    to_department_id: None,
                }
                .into(),
            );
            flash(
                state,
                FlashLevel::Info,
                format!("Transferring to {}…", item.label),
            );
        }
        (PickerKind::Transfer { chat_id }, PickerValue::Department(d)) => {
            fx.push(
                ChatCmd::Transfer {
                    chat_id: chat_id.clone(),
                    to_agent_id: None,
                    to_department_id: Some(d),
                }
                .into(),
            );
            flash(
                state,
                FlashLevel::Info,
                format!("Transferring to {}…", item.label),
            );
        }
        (PickerKind::AssignTicket { ticket_id }, PickerValue::Agent(a)) => {
            ticket_act(fx, TicketOp::Update, ticket_id, json!({ "assignee_id": a }));
            flash(
                state,
                FlashLevel::Info,
                format!("Assigning to {}…", item.label),
            );
        }
        (PickerKind::AssignTicket { ticket_id }, PickerValue::Department(d)) => {
            ticket_act(
                fx,
                TicketOp::Update,
                ticket_id,
                json!({ "department_id": d }),
            );
            flash(
                state,
                FlashLevel::Info,
                format!("Moving to {}…", item.label),
            );
        }
        (PickerKind::MergeTicket { ticket_id }, PickerValue::Ticket(into)) => {
            ticket_act(fx, TicketOp::Merge, ticket_id, json!({ "into": into }));
            flash(
                state,
                FlashLevel::Info,
                format!("Merging into {}…", item.label),
            );
        }
        (_, PickerValue::Status(s)) => fx.push(DirectoryCmd::Presence(s).into()),
        (_, PickerValue::Theme(t)) => state.theme = t,
        _ => {}
    }
}

fn ticket_act(fx: &mut Vec<Effect>, op: TicketOp, ticket_id: &str, body: Value) {
    fx.push(
        TicketCmd::Act {
            op,
            ticket_id: ticket_id.to_owned(),
            body,
        }
        .into(),
    );
}
