//! The Tickets view's `:` commands: the list (filter, sort, page, open), every
//! change to a ticket (status, priority, assignee, department, due date, tags,
//! subject, links, merge, split, clone, escalate, spam, close, reopen), export, a
//! new ticket, and the customer's record and notes.

use serde_json::{Value, json};
use shared::ticket::{LinkKind, TicketId, TicketPriority, TicketStatus};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::filter::{describe, parse_filter};
use super::list::{go_to_page, reload};
use crate::effect::{Effect, TicketCmd};
use crate::msg::TicketOp;
use crate::state::views::tickets::TicketSort;
use crate::state::{ComposeKind, FlashLevel, State};
use crate::update::commands::{Command, words};
use crate::update::flash;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "filter",
        "[status=… priority>=… assignee=me|none|name tag=… dept=… spam=…]",
        "filter the list (no terms: every ticket)",
        filter,
    )
    .completes(|_, arg| {
        let (kept, last) = match arg.rsplit_once(' ') {
            Some((k, l)) => (format!("{k} "), l),
            None => (String::new(), arg),
        };
        let cands = [
            "status=open",
            "status=pending",
            "status=open,pending",
            "status=resolved",
            "status=closed",
            "priority>=high",
            "priority=urgent",
            "assignee=me",
            "assignee=none",
            "tag=",
            "dept=",
            "spam=any",
        ];
        (kept, words(last, cands))
    }),
    Command::new(
        "sort",
        "<updated|newest|oldest|priority|due>",
        "sort the list",
        sort,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, TicketSort::ALL.map(TicketSort::as_str)),
        )
    }),
    Command::new("page", "<n>", "show page n of the list", page),
    Command::new("open", "<#number>", "open a ticket by its number", open),
    Command::new(
        "status",
        "<open|pending|resolved|closed>",
        "set the ticket's status (no argument: your own presence)",
        status,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, TicketStatus::ALL.iter().map(|s| s.as_str())),
        )
    }),
    Command::new(
        "priority",
        "<low|medium|high|urgent>",
        "set the ticket's priority",
        priority,
    )
    .aliases(&["prio"])
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, TicketPriority::ALL.iter().map(|s| s.as_str())),
        )
    }),
    Command::new(
        "assign",
        "[me|none|agent name]",
        "assign the ticket (no argument: a picker of agents and departments)",
        assign,
    )
    .completes(|s, arg| {
        let mut names: Vec<&str> = vec!["me", "none"];
        names.extend(s.directory.agents.iter().map(|a| a.name.as_str()));
        (String::new(), words(arg, names))
    }),
    Command::new(
        "dept",
        "<department>",
        "move the ticket to a department",
        dept,
    )
    .aliases(&["department"])
    .completes(|s, arg| {
        (
            String::new(),
            words(arg, s.directory.departments.iter().map(|d| d.name.as_str())),
        )
    }),
    Command::new(
        "due",
        "<YYYY-MM-DD [HH:MM]|today|tomorrow|+3d|+4h|none>",
        "set or clear the due date",
        due,
    ),
    Command::new(
        "tag",
        "<+tag|-tag|tag…>",
        "add (+ or plain) and remove (-) tags",
        tag,
    ),
    Command::new(
        "reply",
        "[text…]",
        "reply to the customer (no text: the composer)",
        |s, rest, fx| compose(s, ComposeKind::Reply, rest, fx),
    ),
    Command::new(
        "note",
        "[text…]",
        "add an internal note (no text: the composer in note mode)",
        |s, rest, fx| compose(s, ComposeKind::Note, rest, fx),
    ),
    Command::new("subject", "<text>", "change the subject", subject),
    Command::new(
        "link",
        "<#number> [related|duplicate_of]",
        "link a related ticket",
        link,
    ),
    Command::new("unlink", "<#number>", "remove a link", unlink),
    Command::new(
        "merge",
        "[#number]",
        "merge this ticket into another (no argument: a picker with search)",
        merge,
    ),
    Command::new(
        "split",
        "<subject…>",
        "move the marked entries (space) to a new ticket",
        split,
    ),
    Command::new("clone", "", "copy the ticket into a new one", clone),
    Command::new(
        "escalate",
        "[department|agent] [-- note]",
        "raise the priority and hand the ticket on",
        escalate,
    ),
    Command::new(
        "spam",
        "[off] [block]",
        "mark as spam (block: also block the customer; off: not spam)",
        spam,
    ),
    Command::new(
        "close",
        "<resolution…>",
        "close the ticket with a resolution note",
        close,
    ),
    Command::new("reopen", "", "reopen the ticket", reopen),
    Command::new(
        "export",
        "[path] [json] [notes]",
        "write the ticket to a new file (text, or json; notes only if asked)",
        export,
    ),
    Command::new(
        "ticket",
        "new <email> <subject…>",
        "a new ticket for a customer (the composer's text is its first message)",
        new_ticket,
    )
    .completes(|_, arg| (String::new(), words(arg, ["new"]))),
    Command::new(
        "customer",
        "<name|email|phone|location|tags|field> <value…>",
        "edit the customer of the open ticket",
        customer,
    )
    .completes(|_, arg| {
        (
            String::new(),
            words(arg, ["name", "email", "phone", "location", "tags", "field"]),
        )
    }),
    Command::new(
        "cnote",
        "<text…> | rm <n>",
        "add an internal note to the customer (rm n: delete the n-th)",
        customer_note,
    ),
];

