//! Keymaps as data: the default bindings per context, the user's overrides from the
//! config file, and the resolution of key sequences (`g g`) into actions.

mod defaults;
pub mod key;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::action::Action;
pub use key::{Code, KeyPress, seq_to_string};

/// Where a binding applies. Command line, search and login fields take text, so
/// only their fixed editing keys apply there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyContext {
    Normal,
    Insert,
    Picker,
    /// The canned-response picker while typing its search.
    Canned,
    /// The canned-response picker while browsing its list.
    CannedBrowse,
}

impl KeyContext {
    pub const ALL: [KeyContext; 5] = [
        KeyContext::Normal,
        KeyContext::Insert,
        KeyContext::Picker,
        KeyContext::Canned,
        KeyContext::CannedBrowse,
    ];

    pub fn title(self) -> &'static str {
        match self {
            KeyContext::Normal => "Normal mode",
            KeyContext::Insert => "Composer (insert mode)",
            KeyContext::Picker => "Pickers",
            KeyContext::Canned => "Canned responses (typing the search)",
            KeyContext::CannedBrowse => "Canned responses (browsing the list)",
        }
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
        for ctx in KeyContext::ALL {
            let list = defaults::bindings(ctx)
                .iter()
                .filter_map(|(k, a)| {
                    KeyPress::parse_seq(k)
                        .ok()
                        .map(|keys| Binding { keys, action: *a })
                })
                .collect();
            maps.insert(ctx, list);
        }
        Keymap { maps }
    }

    /// The defaults with the user's overrides applied. Bad entries are skipped and
    /// reported, so one typo never locks an agent out of the console.
    pub fn with_overrides(cfg: &KeymapConfig) -> (Keymap, Vec<String>) {
        let mut km = Keymap::defaults();
        let mut errors = Vec::new();
        for (ctx, table) in cfg {
            for (keys, action) in table {
                if let Err(e) = km.bind_str(*ctx, keys, action) {
                    errors.push(format!("keymap.{}: {e}", ctx_name(*ctx)));
                }
            }
        }
        (km, errors)
    }

    /// Binds (or with `none` unbinds) one key sequence.
    pub fn bind_str(&mut self, ctx: KeyContext, keys: &str, action: &str) -> Result<(), String> {
        let seq = KeyPress::parse_seq(keys)?;
        let action = action.trim();
        let list = self.maps.entry(ctx).or_default();
        // A binding shadows every binding it is a prefix of, and every binding that is a
        // prefix of it: otherwise one of them could never be typed.
        list.retain(|b| !(b.keys.starts_with(&seq) || seq.starts_with(&b.keys)));
        if action == "none" || action.is_empty() {
            return Ok(());
        }
        let action: Action = serde_json::from_value(serde_json::Value::String(action.to_owned()))
            .map_err(|_| format!("unknown action {action:?} for {keys:?}"))?;
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

    /// The first key for `action`, for hints; `:` plus the command when unbound.
    pub fn hint(&self, ctx: KeyContext, action: Action) -> Option<String> {
        self.keys_for(ctx, action).into_iter().next()
    }

    /// Help entries: per context, each action with all of its keys, in a stable order.
    pub fn help_entries(&self) -> Vec<(KeyContext, Vec<(String, Action)>)> {
        KeyContext::ALL
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

fn ctx_name(ctx: KeyContext) -> &'static str {
    match ctx {
        KeyContext::Normal => "normal",
        KeyContext::Insert => "insert",
        KeyContext::Picker => "picker",
        KeyContext::Canned => "canned",
        KeyContext::CannedBrowse => "canned_browse",
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
        let n = KeyContext::Normal;
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
            assert_eq!(km.resolve(n, &k(key)), Resolved::Action(action), "{key}");
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
    fn every_action_has_a_default_key_somewhere() {
        let km = Keymap::defaults();
        for a in Action::ALL {
            let bound = KeyContext::ALL
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
