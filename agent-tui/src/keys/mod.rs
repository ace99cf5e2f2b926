//! Keymaps as data: the default bindings per context (global, per view, per mode), the
//! user's overrides from the config file, and the resolution of key sequences (`g g`)
//! into actions.

mod defaults;
pub mod key;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::state::ViewId;
use crate::views;
pub use key::{Code, KeyPress, seq_to_string};

/// Where a binding applies. In normal mode the active view's own keys are tried
/// first, then the global ones. Command line, search and login fields take text, so
/// only their fixed editing keys apply there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeyContext {
    /// Normal mode in every view (`[keymap.normal]`).
    Normal,
    /// Normal mode in one view (`[keymap.chats]`, `[keymap.notifications]`…).
    View(ViewId),
    Insert,
    Picker,
    /// The canned-response picker while typing its search.
    Canned,
    /// The canned-response picker while browsing its list.
    CannedBrowse,
}

impl KeyContext {
    /// Every context, in the order the help lists them.
    pub fn all() -> Vec<KeyContext> {
        let mut v = vec![KeyContext::Normal];
        v.extend(views::all().map(|view| KeyContext::View(view.id())));
        v.extend([
            KeyContext::Insert,
            KeyContext::Picker,
            KeyContext::Canned,
            KeyContext::CannedBrowse,
        ]);
        v
    }

    /// The table name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Normal => "normal",
            KeyContext::View(v) => v.name(),
            KeyContext::Insert => "insert",
            KeyContext::Picker => "picker",
            KeyContext::Canned => "canned",
            KeyContext::CannedBrowse => "canned_browse",
        }
    }

    pub fn title(self) -> String {
        match self {
            KeyContext::Normal => "Global keys (normal mode, every view)".into(),
            KeyContext::View(v) => {
                format!("{} view (normal mode, before the global keys)", v.title())
            }
            KeyContext::Insert => "Composer (insert mode)".into(),
            KeyContext::Picker => "Pickers".into(),
            KeyContext::Canned => "Canned responses (typing the search)".into(),
            KeyContext::CannedBrowse => "Canned responses (browsing the list)".into(),
        }
    }
}

impl TryFrom<String> for KeyContext {
    type Error = String;
    fn try_from(s: String) -> Result<KeyContext, String> {
        KeyContext::all()
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = KeyContext::all()
                    .into_iter()
                    .map(KeyContext::name)
                    .collect();
                format!("unknown keymap {s:?} (one of {})", names.join(", "))
            })
    }
}

impl From<KeyContext> for String {
    fn from(c: KeyContext) -> String {
        c.name().to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<KeyPress>,
    pub action: Action,
}

/// The result of feeding the keys typed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Action(Action),
    /// A prefix of a longer binding (`g` of `g g`): wait for the next key.
    Pending,
    Unbound,
}

/// `[keymap.normal]` → `{"ctrl-j" = "move_down", "x" = "none"}` in the config file.
pub type KeymapConfig = BTreeMap<KeyContext, BTreeMap<String, String>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    maps: BTreeMap<KeyContext, Vec<Binding>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

impl Keymap {
    pub fn defaults() -> Keymap {
        let mut maps = BTreeMap::new();
        for ctx in KeyContext::all() {
            let mut list: Vec<Binding> = defaults::bindings(ctx)
                .iter()
                .filter_map(|(k, a)| {
                    KeyPress::parse_seq(k)
                        .ok()
                        .map(|keys| Binding { keys, action: *a })
                })
                .collect();
            if ctx == KeyContext::Normal {
                // `g` then the view's letter, for every view (reserved ones answer
                // that they are not there yet).
                list.extend(ViewId::all().map(|v| Binding {
                    keys: vec![KeyPress::ch('g'), KeyPress::ch(v.key())],
                    action: Action::GoTo(v),
                }));
            }
            maps.insert(ctx, list);
        }
        Keymap { maps }
    }