fn warn(state: &mut State, text: impl Into<String>) {
    flash(state, FlashLevel::Warn, text);
}

/// The ticket a command acts on, or a word saying there is none.
fn target(state: &mut State) -> Option<TicketId> {
    let t = state.tickets.target();
    if t.is_none() {
        warn(state, "No ticket selected: open one (Enter) or search (/)");
    }
    t
}

fn act(state: &mut State, op: TicketOp, body: Value, fx: &mut Vec<Effect>) {
    let Some(ticket_id) = target(state) else {
        return;
    };
    fx.push(
        TicketCmd::Act {
            op,
            ticket_id,
            body,
        }
        .into(),
    );
}

fn patch(state: &mut State, body: Value, fx: &mut Vec<Effect>) {
    act(state, TicketOp::Update, body, fx);
}

/// `#1042`, `1042`, or an id, among the tickets the console knows.
pub(crate) fn find_ticket(state: &State, s: &str) -> Result<TicketId, String> {
    let s = s.trim();
    if state.tickets.tickets.contains_key(s) {
        return Ok(s.to_owned());
    }
    let n: i64 = s
        .trim_start_matches('#')
        .parse()
        .map_err(|_| format!("{s:?} is not a ticket number (write #1042)"))?;
    state
        .tickets
        .tickets
        .values()
        .find(|t| t.number == n)
        .map(|t| t.id.clone())
        .ok_or_else(|| format!("Ticket #{n} is not loaded: find it with / or :filter first"))
}

pub(crate) fn filter(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match parse_filter(state, rest) {
        Ok(f) => {
            let t = &mut state.tickets;
            t.filter_error = None;
            t.query.filter = f;
            t.query.page = 1;
            t.selected = None;
            let text = describe(state, &state.tickets.query.filter);
            state.tickets.filter_text = text;
            reload(state, fx);
            let text = if state.tickets.filter_text.is_empty() {
                "Filter cleared: every ticket".to_owned()
            } else {
                format!("Filter: {}", state.tickets.filter_text)
            };
            flash(state, FlashLevel::Info, text);
        }
        Err(e) => {
            state.tickets.filter_error = Some(crate::update::shown(&e));
            flash(state, FlashLevel::Error, format!("Filter not applied: {e}"));
        }
    }
}

pub(crate) fn sort(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match TicketSort::parse(rest) {
        Some(o) => {
            state.tickets.query.sort = o;
            state.tickets.query.page = 1;
            reload(state, fx);
            flash(state, FlashLevel::Info, format!("Sorted by {}", o.as_str()));
        }
        None => warn(state, "Usage: :sort updated|newest|oldest|priority|due"),
    }
}

fn page(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let pages = state.tickets.pages();
    match rest.parse::<u32>() {
        Ok(n) if n >= 1 && n <= pages => go_to_page(state, n, fx),
        _ => warn(state, format!("Usage: :page 1…{pages}")),
    }
}

fn open(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match find_ticket(state, rest) {
        Ok(id) => super::detail::open_ticket(state, &id, fx),
        Err(e) => warn(state, e),
    }
}

fn status(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if rest.is_empty() {
        crate::update::picker::open_status_picker(state);
        return;
    }
    // Presence words still set the agent's own status, as everywhere else.
    if let Ok(p) = rest.replace(' ', "_").parse::<shared::model::AgentStatus>() {
        fx.push(crate::effect::DirectoryCmd::Presence(p).into());
        return;
    }
    match rest.to_lowercase().parse::<TicketStatus>() {
        Ok(TicketStatus::Closed) => {
            warn(state, "Closing needs a resolution: :close <what was done>")
        }
        Ok(s) => patch(state, json!({ "status": s }), fx),
        Err(e) => warn(state, e),
    }
}

