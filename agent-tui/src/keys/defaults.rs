//! The default bindings per context (vim-style), as data. Each view's own keys are
//! its `View::keys`; the go-to keys (`g c`, `g n`…) come from the list of views.

use super::KeyContext;
use crate::action::Action;
use crate::views;

pub fn bindings(ctx: KeyContext) -> &'static [(&'static str, Action)] {
    match ctx {
        KeyContext::Normal => NORMAL,
        KeyContext::View(v) => views::get(v).map_or(&[], |view| view.keys()),
        KeyContext::Insert => INSERT,
        KeyContext::Picker => PICKER,
        KeyContext::Canned => CANNED,
        KeyContext::CannedBrowse => CANNED_BROWSE,
    }
}

// Movement means whatever the view shows; the rest is the same everywhere.
const NORMAL: &[(&str, Action)] = &[
    ("j", Action::MoveDown),
    ("down", Action::MoveDown),
    ("k", Action::MoveUp),
    ("up", Action::MoveUp),
    ("g g", Action::Top),
    ("home", Action::Top),
    ("G", Action::Bottom),
    ("end", Action::Bottom),
    ("ctrl-d", Action::PageDown),
    ("pagedown", Action::PageDown),
    ("ctrl-u", Action::PageUp),
    ("pageup", Action::PageUp),
    ("esc", Action::ClearFilter),
    ("s", Action::SetStatus),
    (":", Action::CommandLine),
    ("?", Action::Help),
    ("N", Action::Notifications),
    ("ctrl-r", Action::Refresh),
    ("T", Action::CycleTheme),
    ("q", Action::Quit),
];

const INSERT: &[(&str, Action)] = &[
    ("ctrl-enter", Action::Send),
    ("alt-enter", Action::Send),
    ("ctrl-s", Action::Send),
    ("esc", Action::Normal),
    ("ctrl-n", Action::ToggleNote),
    ("/", Action::CannedResponses),
];

const PICKER: &[(&str, Action)] = &[
    ("down", Action::MoveDown),
    ("ctrl-n", Action::MoveDown),
    ("ctrl-j", Action::MoveDown),
    ("up", Action::MoveUp),
    ("ctrl-p", Action::MoveUp),
    ("ctrl-k", Action::MoveUp),
    ("pagedown", Action::PageDown),
    ("pageup", Action::PageUp),
    ("enter", Action::Open),
    ("esc", Action::Normal),
];

// Typed characters go into the search, so only keys that type nothing move here.
const CANNED: &[(&str, Action)] = &[
    ("down", Action::MoveDown),
    ("ctrl-n", Action::MoveDown),
    ("ctrl-j", Action::MoveDown),
    ("up", Action::MoveUp),
    ("ctrl-p", Action::MoveUp),
    ("ctrl-k", Action::MoveUp),
    ("pagedown", Action::PageDown),
    ("pageup", Action::PageUp),
    ("enter", Action::Open),
    ("tab", Action::CannedBrowse),
    ("esc", Action::Normal),
];

const CANNED_BROWSE: &[(&str, Action)] = &[
    ("j", Action::MoveDown),
    ("down", Action::MoveDown),
    ("k", Action::MoveUp),
    ("up", Action::MoveUp),
    ("g g", Action::Top),
    ("G", Action::Bottom),
    ("ctrl-d", Action::PageDown),
    ("ctrl-u", Action::PageUp),
    ("enter", Action::Open),
    ("tab", Action::CannedBrowse),
    ("/", Action::CannedBrowse),
    ("esc", Action::Normal),
];
