//! Canned responses in the console: `/` at the start of the composer opens the
//! picker, Enter inserts the chosen response with its variables filled in, and the
//! `:canned` commands add and remove them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use shared::canned::{CannedInput, CannedScope, VARIABLES};
use shared::limits::MAX_SEARCH_CHARS;

use super::{PAGE, begin_compose, flash, typed};
use crate::action::Action;
use crate::effect::{Effect, NetCmd};
use crate::keys::{KeyContext, KeyPress, Resolved};
use crate::msg::NetEvent;
use crate::state::{CannedPicker, FlashLevel, Mode, State};

/// `/` in the composer (or `:canned`): the picker when the composer is empty,
/// otherwise just the character.
pub(crate) fn trigger(state: &mut State, fx: &mut Vec<Effect>) {
    if state.mode == Mode::Insert {
        state.composer.textarea.insert_char('/');
        if state.composer.text() == "/" {
            open(state, true);
        } else {
            typed(state, fx);
        }
        return;
    }
    begin_compose(state, state.composer.kind, fx);
    if state.mode == Mode::Insert {
        open(state, false);
    }
}

fn open(state: &mut State, slash: bool) {
    state.canned_picker = Some(CannedPicker {
        slash,
        ..CannedPicker::default()
    });
    state.mode = Mode::Canned;
}

/// Leaves the picker for the composer; with `drop_slash`, the `/` that opened it goes.
fn close(state: &mut State, drop_slash: bool) {
    if let Some(p) = state.canned_picker.take()
        && p.slash
        && drop_slash
    {
        state.composer.textarea.delete_char();
    }
    state.mode = Mode::Insert;
}

/// Puts the selected response, its variables filled in, into the composer.
fn insert(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(c) = state.canned_selected().cloned() else {
        flash(state, FlashLevel::Warn, "No canned response matches");
        return;
    };
    let text = state.canned_text(&c);
    close(state, true);
    state.composer.textarea.insert_str(&text);
    typed(state, fx);
    let missing: Vec<String> = VARIABLES
        .iter()
        .map(|(n, _)| format!("{{{{{n}}}}}"))
        .filter(|v| text.contains(v.as_str()))
        .collect();
    if missing.is_empty() {
        flash(
            state,
            FlashLevel::Info,
            format!("Inserted /{}: edit it if needed, then send", c.shortcut),
        );
    } else {
        flash(
            state,
            FlashLevel::Warn,
            format!(
                "Inserted /{}: fill in {} before sending",
                c.shortcut,
                missing.join(", ")
            ),
        );
    }
}