fn priority(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match rest.to_lowercase().parse::<TicketPriority>() {
        Ok(p) => patch(state, json!({ "priority": p }), fx),
        Err(e) => warn(state, e),
    }
}

fn agent_by_name(state: &State, name: &str) -> Result<String, String> {
    let n = name.to_lowercase();
    let hits: Vec<&shared::model::Agent> =
        state
            .directory
            .agents
            .iter()
            .filter(|a| a.id == name || a.name.to_lowercase() == n)
            .chain(
                state.directory.agents.iter().filter(|a| {
                    a.name.to_lowercase() != n && a.name.to_lowercase().starts_with(&n)
                }),
            )
            .collect();
    match hits.first() {
        Some(a) if hits.len() == 1 || a.name.to_lowercase() == n || a.id == name => {
            Ok(a.id.clone())
        }
        Some(_) => Err(format!(
            "{name:?} matches several agents: write more of the name"
        )),
        None => Err(format!("No agent named {name:?}")),
    }
}

fn dept_by_name(state: &State, name: &str) -> Result<String, String> {
    let n = name.to_lowercase();
    state
        .directory
        .departments
        .iter()
        .find(|d| d.id == name || d.name.to_lowercase() == n)
        .or_else(|| {
            let mut it = state
                .directory
                .departments
                .iter()
                .filter(|d| d.name.to_lowercase().starts_with(&n));
            match (it.next(), it.next()) {
                (Some(d), None) => Some(d),
                _ => None,
            }
        })
        .map(|d| d.id.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = state
                .directory
                .departments
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            format!("No department named {name:?} (known: {})", names.join(", "))
        })
}

fn assign(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if rest.is_empty() {
        super::actions::open_assign_picker(state);
        return;
    }
    let who = match rest.to_lowercase().as_str() {
        "none" | "nobody" | "unassign" => Ok(Value::Null),
        "me" => state
            .my_id()
            .map(|id| Value::String(id.to_owned()))
            .ok_or_else(|| "Not signed in".to_owned()),
        _ => agent_by_name(state, rest).map(Value::String),
    };
    match who {
        Ok(v) => patch(state, json!({ "assignee_id": v }), fx),
        Err(e) => warn(state, e),
    }
}

fn dept(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match dept_by_name(state, rest) {
        Ok(id) => patch(state, json!({ "department_id": id }), fx),
        Err(e) => warn(state, e),
    }
}

