//! The terminal loop: raw mode and the alternate screen (restored on every exit and
//! on panic), then `select!` over terminal events, network messages and a tick;
//! everything pending is applied before one redraw, at most every ~10 ms.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, EnableBracketedPaste, EnableFocusChange, Event,
    EventStream, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use futures_util::{FutureExt, StreamExt};
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::mpsc;

use crate::config::{self, FileConfig};
use crate::effect::Effect;
use crate::keys::Keymap;
use crate::msg::Msg;
use crate::net::Net;
use crate::state::{FlashLevel, OutboxItem, Session, State, ThemeName};
use crate::{ui, update};

const FRAME: Duration = Duration::from_millis(10);
const TICK: Duration = Duration::from_millis(250);

pub struct Options {
    pub server: String,
    pub dir: PathBuf,
    pub config: FileConfig,
    /// Lines shown at the top of the help overlay (the demo's addresses).
    pub banner: Vec<String>,
    /// A session to use instead of the saved one (the demo signs in itself).
    pub session: Option<Session>,
    pub utc_offset: UtcOffset,
    /// A message for the message line at start.
    pub greeting: Option<String>,
}

/// Puts the terminal back the way it was. Runs on drop, so every return path and
/// every `?` restores; the panic hook calls it before the panic message prints.
struct TerminalGuard {
    enhanced: bool,
}

fn restore_terminal(enhanced: bool) {
    let mut out = std::io::stdout();
    if enhanced {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(out, DisableBracketedPaste, DisableFocusChange);
    ratatui::restore();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal(self.enhanced);
    }
}

fn install_panic_hook(enhanced: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal(enhanced);
        previous(info);
    }));
}

struct Runner {
    net: Net,
    dir: PathBuf,
    bell: bool,
    desktop: bool,
    focused: bool,
    /// Whose outbox file we write (kept after a sign-out so nothing is lost).
    owner: Option<(String, String)>,
}

impl Runner {
    fn run_effects(&mut self, state: &State, fx: Vec<Effect>) {
        if let Some(s) = &state.session {
            self.owner = Some((s.server.clone(), s.agent.id.clone()));
        }
        for e in fx {
            match e {
                Effect::Net(cmd) => self.net.send(cmd),
                Effect::SaveOutbox(items) => self.save_outbox(&items),
                Effect::SaveSession(s) => {
                    let _ = config::save_session(&self.dir, &s);
                }
                Effect::ClearSession => {
                    let _ = config::clear_session(&self.dir);
                }
                Effect::Bell => {
                    if self.bell {
                        write_raw("\x07");
                    }
                }
                Effect::Notify { title, body } => {
                    if self.desktop && !self.focused {
                        write_raw(&osc9(&title, &body));
                    }
                }
                Effect::Clipboard(text) => write_raw(&osc52(&text)),
                Effect::Quit => {}
            }
        }
    }

    fn save_outbox(&self, items: &[OutboxItem]) {
        if let Some((server, agent)) = &self.owner {
            let _ = config::save_outbox(&self.dir, server, agent, items);
        }
    }
}

fn write_raw(s: &str) {
    let mut out = std::io::stdout();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// What every desktop notification starts with. ConEmu and Windows Terminal read
/// `ESC ]9;<digits>;…` as a sub-command (progress bar, working directory, …), so
/// text that starts with customer input (`"{name} wrote"`) must never come directly
/// after the introducer.
const NOTIFY_PREFIX: &str = "Agent Panel: ";

/// At most this many characters of title and body are shown after the prefix.
const NOTIFY_MAX: usize = 200;

/// OSC 9 desktop notification: the fixed prefix, then title and body on one line
/// without escape sequences, control characters (ESC, BEL, ST), bidi controls or
/// invisible characters, so nothing in them can end or extend the sequence.
fn osc9(title: &str, body: &str) -> String {
    let text: String = shared::text::sanitize_line(&format!("{title}: {body}"))
        .chars()
        .filter(|&c| !c.is_control() && !shared::text::is_forbidden(c))
        .take(NOTIFY_MAX)
        .collect();
    format!("\x1b]9;{NOTIFY_PREFIX}{text}\x07")
}

/// OSC 52: puts `text` on the system clipboard (works over SSH in most terminals).
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Builds the initial state from the options (shared by the app and tests).
pub fn initial_state(opts: &Options, now: OffsetDateTime) -> (State, Vec<String>) {
    let mut state = State::new(opts.server.clone(), now);
    state.utc_offset = opts.utc_offset;
    state.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    state.banner = opts.banner.clone();
    let mut warnings = Vec::new();
    if let Some(t) = &opts.config.theme {
        match ThemeName::parse(t) {
            Some(t) => state.theme = t,
            None => warnings.push(format!("config: unknown theme {t:?}")),
        }
    }
    let (km, errs) = Keymap::with_overrides(&opts.config.keymap);
    state.keymap = km;
    warnings.extend(errs);
    (state, warnings)
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let (mut state, warnings) = initial_state(&opts, now);
    let session = opts
        .session
        .clone()
        .or_else(|| config::load_session(&opts.dir).filter(|s| s.server == opts.server));
    let outbox = session
        .as_ref()
        .map(|s| config::load_outbox(&opts.dir, &s.server, &s.agent.id))
        .unwrap_or_default();

    let mut terminal = ratatui::init();
    let enhanced = crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false);
    let _guard = TerminalGuard { enhanced };
    install_panic_hook(enhanced);
    {
        let mut out = std::io::stdout();
        execute!(out, EnableBracketedPaste, EnableFocusChange)?;
        if enhanced {
            execute!(
                out,
                PushKeyboardEnhancementFlags(
                    KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES
                        | KeyboardEnhancementFlags::REPORT_ALTERNATE_KEYS
                )
            )?;
        }
    }
    state.enhanced_keys = enhanced;
    let size = terminal.size()?;
    state.width = size.width;

    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let mut runner = Runner {
        net: Net::spawn(msg_tx),
        dir: opts.dir.clone(),
        bell: opts.config.bell.unwrap_or(true),
        desktop: opts.config.desktop_notifications.unwrap_or(true),
        focused: true,
        owner: session
            .as_ref()
            .map(|s| (s.server.clone(), s.agent.id.clone())),
    };
    let fx = update::start(&mut state, session, outbox);
    if let Some(g) = &opts.greeting {
        update::flash(&mut state, FlashLevel::Info, g.clone());
    }
    if !warnings.is_empty() {
        update::flash(&mut state, FlashLevel::Warn, warnings.join("; "));
    }
    runner.run_effects(&state, fx);

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| ui::render(&state, f))?;
            dirty = false;
            last_draw = Instant::now();
        }
        let next_draw = last_draw + FRAME;
        let mut batch: Vec<Msg> = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => batch.extend(term_msg(ev, &mut runner)),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(m) = msg_rx.recv() => batch.push(m),
            _ = tick.tick() => batch.push(Msg::Tick(OffsetDateTime::now_utc())),
            _ = tokio::time::sleep_until(next_draw.into()), if dirty => {}
        }
        // Drain whatever else is ready, then draw once.
        while let Ok(m) = msg_rx.try_recv() {
            batch.push(m);
        }
        while let Some(Some(Ok(ev))) = events.next().now_or_never() {
            batch.extend(term_msg(ev, &mut runner));
        }
        if !batch.is_empty() {
            dirty = true;
        }
        for m in batch {
            state.now = OffsetDateTime::now_utc();
            let fx = update::update(&mut state, m);
            runner.run_effects(&state, fx);
        }
        if state.quit {
            break;
        }
    }
    Ok(())
}

