//! One key press, normalised from crossterm, with the text syntax the config file
//! uses (`j`, `G`, `ctrl-s`, `alt-enter`, `shift-tab`, `pagedown`).

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPress {
    pub code: Code,
    pub ctrl: bool,
    pub alt: bool,
    /// Only for non-character keys: a shifted letter is its capital.
    pub shift: bool,
}

impl KeyPress {
    pub const fn plain(code: Code) -> Self {
        KeyPress {
            code,
            ctrl: false,
            alt: false,
            shift: false,
        }
    }

    pub const fn ch(c: char) -> Self {
        KeyPress::plain(Code::Char(c))
    }

    pub const fn ctrl(code: Code) -> Self {
        KeyPress {
            code,
            ctrl: true,
            alt: false,
            shift: false,
        }
    }

    pub const fn alt(code: Code) -> Self {
        KeyPress {
            code,
            ctrl: false,
            alt: true,
            shift: false,
        }
    }

    /// Normalises a crossterm event; `None` for keys the console never binds.
    pub fn from_event(ev: &KeyEvent) -> Option<KeyPress> {
        let m = ev.modifiers;
        let mut shift = m.contains(KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                // The character already carries the shift (and the kitty protocol's
                // alternate keys report `G` as `g` + shift).
                let c = if shift && c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                shift = false;
                Code::Char(c)
            }
            KeyCode::Enter => Code::Enter,
            KeyCode::Esc => Code::Esc,
            KeyCode::Tab if shift => {
                shift = false;
                Code::BackTab
            }
            KeyCode::Tab => Code::Tab,
            KeyCode::BackTab => {
                shift = false;
                Code::BackTab
            }
            KeyCode::Backspace => Code::Backspace,
            KeyCode::Delete => Code::Delete,
            KeyCode::Up => Code::Up,
            KeyCode::Down => Code::Down,
            KeyCode::Left => Code::Left,
            KeyCode::Right => Code::Right,
            KeyCode::Home => Code::Home,
            KeyCode::End => Code::End,
            KeyCode::PageUp => Code::PageUp,
            KeyCode::PageDown => Code::PageDown,
            KeyCode::Insert => Code::Insert,
            KeyCode::F(n) => Code::F(n),
            _ => return None,
        };
        Some(KeyPress {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift,
        })
    }

    /// Parses one key: `j`, `G`, `?`, `ctrl-s`, `alt-enter`, `shift-tab`, `space`.
    pub fn parse(s: &str) -> Result<KeyPress, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty key".into());
        }
        // A lone "-" is the minus key; otherwise '-' separates modifiers.
        let mut parts: Vec<&str> = if s == "-" {
            vec!["-"]
        } else {
            s.split('-').collect()
        };
        if parts.iter().any(|p| p.is_empty()) {
            // "ctrl--" means ctrl and the minus key.
            if let Some(head) = s.strip_suffix("--") {
                parts = head.split('-').collect();
                parts.push("-");
            } else {
                return Err(format!("cannot read key {s:?}"));
            }
        }
        let Some((last, mods)) = parts.split_last() else {
            return Err(format!("cannot read key {s:?}"));
        };
        let mut kp = KeyPress::plain(Code::Enter);
        for m in mods {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "c" | "control" => kp.ctrl = true,
                "alt" | "a" | "meta" | "m" => kp.alt = true,
                "shift" | "s" => kp.shift = true,
                other => return Err(format!("unknown modifier {other:?} in {s:?}")),
            }
        }
        let lower = last.to_ascii_lowercase();
        kp.code = match lower.as_str() {
            "enter" | "return" | "cr" => Code::Enter,
            "esc" | "escape" => Code::Esc,
            "tab" => Code::Tab,
            "backtab" => Code::BackTab,
            "backspace" | "bs" => Code::Backspace,
            "delete" | "del" => Code::Delete,
            "up" => Code::Up,
            "down" => Code::Down,
            "left" => Code::Left,
            "right" => Code::Right,
            "home" => Code::Home,
            "end" => Code::End,
            "pageup" | "pgup" => Code::PageUp,
            "pagedown" | "pgdn" => Code::PageDown,
            "insert" | "ins" => Code::Insert,
            "space" => Code::Char(' '),
            "minus" => Code::Char('-'),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                Code::F(f[1..].parse::<u8>().unwrap_or(1))
            }
            _ => {
                let mut chars = last.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Code::Char(c),
                    _ => return Err(format!("unknown key {last:?} in {s:?}")),
                }
            }
        };
        if let Code::Char(c) = kp.code {
            if kp.shift {
                kp.shift = false;
                kp.code = Code::Char(c.to_ascii_uppercase());
            }
            // Terminals report ctrl-letter in lower case.
            if kp.ctrl && c.is_ascii_uppercase() && !kp.alt {
                kp.code = Code::Char(c.to_ascii_lowercase());
            }
        }
        if kp.code == Code::Tab && kp.shift {
            kp.code = Code::BackTab;
            kp.shift = false;
        }
        Ok(kp)
    }

    /// Parses a sequence: `g g`, `ctrl-w l`.
    pub fn parse_seq(s: &str) -> Result<Vec<KeyPress>, String> {
        let keys: Result<Vec<_>, _> = s.split_whitespace().map(KeyPress::parse).collect();
        let keys = keys?;
        if keys.is_empty() {
            return Err("empty key sequence".into());
        }
        Ok(keys)
    }
}

