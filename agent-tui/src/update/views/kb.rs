//! The Knowledge base view: search as you type (`/`), j/k through the hits, Enter
//! reads an article, `y` copies its public link (OSC 52), `i` puts its title and link
//! into the reply of the open chat. Its state is `state.kb`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use shared::kb::Visibility;

use crate::action::Action;
use crate::effect::{Effect, KbCmd};
use crate::msg::KbReply;
use crate::state::{FlashLevel, Mode, Pane, State, ViewId};
use crate::ui::Theme;
use crate::ui::views::kb as draw;
use crate::update::{PAGE, flash};
use crate::views::View;

pub struct KnowledgeBase;

/// Normal-mode keys of the Knowledge base view (`[keymap.knowledge_base]`).
const KEYS: &[(&str, Action)] = &[
    ("/", Action::Search),
    ("enter", Action::Open),
    ("y", Action::CopyLink),
    ("i", Action::Compose),
];

impl View for KnowledgeBase {
    fn id(&self) -> ViewId {
        ViewId::KnowledgeBase
    }

    fn keys(&self) -> &'static [(&'static str, Action)] {
        KEYS
    }

    fn on_action(&self, state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool {
        let last = state.kb.hits.len().saturating_sub(1);
        let cur = state.kb.selected;
        let to = match a {
            Action::MoveDown => (cur + 1).min(last),
            Action::MoveUp => cur.saturating_sub(1),
            Action::PageDown => (cur + PAGE).min(last),
            Action::PageUp => cur.saturating_sub(PAGE),
            Action::Top => 0,
            Action::Bottom => last,
            Action::Search => {
                state.mode = Mode::Search;
                return true;
            }
            Action::Open => {
                open(state, fx);
                return true;
            }
            Action::CopyLink => {
                copy_link(state, fx);
                return true;
            }
            Action::Compose => {
                insert_into_reply(state);
                return true;
            }
            Action::Normal => {
                state.kb.open = None;
                return true;
            }
            _ => return false,
        };
        if to != cur {
            state.kb.selected = to;
            state.kb.scroll = 0;
        }
        true
    }

    fn on_key(&self, state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
        if state.mode != Mode::Search {
            return;
        }
        match ev.code {
            KeyCode::Esc => {
                state.mode = Mode::Normal;
                return;
            }
            KeyCode::Enter => {
                state.mode = Mode::Normal;
                open(state, fx);
                return;
            }
            KeyCode::Down => {
                state.kb.selected =
                    (state.kb.selected + 1).min(state.kb.hits.len().saturating_sub(1));
                return;
            }
            KeyCode::Up => {
                state.kb.selected = state.kb.selected.saturating_sub(1);
                return;
            }
            KeyCode::Backspace => {
                state.kb.query.pop();
            }
            KeyCode::Char(c) if !c.is_control() => {
                if state.kb.query.chars().count() < shared::limits::MAX_SEARCH_CHARS {
                    state.kb.query.push(c);
                }
            }
            _ => return,
        }
        search(state, fx);
    }

    fn on_paste(&self, state: &mut State, text: &str, fx: &mut Vec<Effect>) {
        if state.mode == Mode::Search {
            state.kb.query.push_str(&shared::text::sanitize_line(text));
            search(state, fx);
        }
    }

    fn load(&self, state: &State, fx: &mut Vec<Effect>) {
        fx.push(
            KbCmd::Search {
                q: state.kb.query.clone(),
                seq: state.kb.seq,
            }
            .into(),
        );
    }

    fn topbar(&self, state: &State) -> Option<String> {
        (!state.kb.query.is_empty()).then(|| format!("search: {}", state.kb.query))
    }

    fn hints(&self, state: &State) -> Vec<String> {
        draw::hints(state)
    }

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect) {
        draw::render(state, t, f, area);
    }
}

/// Sends the search as typed; the answer to the latest one wins.
fn search(state: &mut State, fx: &mut Vec<Effect>) {
    state.kb.seq += 1;
    fx.push(
        KbCmd::Search {
            q: state.kb.query.clone(),
            seq: state.kb.seq,
        }
        .into(),
    );
}

pub(crate) fn on_reply(state: &mut State, r: KbReply) {
    match r {
        KbReply::Found { seq, hits } => {
            if seq != state.kb.seq {
                return;
            }
            let keep = state.kb.selected_hit().map(|h| h.article.id.clone());
            state.kb.hits = hits;
            state.kb.loaded = true;
            state.kb.selected = keep
                .and_then(|id| state.kb.hits.iter().position(|h| h.article.id == id))
                .unwrap_or(0);
        }
        KbReply::Opened(a) => {
            state.kb.scroll = 0;
            state.kb.open = Some(a);
        }
    }
}

fn open(state: &mut State, fx: &mut Vec<Effect>) {
    match state.kb.selected_hit() {
        Some(h) => {
            let id = h.article.id.clone();
            fx.push(KbCmd::Open { id }.into());
        }
        None => flash(state, FlashLevel::Info, "No article to open"),
    }
}

/// The public address of an article, for a customer.
pub fn public_link(state: &State, slug: &str) -> String {
    format!("{}/kb/{slug}", state.server_url.trim_end_matches('/'))
}

fn copy_link(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(h) = state.kb.selected_hit() else {
        flash(state, FlashLevel::Info, "No article selected");
        return;
    };
    if h.article.visibility == Visibility::Internal {
        flash(
            state,
            FlashLevel::Warn,
            "An internal article has no public link",
        );
        return;
    }
    let link = public_link(state, &h.article.slug);
    fx.push(Effect::Clipboard(link.clone()));
    flash(state, FlashLevel::Info, format!("Copied {link}"));
}

/// Puts "title: link" into the open chat's reply and switches there, composing.
fn insert_into_reply(state: &mut State) {
    let Some(h) = state.kb.selected_hit() else {
        flash(state, FlashLevel::Info, "No article selected");
        return;
    };
    if h.article.visibility == Visibility::Internal {
        flash(
            state,
            FlashLevel::Warn,
            "An internal article cannot be shared with a customer",
        );
        return;
    }
    let text = format!(
        "{}: {}",
        h.article.title,
        public_link(state, &h.article.slug)
    );
    if state.chats.open_chat.is_none() {
        flash(
            state,
            FlashLevel::Info,
            "Open a chat first, then share the article",
        );
        return;
    }
    state.view = ViewId::Chats;
    state.chats.focus = Pane::Chat;
    state.chats.composer.textarea.insert_str(&text);
    state.mode = Mode::Insert;
}