fn move_selection(state: &mut State, a: Action) {
    let n = state.canned_visible().len();
    let Some(p) = &mut state.canned_picker else {
        return;
    };
    if n == 0 {
        p.selected = 0;
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

/// An action while the picker is open. Others do nothing, so a key never reaches a
/// pane hidden under the picker.
pub(crate) fn on_action(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    match a {
        Action::MoveDown
        | Action::MoveUp
        | Action::PageDown
        | Action::PageUp
        | Action::Top
        | Action::Bottom => move_selection(state, a),
        Action::Open | Action::Send => insert(state, fx),
        Action::Normal => close(state, false),
        Action::CannedBrowse => {
            if let Some(p) = &mut state.canned_picker {
                p.browsing = !p.browsing;
            }
        }
        _ => {}
    }
}

fn set_query(state: &mut State, f: impl FnOnce(&mut String)) {
    if let Some(p) = &mut state.canned_picker {
        f(&mut p.query);
        p.selected = 0;
    }
}

pub(crate) fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(p) = &state.canned_picker else {
        state.mode = Mode::Insert;
        return;
    };
    let browsing = p.browsing;
    let query_empty = p.query.is_empty();
    let ctx = if browsing {
        KeyContext::CannedBrowse
    } else {
        KeyContext::Canned
    };
    if let Some(kp) = KeyPress::from_event(&ev) {
        state.pending_keys.push(kp);
        match state.keymap.resolve(ctx, &state.pending_keys) {
            Resolved::Action(a) => {
                state.pending_keys.clear();
                on_action(state, a, fx);
                return;
            }
            Resolved::Pending => return,
            Resolved::Unbound => state.pending_keys.clear(),
        }
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    match ev.code {
        // Deleting past the start of the search deletes the `/` and closes.
        KeyCode::Backspace if query_empty => close(state, true),
        KeyCode::Backspace => set_query(state, |q| {
            q.pop();
        }),
        KeyCode::Char('u') if ctrl => set_query(state, String::clear),
        KeyCode::Char(c) if !ctrl => {
            if let Some(p) = &mut state.canned_picker {
                // Typing while browsing goes back to the search.
                p.browsing = false;
            }
            set_query(state, |q| {
                if q.chars().count() < MAX_SEARCH_CHARS {
                    q.push(c);
                }
            });
        }
        _ => {}
    }
}

pub(crate) fn on_paste(state: &mut State, text: &str) {
    let line = shared::text::sanitize_line(text);
    set_query(state, |q| {
        q.extend(
            line.chars()
                .take(MAX_SEARCH_CHARS.saturating_sub(q.chars().count())),
        );
    });
}

const USAGE: &str = "Usage: :canned | :canned add <shortcut> <title…> | :canned rm <shortcut>";

/// `:canned`, `:canned add <shortcut> <title…>` (the composer's text is the body),
/// `:canned rm <shortcut>`.
pub(crate) fn command(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let (sub, args) = match rest.split_once(char::is_whitespace) {
        Some((s, a)) => (s, a.trim()),
        None => (rest, ""),
    };
    match sub {
        "" => trigger(state, fx),
        "add" => {
            let (shortcut, title) = match args.split_once(char::is_whitespace) {
                Some((s, t)) => (s.trim_start_matches('/'), t.trim()),
                None => {
                    flash(state, FlashLevel::Warn, USAGE);
                    return;
                }
            };
            let body = state.composer.text();
            if body.trim().is_empty() {
                flash(
                    state,
                    FlashLevel::Warn,
                    "Write the response in the composer first (i), then :canned add <shortcut> <title…>",
                );
                return;
            }
            let input = CannedInput {
                title: title.to_owned(),
                shortcut: shortcut.to_owned(),
                body,
                category: None,
                scope: Some(CannedScope::Personal),
            };
            match input.validate() {
                Ok(input) => {
                    flash(
                        state,
                        FlashLevel::Info,
                        format!("Saving /{}…", input.shortcut),
                    );
                    fx.push(Effect::Net(NetCmd::CreateCanned(input)));
                }
                Err(e) => flash(state, FlashLevel::Warn, e.message),
            }
        }
        "rm" | "delete" => {
            let shortcut = args.trim_start_matches('/');
            if shortcut.is_empty() {
                flash(state, FlashLevel::Warn, USAGE);
                return;
            }
            let me = state.my_id().unwrap_or_default().to_owned();
            // The agent's own response first: it is the one `/shortcut` means to them.
            let found = state
                .canned
                .iter()
                .filter(|c| c.shortcut == shortcut)
                .min_by_key(|c| !(c.scope == CannedScope::Personal && c.owner_id == me))
                .map(|c| c.id.clone());
            match found {
                Some(id) => {
                    fx.push(Effect::Net(NetCmd::DeleteCanned {
                        id,
                        shortcut: shortcut.to_owned(),
                    }));
                    flash(state, FlashLevel::Info, format!("Deleting /{shortcut}…"));
                }
                None => flash(
                    state,
                    FlashLevel::Warn,
                    format!("No canned response /{shortcut} (Tab completes)"),
                ),
            }
        }
        _ => flash(state, FlashLevel::Warn, USAGE),
    }
}

/// Completion after `canned `.
pub(crate) fn complete(state: &State, arg: &str) -> (String, Vec<String>) {
    if let Some(s) = arg.strip_prefix("rm ") {
        let mut v: Vec<String> = state
            .canned
            .iter()
            .map(|c| c.shortcut.clone())
            .filter(|c| c.starts_with(s))
            .collect();
        v.sort();
        v.dedup();
        return ("canned rm ".into(), v);
    }
    let v = ["add", "rm"]
        .iter()
        .map(|s| (*s).to_owned())
        .filter(|s| s.starts_with(arg))
        .collect();
    ("canned ".into(), v)
}

pub(crate) fn on_net(state: &mut State, ev: NetEvent, fx: &mut Vec<Effect>) {
    match ev {
        NetEvent::CannedLoaded(list) => {
            state.canned = list;
            let n = state.canned_visible().len();
            if let Some(p) = &mut state.canned_picker {
                p.selected = p.selected.min(n.saturating_sub(1));
            }
        }
        NetEvent::CannedCreated(c) => {
            let scope = match c.scope {
                CannedScope::Personal => "personal",
                CannedScope::Team => "team",
            };
            flash(
                state,
                FlashLevel::Info,
                format!(
                    "Saved /{} ({scope}); type / in the composer to use it",
                    c.shortcut
                ),
            );
            fx.push(Effect::Net(NetCmd::LoadCanned));
        }
        NetEvent::CannedDeleted { shortcut } => {
            flash(state, FlashLevel::Info, format!("Deleted /{shortcut}"));
            fx.push(Effect::Net(NetCmd::LoadCanned));
        }
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use shared::canned::{CannedInput, CannedResponse, CannedScope};
    use shared::model::ChatStatus;

    use crate::effect::{Effect, NetCmd};
    use crate::msg::{Msg, NetEvent};
    use crate::state::{FlashLevel, Mode, State};
    use crate::update::tests::{T0, chat, press, signed_in, type_text};
    use crate::update::update;

    pub fn response(shortcut: &str, title: &str, body: &str, scope: CannedScope) -> CannedResponse {
        CannedResponse {
            id: format!("id-{shortcut}-{}", scope.as_str()),
            title: title.into(),
            shortcut: shortcut.into(),
            body: body.into(),
            category: None,
            scope,
            owner_id: if scope == CannedScope::Team {
                "a2"
            } else {
                "me"
            }
            .into(),
            created_at: T0,
            updated_at: T0,
        }
    }

    /// A few realistic responses, ordered by shortcut like the server sends them.
    pub fn responses() -> Vec<CannedResponse> {
        let mut v = vec![
            response(
                "bye",
                "Closing",
                "Thanks for contacting WZATCO, {{customer_first_name}}! Have a great day.",
                CannedScope::Team,
            ),
            response(
                "fw",
                "Firmware update steps",
                "1. Download the firmware to a FAT32 USB stick.\n2. Settings > System > Update.\n3. Keep the projector on until it restarts.",
                CannedScope::Team,
            ),
            response(
                "hello",
                "Greeting",
                "Hi {{customer_first_name}}, this is {{agent_first_name}} from {{department}}. How can I help?",
                CannedScope::Team,
            ),
            response(
                "purple",
                "Troubleshooting purple tint",
                "A purple tint usually means the HDMI colour space is wrong: set it to RGB.",
                CannedScope::Team,
            ),
            response(
                "refund",
                "Refund policy",
                "Refunds are possible within 30 days, {{customer_name}}; we email {{customer_email}}.",
                CannedScope::Team,
            ),
            response(
                "refund",
                "My refund wording",
                "Mine: {{customer_name}}",
                CannedScope::Personal,
            ),
        ];
        v[3].category = Some("troubleshooting".into());
        v
    }

    fn net(s: &mut State, e: NetEvent) -> Vec<Effect> {
        update(s, Msg::Net(e))
    }

    /// Signed in as Maya Chen (Support), writing to Ada Lovelace in an open chat.
    pub fn composing() -> State {
        let mut s = signed_in();
        net(
            &mut s,
            NetEvent::ChatsLoaded {
                status: ChatStatus::Active,
                chats: vec![chat("c1", "Ada Lovelace", ChatStatus::Active, Some("me"))],
            },
        );
        net(&mut s, NetEvent::CannedLoaded(responses()));
        s.queue.selected = Some("c1".into());
        press(&mut s, "i");
        assert_eq!(s.mode, Mode::Insert);
        s
    }

    fn shortcuts(s: &State) -> Vec<String> {
        s.canned_visible()
            .iter()
            .map(|c| format!("{}:{}", c.scope.as_str(), c.shortcut))
            .collect()
    }

    #[test]
    fn slash_in_an_empty_composer_opens_the_picker_and_enter_inserts_the_filled_in_response() {
        let mut s = composing();
        press(&mut s, "/");
        assert_eq!(s.mode, Mode::Canned);
        assert_eq!(s.composer.text(), "/", "the slash stays in the composer");
        assert_eq!(
            s.canned_visible().len(),
            6,
            "an empty search shows everything"
        );
        type_text(&mut s, "hello");
        assert_eq!(
            s.composer.text(),
            "/",
            "the search does not go into the composer"
        );
        assert_eq!(shortcuts(&s)[0], "team:hello");
        // The preview is exactly what Enter inserts.
        let preview = s.canned_text(s.canned_selected().unwrap());
        assert_eq!(
            preview,
            "Hi Ada, this is Maya from Support. How can I help?"
        );
        let fx = press(&mut s, "enter");
        assert_eq!(s.mode, Mode::Insert);
        assert!(s.canned_picker.is_none());
        assert_eq!(s.composer.text(), preview, "the slash is replaced");
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::Net(NetCmd::Typing { typing: true, .. }))),
            "inserting text is typing: {fx:?}"
        );
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Net(NetCmd::Send(_)))),
            "nothing is sent before the agent sends it"
        );
        // More text can follow, then it is sent as usual.
        type_text(&mut s, " :)");
        let fx = press(&mut s, "ctrl-s");
        let sent = fx.iter().find_map(|e| match e {
            Effect::Net(NetCmd::Send(item)) => Some(item.body.clone()),
            _ => None,
        });
        assert_eq!(
            sent.as_deref(),
            Some("Hi Ada, this is Maya from Support. How can I help? :)")
        );
    }

    #[test]
    fn esc_keeps_the_slash_and_a_slash_after_text_is_just_a_character() {
        let mut s = composing();
        press(&mut s, "/");
        type_text(&mut s, "ref");
        press(&mut s, "esc");
        assert_eq!(s.mode, Mode::Insert);
        assert!(s.canned_picker.is_none());
        assert_eq!(s.composer.text(), "/");
        // The composer is no longer empty: `/` types.
        type_text(&mut s, "usr/bin");
        assert_eq!(s.mode, Mode::Insert);
        assert_eq!(s.composer.text(), "/usr/bin");

        let mut s = composing();
        type_text(&mut s, "see a/b");
        assert_eq!(s.mode, Mode::Insert);
        assert_eq!(s.composer.text(), "see a/b");
        // Ctrl+C leaves the picker like Esc, without quitting.
        let mut s = composing();
        press(&mut s, "/");
        let fx = press(&mut s, "ctrl-c");
        assert_eq!(s.mode, Mode::Insert);
        assert!(!fx.contains(&Effect::Quit));
    }

    #[test]
    fn backspace_past_the_search_removes_the_slash_and_closes() {
        let mut s = composing();
        press(&mut s, "/");
        type_text(&mut s, "fw");
        press(&mut s, "backspace backspace");
        assert_eq!(s.mode, Mode::Canned);
        assert_eq!(s.canned_picker.as_ref().unwrap().query, "");
        press(&mut s, "backspace");
        assert_eq!(s.mode, Mode::Insert);
        assert_eq!(s.composer.text(), "");
    }

    #[test]
    fn arrows_and_ctrl_keys_move_while_searching_and_tab_switches_to_j_k_browsing() {
        let mut s = composing();
        press(&mut s, "/");
        let sel = |s: &State| s.canned_picker.as_ref().unwrap().selected;
        press(&mut s, "down down");
        assert_eq!(sel(&s), 2);
        press(&mut s, "up");
        assert_eq!(sel(&s), 1);
        // While searching, j and k are letters of the search.
        type_text(&mut s, "k");
        assert_eq!(s.canned_picker.as_ref().unwrap().query, "k");
        assert_eq!(sel(&s), 0);
        press(&mut s, "backspace tab");
        assert!(s.canned_picker.as_ref().unwrap().browsing);
        press(&mut s, "j j j");
        assert_eq!(sel(&s), 3);
        press(&mut s, "k");
        assert_eq!(sel(&s), 2);
        press(&mut s, "G");
        assert_eq!(sel(&s), 5);
        press(&mut s, "j");
        assert_eq!(sel(&s), 5, "the cursor stops at the end");
        press(&mut s, "g g");
        assert_eq!(sel(&s), 0);
        // Any other letter goes back to the search.
        type_text(&mut s, "p");
        let p = s.canned_picker.as_ref().unwrap();
        assert!(!p.browsing);
        assert_eq!(p.query, "p");
        press(&mut s, "tab j enter");
        assert_eq!(s.mode, Mode::Insert);
        assert!(!s.composer.text().starts_with('/'));
    }

    #[test]
    fn fuzzy_search_ranks_shortcuts_over_titles_over_bodies() {
        let mut s = composing();
        press(&mut s, "/");
        type_text(&mut s, "purple");
        assert_eq!(shortcuts(&s), ["team:purple"]);
        press(&mut s, "ctrl-u");
        type_text(&mut s, "rfnd");
        assert_eq!(
            shortcuts(&s)[..2],
            ["team:refund", "personal:refund"],
            "letters in order match"
        );
        press(&mut s, "ctrl-u");
        type_text(&mut s, "fat32");
        assert_eq!(shortcuts(&s), ["team:fw"], "the body is searched");
        press(&mut s, "ctrl-u");
        type_text(&mut s, "zzzq");
        assert!(s.canned_visible().is_empty());
        let fx = press(&mut s, "enter");
        assert_eq!(s.mode, Mode::Canned, "nothing to insert: the picker stays");
        assert!(fx.is_empty());
    }

    #[test]
    fn variables_without_a_value_stay_visible_and_are_flagged() {
        let mut s = composing();
        s.chats.get_mut("c1").unwrap().chat.customer.email = None;
        press(&mut s, "/");
        type_text(&mut s, "refund");
        press(&mut s, "enter");
        assert_eq!(
            s.composer.text(),
            "Refunds are possible within 30 days, Ada Lovelace; we email {{customer_email}}."
        );
        let f = s.flash.clone().unwrap();
        assert_eq!(f.level, FlashLevel::Warn);
        assert!(f.text.contains("{{customer_email}}"), "{}", f.text);
    }

    #[test]
    fn colon_canned_opens_the_picker_from_normal_mode() {
        let mut s = composing();
        press(&mut s, "esc");
        assert_eq!(s.mode, Mode::Normal);
        press(&mut s, ":");
        type_text(&mut s, "canned");
        press(&mut s, "enter");
        assert_eq!(s.mode, Mode::Canned);
        press(&mut s, "enter");
        assert_eq!(s.mode, Mode::Insert);
        assert_eq!(
            s.composer.text(),
            "Thanks for contacting WZATCO, Ada! Have a great day."
        );
    }

    #[test]
    fn canned_add_saves_the_composer_text_and_rm_deletes_by_shortcut() {
        let mut s = composing();
        type_text(&mut s, "Hi {{customer_first_name}}!");
        press(&mut s, "esc :");
        type_text(&mut s, "canned add hi Short greeting");
        let fx = press(&mut s, "enter");
        assert!(
            fx.contains(&Effect::Net(NetCmd::CreateCanned(CannedInput {
                title: "Short greeting".into(),
                shortcut: "hi".into(),
                body: "Hi {{customer_first_name}}!".into(),
                category: None,
                scope: Some(CannedScope::Personal),
            }))),
            "{fx:?}"
        );
        let fx = net(
            &mut s,
            NetEvent::CannedCreated(response(
                "hi",
                "Short greeting",
                "Hi",
                CannedScope::Personal,
            )),
        );
        assert_eq!(
            fx,
            vec![Effect::Net(NetCmd::LoadCanned)],
            "refreshed after a change"
        );

        for (line, why) in [
            ("canned add Bad! Title", "shortcut"),
            ("canned add onlyshortcut", "Usage"),
            ("canned rm nope", "No canned response /nope"),
            ("canned frob", "Usage"),
        ] {
            press(&mut s, ":");
            type_text(&mut s, line);
            let fx = press(&mut s, "enter");
            assert!(fx.is_empty(), "{line}: {fx:?}");
            let f = s.flash.clone().unwrap();
            assert!(f.text.contains(why), "{line}: {}", f.text);
        }

        // The agent's own /refund is the one removed, not the team's.
        press(&mut s, ":");
        type_text(&mut s, "canned rm refund");
        let fx = press(&mut s, "enter");
        assert!(fx.contains(&Effect::Net(NetCmd::DeleteCanned {
            id: "id-refund-personal".into(),
            shortcut: "refund".into()
        })));
        let fx = net(
            &mut s,
            NetEvent::CannedDeleted {
                shortcut: "refund".into(),
            },
        );
        assert_eq!(fx, vec![Effect::Net(NetCmd::LoadCanned)]);

        // Without a body there is nothing to save.
        s.composer.textarea = crate::state::new_textarea(Vec::new());
        press(&mut s, ":");
        type_text(&mut s, "canned add x Title");
        assert!(press(&mut s, "enter").is_empty());
    }

    #[test]
    fn responses_load_at_sign_in_and_complete_on_the_command_line() {
        let mut s = State::new("http://panel.test", T0);
        let fx = crate::update::start(&mut s, None, vec![]);
        assert!(!fx.contains(&Effect::Net(NetCmd::LoadCanned)));
        let s = composing();
        let (prefix, c) = crate::update::complete(&s, "canned rm re");
        assert_eq!(
            (prefix.as_str(), c),
            ("canned rm ", vec!["refund".to_owned()])
        );
        let (prefix, c) = crate::update::complete(&s, "canned ");
        assert_eq!(
            (prefix.as_str(), c),
            ("canned ", vec!["add".to_owned(), "rm".to_owned()])
        );
        let mut fresh = State::new("http://panel.test", T0);
        let fx = net(
            &mut fresh,
            NetEvent::LoggedIn(crate::state::Session {
                server: "http://panel.test".into(),
                token: "t".into(),
                agent: s.me().unwrap().clone(),
                expires_at: None,
            }),
        );
        assert!(fx.contains(&Effect::Net(NetCmd::LoadCanned)));
    }
}