impl fmt::Display for KeyPress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            Code::Char(' ') => f.write_str("space"),
            Code::Char(c) => write!(f, "{c}"),
            Code::Enter => f.write_str("enter"),
            Code::Esc => f.write_str("esc"),
            Code::Tab => f.write_str("tab"),
            Code::BackTab => f.write_str("shift-tab"),
            Code::Backspace => f.write_str("backspace"),
            Code::Delete => f.write_str("delete"),
            Code::Up => f.write_str("up"),
            Code::Down => f.write_str("down"),
            Code::Left => f.write_str("left"),
            Code::Right => f.write_str("right"),
            Code::Home => f.write_str("home"),
            Code::End => f.write_str("end"),
            Code::PageUp => f.write_str("pageup"),
            Code::PageDown => f.write_str("pagedown"),
            Code::Insert => f.write_str("insert"),
            Code::F(n) => write!(f, "f{n}"),
        }
    }
}

/// Formats a sequence the way the config file writes it.
pub fn seq_to_string(keys: &[KeyPress]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: m,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn parses_and_prints_round_trip() {
        for s in [
            "j",
            "G",
            "?",
            ":",
            "/",
            "ctrl-s",
            "alt-enter",
            "ctrl-enter",
            "shift-tab",
            "space",
            "pagedown",
            "f1",
            "ctrl-d",
            "enter",
            "esc",
        ] {
            let k = KeyPress::parse(s).unwrap();
            assert_eq!(k.to_string(), s, "{s}");
        }
        assert_eq!(KeyPress::parse("shift-g").unwrap(), KeyPress::ch('G'));
        assert_eq!(
            KeyPress::parse("ctrl-S").unwrap(),
            KeyPress::ctrl(Code::Char('s'))
        );
        assert_eq!(KeyPress::parse("-").unwrap(), KeyPress::ch('-'));
        assert!(KeyPress::parse("hyper-x").is_err());
        assert!(KeyPress::parse("nokey").is_err());
        assert_eq!(
            KeyPress::parse_seq("g g").unwrap(),
            vec![KeyPress::ch('g'), KeyPress::ch('g')]
        );
    }

    #[test]
    fn normalises_crossterm_shift() {
        let g = KeyPress::from_event(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(g, KeyPress::ch('G'));
        // Kitty alternate-key reporting: base key plus shift.
        let g2 = KeyPress::from_event(&ev(KeyCode::Char('g'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(g2, KeyPress::ch('G'));
        let bt = KeyPress::from_event(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)).unwrap();
        assert_eq!(bt, KeyPress::plain(Code::BackTab));
        let ce = KeyPress::from_event(&ev(KeyCode::Enter, KeyModifiers::CONTROL)).unwrap();
        assert_eq!(ce, KeyPress::parse("ctrl-enter").unwrap());
    }
}
