//! The `:` command line: what a command is, the registry (the active view's commands,
//! then the global ones), running a line, completion, and the global commands.

use shared::model::AgentStatus;

use super::{apply, flash, go_to, picker};
use crate::action::Action;
use crate::effect::{DirectoryCmd, Effect, SessionCmd};
use crate::state::{ConnState, FlashLevel, Mode, State, ThemeName, ViewId};
use crate::views::{self, SessionChange};

/// Completes an argument: the part of it kept, and the candidates for the rest.
pub type Complete = fn(&State, &str) -> (String, Vec<String>);

/// One `:` command.
pub struct Command {
    pub name: &'static str,
    /// Other names that run it (`:q`), not offered by completion.
    pub aliases: &'static [&'static str],
    /// The argument syntax, for the help.
    pub args: &'static str,
    pub help: &'static str,
    /// It acts on a chat: the command line names that chat before Enter.
    pub targets_chat: bool,
    /// Runs it with the rest of the line (trimmed).
    pub run: fn(&mut State, &str, &mut Vec<Effect>),
    pub complete: Complete,
}

impl Command {
    pub const fn new(
        name: &'static str,
        args: &'static str,
        help: &'static str,
        run: fn(&mut State, &str, &mut Vec<Effect>),
    ) -> Command {
        Command {
            name,
            aliases: &[],
            args,
            help,
            targets_chat: false,
            run,
            complete: no_completion,
        }
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Command {
        self.aliases = aliases;
        self
    }

    pub const fn on_chat(mut self) -> Command {
        self.targets_chat = true;
        self
    }

    pub const fn completes(mut self, f: Complete) -> Command {
        self.complete = f;
        self
    }

    fn answers(&self, word: &str) -> bool {
        self.name == word || self.aliases.contains(&word)
    }

    /// `:name args`, as the help shows it.
    pub fn syntax(&self) -> String {
        if self.args.is_empty() {
            format!(":{}", self.name)
        } else {
            format!(":{} {}", self.name, self.args)
        }
    }
}

fn no_completion(_: &State, _: &str) -> (String, Vec<String>) {
    (String::new(), Vec::new())
}

/// Candidates among fixed words that start like `arg` (case-insensitive).
pub(crate) fn words<'a>(arg: &str, list: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let arg = arg.to_lowercase();
    list.into_iter()
        .filter(|w| w.to_lowercase().starts_with(&arg))
        .map(str::to_owned)
        .collect()
}

/// The commands of every scope, for the help: global first, then each view's.
pub fn scopes() -> Vec<(String, &'static [Command])> {
    let mut v = vec![("global".to_owned(), GLOBAL)];
    for view in views::all() {
        if !view.commands().is_empty() {
            v.push((format!("{} view", view.id().title()), view.commands()));
        }
    }
    v
}

/// The commands that work here: the active view's, then the global ones.
fn available(state: &State) -> impl Iterator<Item = &'static Command> {
    views::active(state).commands().iter().chain(GLOBAL)
}

/// The command a word runs in the active view, if any.
pub fn find(state: &State, word: &str) -> Option<&'static Command> {
    available(state).find(|c| c.answers(word))
}

pub fn execute(state: &mut State, line: &str, fx: &mut Vec<Effect>) {
    let (cmd, rest) = match line.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (line, ""),
    };
    if let Some(c) = find(state, cmd) {
        (c.run)(state, rest, fx);
        return;
    }
    let elsewhere = views::all().find(|v| v.commands().iter().any(|c| c.answers(cmd)));
    let text = match elsewhere {
        Some(v) => format!(
            ":{cmd} belongs to the {} view — g {} goes there",
            v.id().title(),
            v.id().key()
        ),
        None => format!("Unknown command {cmd:?} — Tab completes, :help lists them"),
    };
    flash(state, FlashLevel::Warn, text);
}

/// The part of `input` kept while completing, and the candidates for the rest.
pub fn complete(state: &State, input: &str) -> (String, Vec<String>) {
    let Some((cmd, arg)) = input.split_once(' ') else {
        let names = available(state)
            .map(|c| c.name.to_owned())
            .filter(|n| n.starts_with(input))
            .collect();
        return (String::new(), names);
    };
    match find(state, cmd) {
        Some(c) => {
            let (kept, cands) = (c.complete)(state, arg);
            (format!("{cmd} {kept}"), cands)
        }
        None => (format!("{cmd} "), Vec::new()),
    }
}