    /// The defaults with the user's overrides applied. Bad entries are skipped and
    /// reported, so one typo never locks an agent out of the console.
    pub fn with_overrides(cfg: &KeymapConfig) -> (Keymap, Vec<String>) {
        let mut km = Keymap::defaults();
        let mut errors = Vec::new();
        // The map is ordered: `normal` comes before the views, so a view's own table
        // can take back a key that a global binding took from it.
        for (ctx, table) in cfg {
            for (keys, action) in table {
                if let Err(e) = km.bind_str(*ctx, keys, action) {
                    errors.push(format!("keymap.{}: {e}", ctx.name()));
                }
            }
        }
        (km, errors)
    }

    /// Binds (or with `none` unbinds) one key sequence. A global (normal) binding
    /// also takes its keys from every view, so it works wherever the agent is.
    pub fn bind_str(&mut self, ctx: KeyContext, keys: &str, action: &str) -> Result<(), String> {
        let seq = KeyPress::parse_seq(keys)?;
        let action = action.trim();
        // A binding shadows every binding it is a prefix of, and every binding that is a
        // prefix of it: otherwise one of them could never be typed.
        let clashes = |b: &Binding| b.keys.starts_with(&seq) || seq.starts_with(&b.keys);
        if ctx == KeyContext::Normal {
            for (c, list) in &mut self.maps {
                if matches!(c, KeyContext::View(_)) {
                    list.retain(|b| !clashes(b));
                }
            }
        }
        let list = self.maps.entry(ctx).or_default();
        list.retain(|b| !clashes(b));
        if action == "none" || action.is_empty() {
            return Ok(());
        }
        let action = Action::parse(action)
            .ok_or_else(|| format!("unknown action {action:?} for {keys:?}"))?;
        list.push(Binding { keys: seq, action });
        Ok(())
    }

    pub fn resolve(&self, ctx: KeyContext, typed: &[KeyPress]) -> Resolved {
        let Some(list) = self.maps.get(&ctx) else {
            return Resolved::Unbound;
        };
        let mut pending = false;
        for b in list {
            if b.keys == typed {
                return Resolved::Action(b.action);
            }
            if b.keys.len() > typed.len() && b.keys.starts_with(typed) {
                pending = true;
            }
        }
        if pending {
            Resolved::Pending
        } else {
            Resolved::Unbound
        }
    }

    /// Resolves in each context in turn: the first that binds (or waits for more of)
    /// the keys wins.
    pub fn resolve_in(&self, ctxs: &[KeyContext], typed: &[KeyPress]) -> Resolved {
        for ctx in ctxs {
            match self.resolve(*ctx, typed) {
                Resolved::Unbound => continue,
                r => return r,
            }
        }
        Resolved::Unbound
    }