/// A due date as typed: `2026-03-20`, `2026-03-20 14:30`, `today`, `tomorrow`,
/// `+3d`, `+4h`, `+30m`, `+1w` (relative to now), or `none`. Dates without a time
/// mean the end of that working day (17:00, the agent's local time).
pub fn parse_due(
    s: &str,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Result<Option<OffsetDateTime>, String> {
    let s = s.trim().to_lowercase();
    let usage = "write 2026-03-20, 2026-03-20 14:30, today, tomorrow, +3d, +4h or none";
    let eod = Time::from_hms(17, 0, 0).map_err(|e| e.to_string())?;
    let local = now.to_offset(offset);
    match s.as_str() {
        "" => return Err(format!("A due date is needed: {usage}")),
        "none" | "clear" | "-" => return Ok(None),
        "today" => return Ok(Some(local.replace_time(eod))),
        "tomorrow" => return Ok(Some(local.replace_time(eod) + Duration::days(1))),
        _ => {}
    }
    if let Some(rel) = s.strip_prefix('+') {
        let (num, unit) =
            rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
        let n: i64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a due date: {usage}"))?;
        let d = match unit {
            "m" | "min" => Duration::minutes(n),
            "h" => Duration::hours(n),
            "d" | "" => Duration::days(n),
            "w" => Duration::weeks(n),
            _ => return Err(format!("{s:?}: the unit is m, h, d or w")),
        };
        if n <= 0 || n > 3650 {
            return Err(format!("{s:?} is out of range"));
        }
        return Ok(Some(now + d));
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    let dt_fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let s_norm = s.replace('t', " ");
    if let Ok(dt) = PrimitiveDateTime::parse(&s_norm, dt_fmt) {
        return Ok(Some(dt.assume_offset(offset)));
    }
    match Date::parse(&s, date_fmt) {
        Ok(d) => Ok(Some(PrimitiveDateTime::new(d, eod).assume_offset(offset))),
        Err(_) => Err(format!("{s:?} is not a due date: {usage}")),
    }
}

fn due(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match parse_due(rest, state.now, state.utc_offset) {
        Ok(Some(at)) => {
            let v = at
                .to_offset(UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            patch(state, json!({ "due_at": v }), fx);
        }
        Ok(None) => patch(state, json!({ "due_at": Value::Null }), fx),
        Err(e) => warn(state, e),
    }
}

/// `+a -b c`: tags to add and to remove, each checked.
pub fn parse_tags(rest: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for w in rest.split([' ', ',']).filter(|w| !w.is_empty()) {
        let (list, name) = match w.strip_prefix('-') {
            Some(n) => (&mut remove, n),
            None => (&mut add, w.trim_start_matches('+')),
        };
        let tag = shared::limits::validate_line("tag", name, shared::limits::MAX_TAG_CHARS)
            .map_err(|e| e.message)?;
        list.push(tag);
    }
    if add.is_empty() && remove.is_empty() {
        return Err("Usage: :tag +vip -old (plain words add)".into());
    }
    Ok((add, remove))
}

fn tag(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match parse_tags(rest) {
        Ok((add, remove)) => patch(state, json!({ "add_tags": add, "remove_tags": remove }), fx),
        Err(e) => warn(state, e),
    }
}

fn compose(state: &mut State, kind: ComposeKind, rest: &str, fx: &mut Vec<Effect>) {
    if rest.trim().is_empty() {
        super::detail::begin_compose(state, kind, fx);
        return;
    }
    if state.tickets.open.is_none() {
        match state.tickets.selected_ticket().map(|t| t.id.clone()) {
            Some(id) => super::detail::open_ticket(state, &id, fx),
            None => return warn(state, "Open a ticket first (Enter on a row)"),
        }
    }
    super::detail::send_text(state, kind, rest, fx);
}

fn subject(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match shared::limits::validate_line("subject", rest, 200) {
        Ok(s) => patch(state, json!({ "subject": s }), fx),
        Err(e) => warn(state, e.message),
    }
}

fn link(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let mut words = rest.split_whitespace();
    let (Some(other), kind) = (words.next(), words.next()) else {
        warn(state, "Usage: :link #1042 [related|duplicate_of]");
        return;
    };
    let kind = match kind.map(|k| k.parse::<LinkKind>()) {
        None => LinkKind::Related,
        Some(Ok(k)) => k,
        Some(Err(e)) => {
            warn(state, e);
            return;
        }
    };
    match find_ticket(state, other) {
        Ok(id) if Some(&id) == state.tickets.target().as_ref() => {
            warn(state, "A ticket cannot be linked to itself")
        }
        Ok(id) => act(
            state,
            TicketOp::Link,
            json!({ "ticket_id": id, "kind": kind }),
            fx,
        ),
        Err(e) => warn(state, e),
    }
}

fn unlink(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match find_ticket(state, rest) {
        Ok(id) => act(state, TicketOp::Unlink, json!({ "ticket_id": id }), fx),
        Err(e) => warn(state, e),
    }
}

fn merge(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if rest.is_empty() {
        super::actions::open_merge_picker(state);
        return;
    }
    match find_ticket(state, rest) {
        Ok(id) if Some(&id) == state.tickets.target().as_ref() => {
            warn(state, "A ticket cannot be merged into itself")
        }
        Ok(id) => act(state, TicketOp::Merge, json!({ "into": id }), fx),
        Err(e) => warn(state, e),
    }
}

fn split(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if state.tickets.open.is_none() {
        warn(
            state,
            "Open the ticket, mark entries with space, then :split <subject>",
        );
        return;
    }
    let marked: Vec<String> = state.tickets.marked.iter().cloned().collect();
    if marked.is_empty() {
        warn(
            state,
            "Mark the entries to move with space first, then :split <subject>",
        );
        return;
    }
    let subject = match shared::limits::validate_line("subject", rest, 200) {
        Ok(s) => s,
        Err(_) => {
            warn(state, "Usage: :split <subject of the new ticket>");
            return;
        }
    };
    let Some(ticket_id) = state.tickets.open.clone() else {
        return;
    };
    fx.push(
        TicketCmd::Act {
            op: TicketOp::Split,
            ticket_id,
            body: json!({ "entry_ids": marked, "subject": subject }),
        }
        .into(),
    );
}

fn clone(state: &mut State, _rest: &str, fx: &mut Vec<Effect>) {
    act(state, TicketOp::Clone, json!({}), fx);
}

fn escalate(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let (who, note) = match rest.split_once("--") {
        Some((w, n)) => (w.trim(), n.trim()),
        None => (rest.trim(), ""),
    };
    let mut body = json!({});
    if !who.is_empty() {
        match (dept_by_name(state, who), agent_by_name(state, who)) {
            (Ok(d), _) => body["to_department_id"] = Value::String(d),
            (_, Ok(a)) => body["to_agent_id"] = Value::String(a),
            (Err(_), Err(_)) => {
                warn(state, format!("No department or agent named {who:?}"));
                return;
            }
        }
    }
    if !note.is_empty() {
        body["note"] = Value::String(note.to_owned());
    }
    act(state, TicketOp::Escalate, body, fx);
}

fn spam(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let words: Vec<&str> = rest.split_whitespace().collect();
    if words.iter().any(|w| !matches!(*w, "off" | "no" | "block")) {
        warn(state, "Usage: :spam [block] | :spam off");
        return;
    }
    let off = words.iter().any(|w| matches!(*w, "off" | "no"));
    let block = words.contains(&"block");
    act(
        state,
        TicketOp::Spam,
        json!({ "spam": !off, "block_customer": block }),
        fx,
    );
}

fn close(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    match shared::limits::validate_text("resolution", rest, shared::limits::MAX_RESOLUTION_CHARS) {
        Ok(r) if !r.trim().is_empty() => {
            act(state, TicketOp::Close, json!({ "resolution": r }), fx)
        }
        Ok(_) | Err(_) if rest.trim().is_empty() => {
            warn(state, "Usage: :close <resolution: what was done>")
        }
        Ok(_) => warn(state, "Usage: :close <resolution: what was done>"),
        Err(e) => warn(state, e.message),
    }
}

fn reopen(state: &mut State, _rest: &str, fx: &mut Vec<Effect>) {
    act(state, TicketOp::Reopen, json!({}), fx);
}

fn export(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let Some(ticket_id) = target(state) else {
        return;
    };
    let mut path = None;
    let (mut json, mut notes) = (false, false);
    for w in rest.split_whitespace() {
        match w {
            "json" => json = true,
            "notes" => notes = true,
            p if path.is_none() => path = Some(p.to_owned()),
            _ => {
                warn(state, "Usage: :export [path] [json] [notes]");
                return;
            }
        }
    }
    let number = state
        .tickets
        .tickets
        .get(&ticket_id)
        .map_or(0, |t| t.number);
    let path =
        path.unwrap_or_else(|| format!("ticket-{number}.{}", if json { "json" } else { "txt" }));
    fx.push(
        TicketCmd::Export {
            ticket_id,
            path,
            json,
            notes,
        }
        .into(),
    );
}

fn new_ticket(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let usage = "Usage: :ticket new <customer email> <subject…> (write the first message in the composer first, or it is the subject)";
    let Some(args) = rest.strip_prefix("new") else {
        warn(state, usage);
        return;
    };
    let mut it = args.trim().splitn(2, char::is_whitespace);
    let (Some(email), Some(subject)) = (it.next(), it.next()) else {
        warn(state, usage);
        return;
    };
    let email = match shared::limits::validate_email(email) {
        Ok(e) => e,
        Err(e) => {
            warn(state, e.message);
            return;
        }
    };
    let subject = match shared::limits::validate_line("subject", subject, 200) {
        Ok(s) => s,
        Err(e) => {
            warn(state, e.message);
            return;
        }
    };
    let written = state.tickets.composer.text();
    let body = if written.trim().is_empty() {
        subject.clone()
    } else {
        written
    };
    fx.push(
        TicketCmd::Act {
            op: TicketOp::Create,
            ticket_id: String::new(),
            body: json!({
                "subject": subject,
                "body": body,
                "customer_email": email,
                "client_msg_id": uuid::Uuid::new_v4().to_string(),
            }),
        }
        .into(),
    );
    state.tickets.composer.textarea = crate::state::new_textarea(Vec::new());
}

/// The customer as the console has them now (for editing one custom field).
fn customer_now(state: &State) -> Option<&shared::model::Customer> {
    if state.view == crate::state::ViewId::Chats {
        let e = state
            .chats
            .target_chat()
            .and_then(|c| state.chats.entries.get(&c))?;
        let id = &e.chat.customer.id;
        Some(
            state
                .directory
                .customers
                .get(id)
                .map_or(&e.chat.customer, |p| &p.customer),
        )
    } else {
        let t = state.tickets.target()?;
        state.tickets.tickets.get(&t).map(|t| &t.customer)
    }
}

/// The customer of the open (or selected) ticket, or in the Chats view of the chat.
fn customer_id(state: &mut State) -> Option<String> {
    let id = if state.view == crate::state::ViewId::Chats {
        state
            .chats
            .target_chat()
            .and_then(|c| state.chats.entries.get(&c))
            .map(|e| e.chat.customer.id.clone())
    } else {
        state
            .tickets
            .target()
            .and_then(|t| state.tickets.tickets.get(&t))
            .map(|t| t.customer.id.clone())
    };
    if id.is_none() {
        warn(
            state,
            "Open a ticket or a chat first: its customer is the one edited",
        );
    }
    id
}

pub(crate) fn customer(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let usage = "Usage: :customer name|email|phone|location <value> · :customer tags a,b · :customer field <key>=<value>";
    let (field, value) = match rest.split_once(char::is_whitespace) {
        Some((f, v)) => (f, v.trim()),
        None => (rest, ""),
    };
    let body = match field {
        "name" | "phone" | "location" => {
            match shared::limits::validate_line(field, value, shared::limits::MAX_NAME_CHARS) {
                Ok(v) => json!({ field: v }),
                Err(e) => return warn(state, e.message),
            }
        }
        "email" => match shared::limits::validate_email(value) {
            Ok(v) => json!({ "email": v }),
            Err(e) => return warn(state, e.message),
        },
        "tags" => {
            let mut tags = Vec::new();
            for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                match shared::limits::validate_line("tag", t, shared::limits::MAX_TAG_CHARS) {
                    Ok(t) => tags.push(t),
                    Err(e) => return warn(state, e.message),
                }
            }
            json!({ "tags": tags })
        }
        "field" => {
            let Some((k, v)) = value.split_once('=') else {
                return warn(state, usage);
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return warn(state, usage);
            }
            let mut fields = customer_now(state)
                .map(|c| c.custom_fields.clone())
                .unwrap_or_default();
            if v.is_empty() {
                fields.remove(k);
            } else {
                fields.insert(k.to_owned(), v.to_owned());
            }
            json!({ "custom_fields": fields })
        }
        _ => return warn(state, usage),
    };
    if let Some(customer_id) = customer_id(state) {
        fx.push(
            TicketCmd::UpdateCustomer {
                customer_id,
                patch: body,
            }
            .into(),
        );
    }
}

pub(crate) fn customer_note(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let Some(customer_id) = customer_id(state) else {
        return;
    };
    if let Some(n) = rest.strip_prefix("rm ") {
        let notes = state
            .tickets
            .customers
            .get(&customer_id)
            .map(|c| c.notes.clone())
            .unwrap_or_default();
        match n.trim().parse::<usize>() {
            Ok(i) if i >= 1 && i <= notes.len() => fx.push(
                TicketCmd::DeleteCustomerNote {
                    customer_id,
                    note_id: notes[i - 1].id.clone(),
                }
                .into(),
            ),
            _ => warn(state, format!("Usage: :cnote rm 1…{}", notes.len())),
        }
        return;
    }
    match shared::limits::validate_body(rest) {
        Ok(body) => fx.push(TicketCmd::AddCustomerNote { customer_id, body }.into()),
        Err(_) => warn(
            state,
            "Usage: :cnote <note about the customer> | :cnote rm <n>",
        ),
    }
}

/// `:ticket [subject]` in the Chats view: the open chat becomes a ticket.
pub(crate) fn from_chat(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let Some(chat_id) = state.chats.target_chat() else {
        warn(state, "No chat selected");
        return;
    };
    // A chat that already became a ticket opens it rather than making another.
    let existing = state
        .chats
        .entries
        .get(&chat_id)
        .and_then(|e| e.chat.ticket_id.clone());
    if let Some(ticket_id) = existing {
        state.view = crate::state::ViewId::Tickets;
        super::detail::open_ticket(state, &ticket_id, fx);
        flash(
            state,
            FlashLevel::Info,
            "This chat is already a ticket: here it is",
        );
        return;
    }
    let subject = if rest.trim().is_empty() {
        None
    } else {
        match shared::limits::validate_line("subject", rest, 200) {
            Ok(s) => Some(s),
            Err(e) => return warn(state, e.message),
        }
    };
    fx.push(TicketCmd::FromChat { chat_id, subject }.into());
    flash(state, FlashLevel::Info, "Turning the chat into a ticket…");
}