/// Tab / Shift+Tab in the command line.
pub fn cycle_completion(state: &mut State, forward: bool) {
    if state.command.completion_idx.is_none() {
        let base = state.command.input.clone();
        let (prefix, cands) = complete(state, &base);
        if cands.is_empty() {
            return;
        }
        if cands.len() == 1 {
            let only = &cands[0];
            let is_cmd = prefix.is_empty();
            state.command.input = format!("{prefix}{only}{}", if is_cmd { " " } else { "" });
            state.command.completions.clear();
            return;
        }
        state.command.completion_base = Some(base);
        state.command.completions = cands.iter().map(|c| format!("{prefix}{c}")).collect();
        let idx = if forward { 0 } else { cands.len() - 1 };
        state.command.completion_idx = Some(idx);
        state.command.input = state.command.completions[idx].clone();
        return;
    }
    let n = state.command.completions.len();
    if n == 0 {
        return;
    }
    let i = state.command.completion_idx.unwrap_or(0);
    let next = if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    };
    state.command.completion_idx = Some(next);
    state.command.input = state.command.completions[next].clone();
}

/// Commands that work in every view.
pub const GLOBAL: &[Command] = &[
    Command::new(
        "status",
        "<online|away|busy|dnd|in_meeting|on_leave|offline>",
        "set your status",
        status,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, AgentStatus::ALL.map(AgentStatus::as_str)),
        )
    }),
    Command::new(
        "view",
        "<chats|notifications|…>",
        "show a view (also g c, g n…)",
        view,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, views::all().map(|v| v.id().name())),
        )
    }),
    Command::new(
        "notifications",
        "",
        "the notifications view (like g n)",
        |s, _, fx| apply(s, Action::Notifications, fx),
    ),
    Command::new(
        "theme",
        "<dark|light|high-contrast>",
        "switch colours",
        theme,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, ThemeName::ALL.map(ThemeName::as_str)),
        )
    }),
    Command::new("refresh", "", "reload lists from the server", |s, _, fx| {
        apply(s, Action::Refresh, fx)
    }),
    Command::new("help", "", "show every key and command", |s, _, fx| {
        apply(s, Action::Help, fx)
    }),
    Command::new("logout", "", "sign out and forget the session", logout),
    Command::new("quit", "", "leave the console (also :q)", |s, _, fx| {
        apply(s, Action::Quit, fx)
    })
    .aliases(&["q", "qa", "wq"]),
];

fn status(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if rest.is_empty() {
        picker::open_status_picker(state);
        return;
    }
    match rest.replace(' ', "_").parse::<AgentStatus>() {
        Ok(s) => fx.push(DirectoryCmd::Presence(s).into()),
        Err(e) => flash(state, FlashLevel::Warn, e),
    }
}

fn view(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let names: Vec<&str> = views::all().map(|v| v.id().name()).collect();
    match ViewId::parse(rest) {
        Some(v) => go_to(state, v, fx),
        None if rest.is_empty() => flash(
            state,
            FlashLevel::Warn,
            format!("Usage: :view {} (Tab completes)", names.join("|")),
        ),
        None => flash(
            state,
            FlashLevel::Warn,
            format!("No view named {rest:?}: {}", names.join(", ")),
        ),
    }
}

fn theme(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match ThemeName::parse(rest) {
        Some(t) => state.theme = t,
        None if rest.is_empty() => apply(state, Action::CycleTheme, fx),
        None => flash(
            state,
            FlashLevel::Warn,
            "Usage: :theme dark|light|high-contrast",
        ),
    }
}

fn logout(state: &mut State, _rest: &str, fx: &mut Vec<Effect>) {
    for v in views::all() {
        v.on_session(state, SessionChange::SignedOut, fx);
    }
    fx.push(SessionCmd::Logout.into());
    fx.push(Effect::ClearSession);
    state.session = None;
    state.mode = Mode::Login;
    state.login.password.clear();
    state.login.busy = false;
    state.conn.state = ConnState::Idle;
}