fn term_msg(ev: Event, runner: &mut Runner) -> Option<Msg> {
    match ev {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Paste(s) => Some(Msg::Paste(s)),
        Event::Resize(w, h) => Some(Msg::Resize {
            width: w,
            height: h,
        }),
        Event::FocusGained => {
            runner.focused = true;
            None
        }
        Event::FocusLost => {
            runner.focused = false;
            None
        }
        Event::Mouse(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }

    /// A customer named like an OSC 9 sub-command (`4;3;50` sets a progress bar in
    /// Windows Terminal, `9;C:\x` changes ConEmu's directory) or carrying its own
    /// escape sequence, writing to one of the agent's chats while the terminal is
    /// unfocused: the notification the console writes starts with the fixed prefix
    /// and holds exactly one ESC and one BEL, its own.
    #[test]
    fn osc9_never_lets_customer_text_follow_the_introducer() {
        use crate::update::tests::{message, signed_in};
        use shared::events::{MessageEvent, ServerEvent};
        use shared::model::{AuthorKind, ChatStatus};

        for name in ["4;3;50", "9;C:\\x", ";", "\x1b]0;evil\x07"] {
            let mut s = signed_in();
            let mut c = crate::update::tests::chat("c1", name, ChatStatus::Active, Some("me"));
            c.last_seq = 1;
            update::update(
                &mut s,
                Msg::Net(crate::msg::NetEvent::Chats(
                    crate::msg::ChatReply::ListLoaded {
                        status: ChatStatus::Active,
                        chats: vec![c],
                    },
                )),
            );
            let fx = update::update(
                &mut s,
                Msg::Net(crate::msg::NetEvent::Push(ServerEvent::MessageNew(
                    MessageEvent {
                        event_id: 1,
                        message: message(
                            "c1",
                            2,
                            AuthorKind::Customer,
                            "hello\x07\x1b]9;4;3;50\x07",
                        ),
                    },
                ))),
            );
            let (title, body) = fx
                .iter()
                .find_map(|e| match e {
                    Effect::Notify { title, body } => Some((title.clone(), body.clone())),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no notification for {name:?}: {fx:?}"));
            let out = osc9(&title, &body);
            assert!(
                out.starts_with("\x1b]9;Agent Panel: "),
                "{name:?} -> {out:?}"
            );
            assert!(out.ends_with('\x07'), "{out:?}");
            assert_eq!(out.matches('\x1b').count(), 1, "{out:?}");
            assert_eq!(out.matches('\x07').count(), 1, "{out:?}");
            let inner = &out["\x1b]9;".len()..out.len() - 1];
            assert!(
                !inner
                    .chars()
                    .any(|c| c.is_control() || shared::text::is_forbidden(c)),
                "{out:?}"
            );
            assert!(inner.contains("wrote"), "{out:?}");
        }
    }

    #[test]
    fn osc9_is_one_short_line_without_controls_or_bidi() {
        let out = osc9(
            "New chat\nwaiting",
            &format!("Ev\u{202E}e\u{9c}\t{}", "x".repeat(500)),
        );
        assert!(
            out.starts_with("\x1b]9;Agent Panel: New chat waiting: Eve x"),
            "{out:?}"
        );
        assert!(!out.contains('\u{202E}') && !out.contains('\u{9c}') && !out.contains('\n'));
        assert_eq!(
            out.chars().count(),
            "\x1b]9;".len() + NOTIFY_PREFIX.len() + NOTIFY_MAX + 1
        );
    }
}