    pub fn bindings(&self, ctx: KeyContext) -> &[Binding] {
        self.maps.get(&ctx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every key sequence bound to `action`, as the user would type them.
    pub fn keys_for(&self, ctx: KeyContext, action: Action) -> Vec<String> {
        self.bindings(ctx)
            .iter()
            .filter(|b| b.action == action)
            .map(|b| seq_to_string(&b.keys))
            .collect()
    }

    /// The first key for `action` in the first context that has one, for hints.
    pub fn hint(&self, ctxs: &[KeyContext], action: Action) -> Option<String> {
        ctxs.iter()
            .find_map(|c| self.keys_for(*c, action).into_iter().next())
    }

    /// Help entries: per context, each action with all of its keys, in a stable order.
    pub fn help_entries(&self) -> Vec<(KeyContext, Vec<(String, Action)>)> {
        KeyContext::all()
            .into_iter()
            .map(|ctx| {
                let mut by_action: BTreeMap<Action, Vec<String>> = BTreeMap::new();
                for b in self.bindings(ctx) {
                    by_action
                        .entry(b.action)
                        .or_default()
                        .push(seq_to_string(&b.keys));
                }
                let rows = by_action
                    .into_iter()
                    .map(|(a, keys)| (keys.join(", "), a))
                    .collect();
                (ctx, rows)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Vec<KeyPress> {
        KeyPress::parse_seq(s).unwrap()
    }

    #[test]
    fn g_g_is_a_sequence_and_g_alone_waits() {
        let km = Keymap::defaults();
        assert_eq!(km.resolve(KeyContext::Normal, &k("g")), Resolved::Pending);
        assert_eq!(
            km.resolve(KeyContext::Normal, &k("g g")),
            Resolved::Action(Action::Top)
        );
        assert_eq!(
            km.resolve(KeyContext::Normal, &k("G")),
            Resolved::Action(Action::Bottom)
        );
        assert_eq!(km.resolve(KeyContext::Normal, &k("g z")), Resolved::Unbound);
    }

    #[test]
    fn defaults_cover_the_documented_keys() {
        let km = Keymap::defaults();
        let chats = [KeyContext::View(ViewId::Chats), KeyContext::Normal];
        for (key, action) in [
            ("j", Action::MoveDown),
            ("k", Action::MoveUp),
            ("h", Action::FocusLeft),
            ("l", Action::FocusRight),
            ("tab", Action::NextPane),
            ("shift-tab", Action::PrevPane),
            ("enter", Action::Open),
            ("i", Action::Compose),
            ("/", Action::Search),
            (":", Action::CommandLine),
            ("?", Action::Help),
            ("c", Action::Claim),
            ("x", Action::Close),
            ("n", Action::ComposeNote),
            ("t", Action::Transfer),
            ("q", Action::Quit),
        ] {
            assert_eq!(
                km.resolve_in(&chats, &k(key)),
                Resolved::Action(action),
                "{key}"
            );
        }
        for key in ["ctrl-enter", "alt-enter", "ctrl-s"] {
            assert_eq!(
                km.resolve(KeyContext::Insert, &k(key)),
                Resolved::Action(Action::Send),
                "{key}"
            );
        }
        assert_eq!(
            km.resolve(KeyContext::Insert, &k("esc")),
            Resolved::Action(Action::Normal)
        );
        // Plain enter is a newline in the composer, never a send.
        assert_eq!(
            km.resolve(KeyContext::Insert, &k("enter")),
            Resolved::Unbound
        );
    }

    #[test]
    fn view_keys_come_first_then_the_global_ones_and_g_goes_to_views() {
        let km = Keymap::defaults();
        let chats = [KeyContext::View(ViewId::Chats), KeyContext::Normal];
        let notif = [KeyContext::View(ViewId::Notifications), KeyContext::Normal];
        // `c` claims in the Chats view and means nothing among notifications.
        assert_eq!(
            km.resolve_in(&chats, &k("c")),
            Resolved::Action(Action::Claim)
        );
        assert_eq!(km.resolve_in(&notif, &k("c")), Resolved::Unbound);
        assert_eq!(
            km.resolve_in(&notif, &k("m")),
            Resolved::Action(Action::ToggleRead)
        );
        for ctxs in [&chats, &notif] {
            assert_eq!(km.resolve_in(ctxs, &k("g")), Resolved::Pending);
            assert_eq!(
                km.resolve_in(ctxs, &k("g g")),
                Resolved::Action(Action::Top)
            );
            for v in ViewId::all() {
                let seq = format!("g {}", v.key());
                assert_eq!(
                    km.resolve_in(ctxs, &k(&seq)),
                    Resolved::Action(Action::GoTo(v)),
                    "{seq}"
                );
            }
            assert_eq!(
                km.resolve_in(ctxs, &k("j")),
                Resolved::Action(Action::MoveDown)
            );
        }
    }

    #[test]
    fn the_dashboard_has_its_keys_and_takes_overrides() {
        let dash = [KeyContext::View(ViewId::Dashboard), KeyContext::Normal];
        let km = Keymap::default();
        for (key, a) in [
            ("r", Action::Refresh),
            ("n", Action::NewTicket),
            ("q", Action::FocusQueue),
        ] {
            assert_eq!(km.resolve_in(&dash, &k(key)), Resolved::Action(a), "{key}");
        }
        let cfg: toml::Table = toml::from_str(
            r#"
            [dashboard]
            "R" = "refresh"
            "q" = "quit"
            "#,
        )
        .unwrap();
        let cfg: KeymapConfig = cfg.try_into().unwrap();
        let (km, errors) = Keymap::with_overrides(&cfg);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            km.resolve_in(&dash, &k("R")),
            Resolved::Action(Action::Refresh)
        );
        assert_eq!(
            km.resolve_in(&dash, &k("q")),
            Resolved::Action(Action::Quit)
        );
    }

    #[test]
    fn a_global_override_takes_the_key_from_every_view_and_a_view_can_take_it_back() {
        let cfg: toml::Table = toml::from_str(
            r#"
            [normal]
            "r" = "refresh"
            "x" = "none"
            [chats]
            "x" = "close"
            [notifications]
            "enter" = "toggle_read"
            "#,
        )
        .unwrap();
        let cfg: KeymapConfig = cfg.try_into().unwrap();
        let (km, errors) = Keymap::with_overrides(&cfg);
        assert!(errors.is_empty(), "{errors:?}");
        let chats = [KeyContext::View(ViewId::Chats), KeyContext::Normal];
        let notif = [KeyContext::View(ViewId::Notifications), KeyContext::Normal];
        assert_eq!(
            km.resolve_in(&chats, &k("r")),
            Resolved::Action(Action::Refresh)
        );
        assert_eq!(
            km.resolve_in(&chats, &k("x")),
            Resolved::Action(Action::Close)
        );
        assert_eq!(km.resolve_in(&notif, &k("x")), Resolved::Unbound);
        assert_eq!(
            km.resolve_in(&notif, &k("enter")),
            Resolved::Action(Action::ToggleRead)
        );
        // An unknown table is an error of the whole file, like any typo in it.
        let bad: Result<KeymapConfig, _> =
            toml::from_str::<toml::Table>("[tickets_view]\nx = \"close\"")
                .unwrap()
                .try_into();
        assert!(bad.is_err());
    }

    #[test]
    fn every_action_has_a_default_key_somewhere() {
        let km = Keymap::defaults();
        for a in Action::all() {
            let bound = KeyContext::all()
                .iter()
                .any(|c| !km.keys_for(*c, a).is_empty());
            assert!(bound, "{a:?} has no default key");
        }
    }

    #[test]
    fn toml_overrides_remap_unbind_and_report_errors() {
        let cfg: toml::Table = toml::from_str(
            r#"
            [normal]
            "ctrl-j" = "move_down"
            "g" = "top"
            "x" = "none"
            "z" = "no_such_action"
            [insert]
            "ctrl-enter" = "none"
            "f5" = "send"
            "#,
        )
        .unwrap();
        let cfg: KeymapConfig = cfg.try_into().unwrap();
        let (km, errors) = Keymap::with_overrides(&cfg);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("no_such_action"));
        let n = KeyContext::Normal;
        assert_eq!(
            km.resolve(n, &k("ctrl-j")),
            Resolved::Action(Action::MoveDown)
        );
        // `j` still works: remapping adds, it does not remove other keys.
        assert_eq!(km.resolve(n, &k("j")), Resolved::Action(Action::MoveDown));
        // `g` alone now means top, and the old `g g` is gone rather than unreachable.
        assert_eq!(km.resolve(n, &k("g")), Resolved::Action(Action::Top));
        assert_eq!(km.resolve(n, &k("x")), Resolved::Unbound);
        let i = KeyContext::Insert;
        assert_eq!(km.resolve(i, &k("ctrl-enter")), Resolved::Unbound);
        assert_eq!(km.resolve(i, &k("f5")), Resolved::Action(Action::Send));
        assert_eq!(km.resolve(i, &k("ctrl-s")), Resolved::Action(Action::Send));
    }
}
