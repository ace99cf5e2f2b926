//! Ticket decisions: validation of every field, who may do what, the status
//! transitions, merge and split rules, escalation, the event lines the timeline shows,
//! and what a customer sees of a ticket. Backends load a [`TicketCore`] snapshot, call
//! these functions and apply what they decide.

use shared::ApiError;
use shared::limits::{
    MAX_RESOLUTION_CHARS, MAX_TAGS_PER_CHAT, validate_line, validate_tag, validate_text,
};
use shared::model::AuthorKind;
use shared::ticket::{EntryKind, LinkKind, Ticket, TicketEntry, TicketPriority, TicketStatus};

use super::actor::Actor;
use super::audience::visitor_attachment_url;

/// The longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The most tags on a ticket.
pub const MAX_TICKET_TAGS: usize = MAX_TAGS_PER_CHAT;
/// The most related tickets one ticket links to.
pub const MAX_LINKS: usize = 50;
/// The most entries one split moves.
pub const MAX_SPLIT_ENTRIES: usize = 500;
/// The first ticket number of a deployment.
pub const FIRST_NUMBER: i64 = 1001;
/// Due dates are accepted between 2000-01-01 and ten years from now.
const MIN_DUE_MS: i64 = 946_684_800_000;
const MAX_DUE_AHEAD_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

/// The state of a ticket that writes check, without the joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCore {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub customer_id: String,
    pub department_id: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub assignee_id: Option<String>,
    pub tags: Vec<String>,
    pub due_at_ms: Option<i64>,
    pub merged_into: Option<String>,
    pub spam: bool,
    pub resolution: Option<String>,
}

/// `#1042`.
pub fn label(number: i64) -> String {
    format!("#{number}")
}

/// The rank a priority sorts by (`low` 0 … `urgent` 3).
pub fn priority_rank(p: TicketPriority) -> i64 {
    match p {
        TicketPriority::Low => 0,
        TicketPriority::Medium => 1,
        TicketPriority::High => 2,
        TicketPriority::Urgent => 3,
    }
}

// ---------------------------------------------------------------------------
// Validation

/// A subject: one line, 1 to 200 characters, trimmed.
pub fn validate_subject(s: &str) -> Result<String, ApiError> {
    validate_line("subject", s, MAX_SUBJECT_CHARS)
}

/// Tags: each valid, lowercased, duplicates dropped (first order kept), at most 20.
pub fn validate_tags(tags: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = validate_tag(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TICKET_TAGS {
        return Err(ApiError::invalid(format!(
            "a ticket has at most {MAX_TICKET_TAGS} tags ({} given)",
            out.len()
        )));
    }
    Ok(out)
}

/// A due date in RFC 3339 (`2026-12-24T17:00:00Z`), as Unix milliseconds, between
/// 2000 and ten years from `now_ms`.
pub fn parse_due(s: &str, now_ms: i64) -> Result<i64, ApiError> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
        ApiError::invalid(format!(
            "due_at {s:?} is not an RFC 3339 time (like 2026-12-24T17:00:00Z)"
        ))
    })?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| ApiError::invalid("due_at is out of range"))?;
    if ms < MIN_DUE_MS || ms > now_ms.saturating_add(MAX_DUE_AHEAD_MS) {
        return Err(ApiError::invalid(
            "due_at must be between the year 2000 and ten years from now",
        ));
    }
    Ok(ms)
}

pub fn parse_priority(s: &str) -> Result<TicketPriority, ApiError> {
    s.trim()
        .parse::<TicketPriority>()
        .map_err(ApiError::invalid)
}

pub fn parse_status(s: &str) -> Result<TicketStatus, ApiError> {
    s.trim().parse::<TicketStatus>().map_err(ApiError::invalid)
}

/// A comma list of statuses (`open,pending`); empty items are refused.
pub fn parse_status_list(s: &str) -> Result<Vec<TicketStatus>, ApiError> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let st = parse_status(part)?;
        if !out.contains(&st) {
            out.push(st);
        }
    }
    Ok(out)
}

/// A resolution note: free text up to 1000 characters, not empty.
pub fn validate_resolution(s: &str) -> Result<String, ApiError> {
    let r = validate_text("resolution", s, MAX_RESOLUTION_CHARS)?;
    if r.is_empty() {
        return Err(ApiError::invalid(
            "resolution is empty: say how the ticket was solved",
        ));
    }
    Ok(r)
}

/// `#1042` or `1042` in a search: the ticket number it names.
pub fn number_in_query(q: &str) -> Option<i64> {
    let digits = q.trim().strip_prefix('#').unwrap_or(q.trim());
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

// ---------------------------------------------------------------------------
// Who may do what

/// May the actor see and work this ticket? Supervisors and admins: every ticket;
/// agents: their departments' tickets and those assigned to them.
pub fn may_see(actor: &Actor, core: &TicketCore) -> bool {
    actor.may_see_chat(&core.department_id, core.assignee_id.as_deref())
}

pub fn check_access(actor: &Actor, core: &TicketCore) -> Result<(), ApiError> {
    if may_see(actor, core) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "ticket {} is not in your departments and not assigned to you",
            label(core.number)
        )))
    }
}

/// A merged ticket only points at its target: nothing more is written into it.
pub fn check_not_merged(core: &TicketCore) -> Result<(), ApiError> {
    match &core.merged_into {
        Some(into) => Err(ApiError::conflict(format!(
            "ticket {} was merged into ticket {into}; work that one",
            label(core.number)
        ))),
        None => Ok(()),
    }
}

/// May an agent write an entry of `kind`? Replies and notes, on any ticket they see
/// that is not merged; a reply on a closed ticket is refused (reopen it first).
pub fn agent_entry(core: &TicketCore, kind: EntryKind) -> Result<(), ApiError> {
    check_not_merged(core)?;
    match kind {
        EntryKind::Event => Err(ApiError::invalid(
            "kind must be reply or note (event lines are written by the server)",
        )),
        EntryKind::Reply if core.status == TicketStatus::Closed => Err(ApiError::conflict(
            "this ticket is closed; reopen it to reply",
        )),
        EntryKind::Reply | EntryKind::Note => Ok(()),
    }
}

/// What a customer's answer does to the ticket: answers on closed, merged or spam
/// tickets are refused; a pending or resolved ticket goes back to `open`.
pub fn customer_entry(core: &TicketCore, blocked: bool) -> Result<Option<TicketStatus>, ApiError> {
    if blocked {
        return Err(ApiError::forbidden("you have been blocked from writing"));
    }
    if core.merged_into.is_some() || core.spam {
        return Err(ApiError::not_found(format!(
            "no request {}",
            label(core.number)
        )));
    }
    match core.status {
        TicketStatus::Closed => Err(ApiError::conflict(
            "this request is closed; leave a new message instead",
        )),
        TicketStatus::Pending | TicketStatus::Resolved => Ok(Some(TicketStatus::Open)),
        TicketStatus::Open => Ok(None),
    }
}

/// A visitor sees only their own tickets, never spam or merged sources.
pub fn customer_may_see(customer_id: &str, core: &TicketCore) -> bool {
    core.customer_id == customer_id && !core.spam && core.merged_into.is_none()
}

// ---------------------------------------------------------------------------
// Changes and transitions

/// A validated change of fields (`None`: unchanged; `Some(None)`: cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketChanges {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub assignee_id: Option<Option<String>>,
    /// The department id and its name (for the event line).
    pub department: Option<(String, String)>,
    pub tags: Option<Vec<String>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub due_at_ms: Option<Option<i64>>,
    pub resolution: Option<String>,
}

impl TicketChanges {
    pub fn is_empty(&self) -> bool {
        *self == TicketChanges::default()
    }
}

/// What an update writes: the new snapshot, the event lines, who is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePlan {
    pub core: TicketCore,
    pub lines: Vec<String>,
    /// The department the ticket left, if it moved (its agents hear of it once more).
    pub prev_department_id: Option<String>,
    /// A newly assigned agent (other than the actor) to notify.
    pub notify: Option<String>,
}

/// May the status go from `from` to `to` by a plain change? Any status may become any
/// other, except that a closed ticket only comes back through reopen, and closing
/// needs a resolution.
pub fn check_transition(
    from: TicketStatus,
    to: TicketStatus,
    resolution: Option<&str>,
) -> Result<(), ApiError> {
    if from == TicketStatus::Closed && to != TicketStatus::Closed {
        return Err(ApiError::conflict(
            "this ticket is closed; reopen it instead of changing its status",
        ));
    }
    if to == TicketStatus::Closed && from != TicketStatus::Closed && resolution.is_none() {
        return Err(ApiError::invalid(
            "closing a ticket needs a resolution (send resolution, or use /close)",
        ));
    }
    Ok(())
}

fn fmt_due(ms: Option<i64>) -> String {
    match ms {
        None => "none".into(),
        Some(ms) => {
            let t = crate::store::ts(ms);
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| ms.to_string())
        }
    }
}

fn fmt_tags(tags: &[String]) -> String {
    if tags.is_empty() {
        "none".into()
    } else {
        tags.join(", ")
    }
}

/// Decides an update. `agent_name` names an agent id for the lines (`None`: no such
/// agent); `may_hold` says whether that agent may hold a ticket of a department.
pub fn plan_update(
    actor: &Actor,
    core: &TicketCore,
    changes: &TicketChanges,
    agent_name: &dyn Fn(&str) -> Option<String>,
    may_hold: &dyn Fn(&str, &str) -> bool,
) -> Result<UpdatePlan, ApiError> {
    check_access(actor, core)?;
    check_not_merged(core)?;
    let mut next = core.clone();
    let mut lines = Vec::new();
    let mut prev_department_id = None;
    let mut notify = None;
    if let Some(s) = &changes.subject
        && *s != core.subject
    {
        lines.push(format!("Subject: {} → {s}", core.subject));
        next.subject = s.clone();
    }
    if let Some(to) = changes.status
        && to != core.status
    {
        check_transition(core.status, to, changes.resolution.as_deref())?;
        lines.push(format!("Status: {} → {to}", core.status));
        next.status = to;
    }
    if let Some(r) = &changes.resolution {
        if next.status != TicketStatus::Closed && next.status != TicketStatus::Resolved {
            return Err(ApiError::invalid(
                "a resolution belongs to a resolved or closed ticket",
            ));
        }
        if core.resolution.as_deref() != Some(r) {
            lines.push(format!("Resolution: {r}"));
            next.resolution = Some(r.clone());
        }
    }
    if let Some(p) = changes.priority
        && p != core.priority
    {
        lines.push(format!("Priority: {} → {p}", core.priority));
        next.priority = p;
    }
    if let Some((dept, name)) = &changes.department
        && *dept != core.department_id
    {
        lines.push(format!("Department: moved to {name}"));
        prev_department_id = Some(core.department_id.clone());
        next.department_id = dept.clone();
    }
    if let Some(to) = &changes.assignee_id
        && *to != core.assignee_id
    {
        match to {
            None => lines.push("Assignee: unassigned".into()),
            Some(id) => {
                let name =
                    agent_name(id).ok_or_else(|| ApiError::invalid(format!("no agent {id:?}")))?;
                if !may_hold(id, &next.department_id) {
                    return Err(ApiError::invalid(format!(
                        "{name} does not work this ticket's department"
                    )));
                }
                if id != &actor.id && !actor.oversees_all() && core.assignee_id.is_some() {
                    // A held ticket changes hands by its holder or a supervisor.
                    if core.assignee_id.as_deref() != Some(actor.id.as_str()) {
                        return Err(ApiError::forbidden(
                            "this ticket is assigned to another agent; ask them or a supervisor",
                        ));
                    }
                }
                if id != &actor.id {
                    notify = Some(id.clone());
                }
                lines.push(format!("Assignee: {name}"));
            }
        }
        next.assignee_id = to.clone();
    }
    let mut tags = changes.tags.clone().unwrap_or_else(|| core.tags.clone());
    for t in &changes.add_tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.retain(|t| !changes.remove_tags.contains(t));
    if tags.len() > MAX_TICKET_TAGS {
        return Err(ApiError::invalid(format!(
            "a ticket has at most {MAX_TICKET_TAGS} tags"
        )));
    }
    if tags != core.tags {
        lines.push(format!("Tags: {}", fmt_tags(&tags)));
        next.tags = tags;
    }
    if let Some(due) = changes.due_at_ms
        && due != core.due_at_ms
    {
        lines.push(format!(
            "Due date: {} → {}",
            fmt_due(core.due_at_ms),
            fmt_due(due)
        ));
        next.due_at_ms = due;
    }
    Ok(UpdatePlan {
        core: next,
        lines,
        prev_department_id,
        notify,
    })
}

/// Close with a resolution (from any status but closed).
pub fn close(actor: &Actor, core: &TicketCore, resolution: &str) -> Result<UpdatePlan, ApiError> {
    if core.status == TicketStatus::Closed {
        return Err(ApiError::conflict("this ticket is already closed"));
    }
    let changes = TicketChanges {
        status: Some(TicketStatus::Closed),
        resolution: Some(resolution.to_owned()),
        ..TicketChanges::default()
    };
    plan_update(actor, core, &changes, &|_| None, &|_, _| false)
}

/// Reopen a resolved or closed ticket: status open, resolution cleared.
pub fn reopen(actor: &Actor, core: &TicketCore) -> Result<UpdatePlan, ApiError> {
    check_access(actor, core)?;
    check_not_merged(core)?;
    if !matches!(core.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return Err(ApiError::conflict(format!(
            "this ticket is {}; only resolved or closed tickets reopen",
            core.status
        )));
    }
    let mut next = core.clone();
    next.status = TicketStatus::Open;
    next.resolution = None;
    Ok(UpdatePlan {
        core: next,
        lines: vec![format!("Reopened by {} (was {})", actor.name, core.status)],
        prev_department_id: None,
        notify: None,
    })
}

/// Escalation raises the priority one step, and at least to `high`.
pub fn escalated_priority(p: TicketPriority) -> TicketPriority {
    match p {
        TicketPriority::Low | TicketPriority::Medium => TicketPriority::High,
        TicketPriority::High | TicketPriority::Urgent => TicketPriority::Urgent,
    }
}

/// Escalate: raise the priority, optionally hand to another department or agent (an
/// agent named must work the target department). With no agent named, the ticket is
/// left unassigned so supervisors (told by the caller) pick it up.
pub fn escalate(
    actor: &Actor,
    core: &TicketCore,
    to_department: Option<(String, String)>,
    to_agent: Option<(String, String)>,
    may_hold: &dyn Fn(&str, &str) -> bool,
) -> Result<UpdatePlan, ApiError> {
    check_access(actor, core)?;
    check_not_merged(core)?;
    if core.status == TicketStatus::Closed {
        return Err(ApiError::conflict(
            "this ticket is closed; reopen it before escalating",
        ));
    }
    let mut next = core.clone();
    let mut lines = Vec::new();
    let to = escalated_priority(core.priority);
    let mut prev_department_id = None;
    let mut notify = None;
    let mut what = vec![format!("priority {} → {to}", core.priority)];
    next.priority = to;
    if let Some((dept, name)) = to_department
        && dept != core.department_id
    {
        prev_department_id = Some(core.department_id.clone());
        next.department_id = dept;
        what.push(format!("to {name}"));
        if to_agent.is_none() {
            next.assignee_id = None;
        }
    }
    if let Some((id, name)) = to_agent {
        if !may_hold(&id, &next.department_id) {
            return Err(ApiError::invalid(format!(
                "{name} does not work this ticket's department"
            )));
        }
        what.push(format!("handed to {name}"));
        if id != actor.id {
            notify = Some(id.clone());
        }
        next.assignee_id = Some(id);
    }
    if next.status != TicketStatus::Open {
        next.status = TicketStatus::Open;
    }
    lines.push(format!("Escalated by {}: {}", actor.name, what.join(", ")));
    Ok(UpdatePlan {
        core: next,
        lines,
        prev_department_id,
        notify,
    })
}

/// Mark or unmark as spam (spam tickets leave the default lists).
pub fn mark_spam(actor: &Actor, core: &TicketCore, spam: bool) -> Result<UpdatePlan, ApiError> {
    check_access(actor, core)?;
    check_not_merged(core)?;
    let mut next = core.clone();
    let mut lines = Vec::new();
    if spam != core.spam {
        next.spam = spam;
        lines.push(if spam {
            format!("Marked as spam by {}", actor.name)
        } else {
            format!("Not spam (marked by {})", actor.name)
        });
    }
    Ok(UpdatePlan {
        core: next,
        lines,
        prev_department_id: None,
        notify: None,
    })
}

// ---------------------------------------------------------------------------
// Merge, split, links

/// Merge `source` into `target`: not into itself, neither side already merged, both
/// visible to the actor, the target not closed. Merging across customers is allowed
/// and said in the lines. Returns (line on the source, line on the target).
pub fn check_merge(
    actor: &Actor,
    source: &TicketCore,
    target: &TicketCore,
    moved: usize,
) -> Result<(String, String), ApiError> {
    check_access(actor, source)?;
    check_access(actor, target)?;
    if source.id == target.id {
        return Err(ApiError::invalid("a ticket cannot be merged into itself"));
    }
    if let Some(into) = &target.merged_into {
        return Err(ApiError::conflict(format!(
            "ticket {} was itself merged into {into}; merge into that one",
            label(target.number)
        )));
    }
    check_not_merged(source)?;
    if target.status == TicketStatus::Closed {
        return Err(ApiError::conflict(format!(
            "ticket {} is closed; reopen it before merging into it",
            label(target.number)
        )));
    }
    let across = if source.customer_id != target.customer_id {
        " (another customer's ticket)"
    } else {
        ""
    };
    Ok((
        format!(
            "Merged into {} by {}{across}",
            label(target.number),
            actor.name
        ),
        format!(
            "Merged {} into this ticket by {}: {moved} entries moved{across}",
            label(source.number),
            actor.name
        ),
    ))
}

/// Split: the chosen entries (replies and notes of this ticket, no duplicates, not
/// all of them) move to a new ticket.
pub fn check_split(
    actor: &Actor,
    core: &TicketCore,
    chosen: &[String],
    entries: &[(String, EntryKind)],
) -> Result<(), ApiError> {
    check_access(actor, core)?;
    check_not_merged(core)?;
    if chosen.is_empty() {
        return Err(ApiError::invalid(
            "entry_ids is empty: choose entries to split off",
        ));
    }
    if chosen.len() > MAX_SPLIT_ENTRIES {
        return Err(ApiError::invalid(format!(
            "at most {MAX_SPLIT_ENTRIES} entries split at once"
        )));
    }
    for (i, id) in chosen.iter().enumerate() {
        if chosen[..i].contains(id) {
            return Err(ApiError::invalid(format!("entry {id:?} is named twice")));
        }
        match entries.iter().find(|(e, _)| e == id) {
            None => {
                return Err(ApiError::invalid(format!(
                    "entry {id:?} is not on ticket {}",
                    label(core.number)
                )));
            }
            Some((_, EntryKind::Event)) => {
                return Err(ApiError::invalid(format!(
                    "entry {id:?} is an event line; only replies and notes move"
                )));
            }
            Some(_) => {}
        }
    }
    let movable = entries
        .iter()
        .filter(|(_, k)| *k != EntryKind::Event)
        .count();
    if chosen.len() >= movable {
        return Err(ApiError::invalid(
            "a split leaves at least one reply or note on the ticket",
        ));
    }
    Ok(())
}

/// Link two tickets: not to itself, not `split_from` by hand, not too many.
pub fn check_link(
    actor: &Actor,
    core: &TicketCore,
    other: &TicketCore,
    kind: LinkKind,
    existing: usize,
) -> Result<String, ApiError> {
    check_access(actor, core)?;
    check_access(actor, other)?;
    if core.id == other.id {
        return Err(ApiError::invalid("a ticket cannot be linked to itself"));
    }
    if kind == LinkKind::SplitFrom {
        return Err(ApiError::invalid(
            "split_from links are made by a split; use related or duplicate_of",
        ));
    }
    if existing >= MAX_LINKS {
        return Err(ApiError::invalid(format!(
            "a ticket links at most {MAX_LINKS} others"
        )));
    }
    Ok(format!(
        "Linked {} ({kind}) by {}",
        label(other.number),
        actor.name
    ))
}

// ---------------------------------------------------------------------------
// Event lines for the creation

pub fn created_on_behalf_line(agent_name: &str, customer_name: &str) -> String {
    format!("Created by {agent_name} on behalf of {customer_name}")
}

pub fn split_line_new(from: i64, count: usize, actor: &Actor) -> String {
    format!(
        "Split from {} by {}: {count} entries moved",
        label(from),
        actor.name
    )
}

pub fn split_line_source(to: i64, count: usize, actor: &Actor) -> String {
    format!(
        "Split into {} by {}: {count} entries moved",
        label(to),
        actor.name
    )
}

pub fn cloned_line(from: i64, actor: &Actor) -> String {
    format!("Cloned from {} by {}", label(from), actor.name)
}

pub fn converted_line(actor: &Actor) -> String {
    format!("Created from a chat by {}", actor.name)
}

// ---------------------------------------------------------------------------
// A chat becomes a ticket

/// The timeline kind of a chat message: what the customer saw stays a reply, notes
/// stay notes, system lines become event lines.
pub fn entry_kind_of(kind: shared::model::MessageKind) -> EntryKind {
    match kind {
        shared::model::MessageKind::Text => EntryKind::Reply,
        shared::model::MessageKind::Note => EntryKind::Note,
        shared::model::MessageKind::Event => EntryKind::Event,
    }
}

/// The subject of a converted chat: the one given, else the customer's first line
/// (cut to fit), else "Chat with <name>".
pub fn chat_subject(given: Option<&str>, first_line: Option<&str>, customer_name: &str) -> String {
    if let Some(s) = given {
        return s.to_owned();
    }
    let line = first_line
        .and_then(|b| b.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|l| l.chars().take(MAX_SUBJECT_CHARS).collect::<String>());
    match line {
        Some(l) if validate_subject(&l).is_ok() => l,
        _ => format!("Chat with {customer_name}")
            .chars()
            .take(MAX_SUBJECT_CHARS)
            .collect(),
    }
}

/// A chat becomes one ticket only.
pub fn check_convert(existing: Option<i64>) -> Result<(), ApiError> {
    match existing {
        Some(n) => Err(ApiError::conflict(format!(
            "this chat already became ticket {}",
            label(n)
        ))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// What a customer sees

/// The customer's form of a ticket: no tags, links, resolution note, spam flag or
/// internal counters; `last_seq` and `entry_count` count only what they see.
pub fn customer_ticket(t: &Ticket, public_seq: i64) -> Ticket {
    let mut c = t.clone();
    c.tags.clear();
    c.links.clear();
    c.resolution = None;
    c.spam = false;
    c.assignee_id = None;
    c.customer.tags.clear();
    c.customer.custom_fields.clear();
    c.last_seq = public_seq;
    c.entry_count = public_seq;
    c
}

/// May a customer ever see this entry? Replies only (theirs and the agents').
pub fn visible_to_customer(kind: EntryKind) -> bool {
    kind == EntryKind::Reply
}

/// An entry as the customer receives it: numbered by `public_seq` (counting only what
/// they see, so gaps never reveal notes), files on the visitor route; `None` for
/// notes and event lines.
pub fn customer_entry_view(e: &TicketEntry, public_seq: Option<i64>) -> Option<TicketEntry> {
    if !visible_to_customer(e.kind) {
        return None;
    }
    let mut c = e.clone();
    c.seq = public_seq?;
    if c.author.kind == AuthorKind::Agent {
        // The customer sees who answered, not internal ids.
        c.author.id = String::new();
    }
    for a in &mut c.attachments {
        a.url = visitor_attachment_url(&a.id);
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{Author, Customer, Role};

    fn actor(id: &str, role: Role, depts: &[&str]) -> Actor {
        Actor {
            id: id.into(),
            name: format!("Agent {id}"),
            role,
            department_ids: depts.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn core(id: &str, number: i64) -> TicketCore {
        TicketCore {
            id: id.into(),
            number,
            subject: "Printer on fire".into(),
            customer_id: "c1".into(),
            department_id: "sales".into(),
            status: TicketStatus::Open,
            priority: TicketPriority::Medium,
            assignee_id: None,
            tags: vec![],
            due_at_ms: None,
            merged_into: None,
            spam: false,
            resolution: None,
        }
    }

    fn names(id: &str) -> Option<String> {
        match id {
            "a1" => Some("Ada".into()),
            "b1" => Some("Bob".into()),
            _ => None,
        }
    }

    fn holds(agent: &str, dept: &str) -> bool {
        matches!(
            (agent, dept),
            ("a1", "sales") | ("b1", "sales") | ("b1", "billing")
        )
    }

    #[test]
    fn subjects_are_one_line_of_1_to_200_characters() {
        assert_eq!(validate_subject("  Hello  ").unwrap(), "Hello");
        assert!(validate_subject("").is_err());
        assert!(validate_subject("   ").is_err());
        assert!(validate_subject(&"x".repeat(200)).is_ok());
        assert!(validate_subject(&"é".repeat(201)).is_err());
        assert!(validate_subject("two\nlines").is_err());
    }

    #[test]
    fn tags_are_validated_lowercased_deduplicated_and_bounded() {
        let t = validate_tags(&["VIP".into(), "vip".into(), "billing".into()]).unwrap();
        assert_eq!(t, ["vip", "billing"]);
        assert!(validate_tags(&["has space".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(validate_tags(&many).is_err());
        assert!(validate_tags(&many[..20]).is_ok());
    }

    #[test]
    fn due_dates_are_rfc3339_within_range() {
        let now = 1_764_800_000_000;
        assert_eq!(
            parse_due("2026-12-24T17:00:00Z", now).unwrap(),
            1_798_131_600_000
        );
        assert!(parse_due("tomorrow", now).is_err());
        assert!(parse_due("1999-12-31T23:00:00Z", now).is_err());
        assert!(parse_due("2099-01-01T00:00:00Z", now).is_err());
    }

    #[test]
    fn priorities_and_statuses_parse_with_clear_errors() {
        assert_eq!(parse_priority("urgent").unwrap(), TicketPriority::Urgent);
        let e = parse_priority("asap").unwrap_err();
        assert!(
            e.message.contains("low, medium, high, urgent"),
            "{}",
            e.message
        );
        assert_eq!(
            parse_status_list("open,pending,open").unwrap(),
            [TicketStatus::Open, TicketStatus::Pending]
        );
        assert!(parse_status_list("open,").is_err());
        assert!(priority_rank(TicketPriority::Low) < priority_rank(TicketPriority::Urgent));
    }

    #[test]
    fn numbers_are_found_in_searches() {
        assert_eq!(number_in_query("#1042"), Some(1042));
        assert_eq!(number_in_query(" 1042 "), Some(1042));
        assert_eq!(number_in_query("#"), None);
        assert_eq!(number_in_query("10a"), None);
        assert_eq!(number_in_query("99999999999999999999"), None);
    }

    #[test]
    fn agents_work_their_departments_and_their_own_tickets() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let mut t = core("t1", 1001);
        assert!(may_see(&a, &t));
        t.department_id = "billing".into();
        assert!(check_access(&a, &t).is_err());
        t.assignee_id = Some("a1".into());
        assert!(may_see(&a, &t));
        let s = actor("s1", Role::Supervisor, &[]);
        t.assignee_id = Some("b1".into());
        assert!(may_see(&s, &t));
        assert!(may_see(&actor("x", Role::Admin, &[]), &t));
    }

    #[test]
    fn visitors_see_their_own_tickets_only_and_reopen_them_by_answering() {
        let mut t = core("t1", 1001);
        assert!(customer_may_see("c1", &t));
        assert!(!customer_may_see("c2", &t));
        assert_eq!(customer_entry(&t, false).unwrap(), None);
        t.status = TicketStatus::Resolved;
        assert_eq!(customer_entry(&t, false).unwrap(), Some(TicketStatus::Open));
        t.status = TicketStatus::Closed;
        assert_eq!(
            customer_entry(&t, false).unwrap_err().code,
            shared::ErrorCode::Conflict
        );
        t.status = TicketStatus::Open;
        assert_eq!(
            customer_entry(&t, true).unwrap_err().code,
            shared::ErrorCode::Forbidden
        );
        t.spam = true;
        assert!(!customer_may_see("c1", &t));
    }

    #[test]
    fn agents_write_replies_and_notes_but_not_events_or_into_merged_tickets() {
        let mut t = core("t1", 1001);
        assert!(agent_entry(&t, EntryKind::Reply).is_ok());
        assert!(agent_entry(&t, EntryKind::Event).is_err());
        t.status = TicketStatus::Closed;
        assert!(agent_entry(&t, EntryKind::Reply).is_err());
        assert!(agent_entry(&t, EntryKind::Note).is_ok());
        t.merged_into = Some("t2".into());
        assert!(agent_entry(&t, EntryKind::Note).is_err());
    }

    #[test]
    fn updates_write_one_line_per_change() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let t = core("t1", 1001);
        let changes = TicketChanges {
            status: Some(TicketStatus::Pending),
            priority: Some(TicketPriority::High),
            assignee_id: Some(Some("b1".into())),
            add_tags: vec!["vip".into()],
            due_at_ms: Some(Some(1_798_131_600_000)),
            ..TicketChanges::default()
        };
        let plan = plan_update(&a, &t, &changes, &names, &holds).unwrap();
        assert_eq!(
            plan.lines,
            [
                "Status: open → pending",
                "Priority: medium → high",
                "Assignee: Bob",
                "Tags: vip",
                "Due date: none → 2026-12-24T17:00:00Z",
            ]
        );
        assert_eq!(plan.notify.as_deref(), Some("b1"));
        assert_eq!(plan.core.assignee_id.as_deref(), Some("b1"));
        // Nothing changed, nothing said.
        let same = plan_update(&a, &t, &TicketChanges::default(), &names, &holds).unwrap();
        assert!(same.lines.is_empty());
    }

    #[test]
    fn assignment_is_checked_against_the_department_and_the_holder() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let mut t = core("t1", 1001);
        let to = |id: &str| TicketChanges {
            assignee_id: Some(Some(id.into())),
            ..TicketChanges::default()
        };
        assert!(plan_update(&a, &t, &to("zz"), &names, &holds).is_err());
        t.department_id = "billing".into();
        t.assignee_id = Some("a1".into());
        // Ada holds it but does not work billing; Bob does.
        assert!(plan_update(&a, &t, &to("b1"), &names, &holds).is_ok());
        t.assignee_id = Some("b1".into());
        t.department_id = "sales".into();
        let e = plan_update(&a, &t, &to("a1"), &names, &holds);
        assert!(
            e.is_ok(),
            "taking a colleague's ticket for oneself is allowed"
        );
        let c = actor("c1", Role::Agent, &["sales"]);
        let e = plan_update(&c, &t, &to("a1"), &names, &holds).unwrap_err();
        assert_eq!(e.code, shared::ErrorCode::Forbidden);
        let s = actor("s1", Role::Supervisor, &[]);
        assert!(plan_update(&s, &t, &to("a1"), &names, &holds).is_ok());
    }

    #[test]
    fn closed_tickets_change_status_only_by_reopening_and_closing_needs_a_resolution() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let mut t = core("t1", 1001);
        let closing = TicketChanges {
            status: Some(TicketStatus::Closed),
            ..TicketChanges::default()
        };
        assert!(plan_update(&a, &t, &closing, &names, &holds).is_err());
        let plan = close(&a, &t, "Replaced the toner").unwrap();
        assert_eq!(plan.core.status, TicketStatus::Closed);
        assert_eq!(plan.core.resolution.as_deref(), Some("Replaced the toner"));
        assert_eq!(
            plan.lines,
            ["Status: open → closed", "Resolution: Replaced the toner"]
        );
        t = plan.core;
        assert!(close(&a, &t, "again").is_err());
        let back = TicketChanges {
            status: Some(TicketStatus::Open),
            ..TicketChanges::default()
        };
        assert!(plan_update(&a, &t, &back, &names, &holds).is_err());
        let r = reopen(&a, &t).unwrap();
        assert_eq!(r.core.status, TicketStatus::Open);
        assert_eq!(r.core.resolution, None);
        assert!(
            reopen(&a, &r.core).is_err(),
            "an open ticket does not reopen"
        );
        assert!(validate_resolution("  ").is_err());
        assert!(validate_resolution(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn escalation_raises_priority_and_hands_over() {
        assert_eq!(
            escalated_priority(TicketPriority::Low),
            TicketPriority::High
        );
        assert_eq!(
            escalated_priority(TicketPriority::High),
            TicketPriority::Urgent
        );
        assert_eq!(
            escalated_priority(TicketPriority::Urgent),
            TicketPriority::Urgent
        );
        let a = actor("a1", Role::Agent, &["sales"]);
        let mut t = core("t1", 1001);
        t.assignee_id = Some("a1".into());
        t.status = TicketStatus::Pending;
        let plan = escalate(
            &a,
            &t,
            Some(("billing".into(), "Billing".into())),
            None,
            &holds,
        )
        .unwrap();
        assert_eq!(plan.core.priority, TicketPriority::High);
        assert_eq!(plan.core.department_id, "billing");
        assert_eq!(plan.core.assignee_id, None);
        assert_eq!(plan.core.status, TicketStatus::Open);
        assert_eq!(plan.prev_department_id.as_deref(), Some("sales"));
        assert_eq!(
            plan.lines,
            ["Escalated by Agent a1: priority medium → high, to Billing"]
        );
        let to_bob = escalate(&a, &t, None, Some(("b1".into(), "Bob".into())), &holds).unwrap();
        assert_eq!(to_bob.notify.as_deref(), Some("b1"));
        let bad = escalate(
            &a,
            &t,
            Some(("billing".into(), "Billing".into())),
            Some(("a1".into(), "Ada".into())),
            &holds,
        );
        assert!(bad.is_err(), "Ada does not work billing");
    }

    #[test]
    fn merge_rules() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let s = core("t1", 1001);
        let mut t = core("t2", 1002);
        let (on_source, on_target) = check_merge(&a, &s, &t, 3).unwrap();
        assert_eq!(on_source, "Merged into #1002 by Agent a1");
        assert_eq!(
            on_target,
            "Merged #1001 into this ticket by Agent a1: 3 entries moved"
        );
        assert!(check_merge(&a, &s, &s, 1).is_err(), "not into itself");
        t.customer_id = "c2".into();
        let (_, line) = check_merge(&a, &s, &t, 1).unwrap();
        assert!(line.ends_with("(another customer's ticket)"), "{line}");
        t.merged_into = Some("t9".into());
        assert_eq!(
            check_merge(&a, &s, &t, 1).unwrap_err().code,
            shared::ErrorCode::Conflict
        );
        t.merged_into = None;
        t.status = TicketStatus::Closed;
        assert!(check_merge(&a, &s, &t, 1).is_err());
        t.status = TicketStatus::Open;
        t.department_id = "billing".into();
        assert_eq!(
            check_merge(&a, &s, &t, 1).unwrap_err().code,
            shared::ErrorCode::Forbidden
        );
    }

    #[test]
    fn split_rules() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let t = core("t1", 1001);
        let entries = vec![
            ("e1".to_owned(), EntryKind::Reply),
            ("e2".to_owned(), EntryKind::Event),
            ("e3".to_owned(), EntryKind::Note),
            ("e4".to_owned(), EntryKind::Reply),
        ];
        assert!(check_split(&a, &t, &["e3".into(), "e4".into()], &entries).is_ok());
        assert!(check_split(&a, &t, &[], &entries).is_err());
        assert!(
            check_split(&a, &t, &["e2".into()], &entries).is_err(),
            "no event lines"
        );
        assert!(check_split(&a, &t, &["e9".into()], &entries).is_err());
        assert!(check_split(&a, &t, &["e1".into(), "e1".into()], &entries).is_err());
        assert!(
            check_split(&a, &t, &["e1".into(), "e3".into(), "e4".into()], &entries).is_err(),
            "something stays"
        );
    }

    #[test]
    fn link_rules() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let t = core("t1", 1001);
        let o = core("t2", 1002);
        assert_eq!(
            check_link(&a, &t, &o, LinkKind::Related, 0).unwrap(),
            "Linked #1002 (related) by Agent a1"
        );
        assert!(check_link(&a, &t, &t, LinkKind::Related, 0).is_err());
        assert!(check_link(&a, &t, &o, LinkKind::SplitFrom, 0).is_err());
        assert!(check_link(&a, &t, &o, LinkKind::Related, MAX_LINKS).is_err());
    }

    #[test]
    fn a_chat_becomes_one_ticket_with_a_subject() {
        use shared::model::MessageKind;
        assert_eq!(entry_kind_of(MessageKind::Text), EntryKind::Reply);
        assert_eq!(entry_kind_of(MessageKind::Note), EntryKind::Note);
        assert_eq!(entry_kind_of(MessageKind::Event), EntryKind::Event);
        assert_eq!(chat_subject(Some("Given"), Some("x"), "Vera"), "Given");
        assert_eq!(
            chat_subject(None, Some("\n  My parcel\nis lost"), "Vera"),
            "My parcel"
        );
        assert_eq!(chat_subject(None, None, "Vera"), "Chat with Vera");
        assert_eq!(
            chat_subject(None, Some(&"y".repeat(300)), "V")
                .chars()
                .count(),
            200
        );
        assert!(check_convert(None).is_ok());
        assert!(
            check_convert(Some(1042))
                .unwrap_err()
                .message
                .contains("#1042")
        );
    }

    #[test]
    fn spam_marks_write_a_line_once() {
        let a = actor("a1", Role::Agent, &["sales"]);
        let t = core("t1", 1001);
        let p = mark_spam(&a, &t, true).unwrap();
        assert!(p.core.spam);
        assert_eq!(p.lines.len(), 1);
        assert!(mark_spam(&a, &p.core, true).unwrap().lines.is_empty());
    }

    #[test]
    fn customers_see_replies_only_numbered_without_gaps() {
        let when = time::OffsetDateTime::UNIX_EPOCH;
        let entry = |kind: EntryKind| TicketEntry {
            id: "e".into(),
            ticket_id: "t1".into(),
            seq: 7,
            client_msg_id: "m".into(),
            author: Author {
                kind: AuthorKind::Agent,
                id: "a1".into(),
                name: "Ada".into(),
            },
            kind,
            body: "hi".into(),
            attachments: vec![],
            created_at: when,
        };
        assert!(customer_entry_view(&entry(EntryKind::Note), None).is_none());
        assert!(customer_entry_view(&entry(EntryKind::Event), None).is_none());
        let r = customer_entry_view(&entry(EntryKind::Reply), Some(3)).unwrap();
        assert_eq!(r.seq, 3, "numbered among what the customer sees");
        assert_eq!(r.author.id, "");
        let ticket = Ticket {
            id: "t1".into(),
            number: 1001,
            subject: "s".into(),
            status: TicketStatus::Open,
            priority: TicketPriority::Low,
            customer: Customer {
                id: "c1".into(),
                name: "Vera".into(),
                email: None,
                phone: None,
                location: None,
                tags: vec!["internal".into()],
                custom_fields: Default::default(),
                blocked: false,
                created_at: when,
            },
            department_id: "sales".into(),
            assignee_id: Some("a1".into()),
            tags: vec!["vip".into()],
            due_at: None,
            created_at: when,
            updated_at: when,
            source: shared::ticket::TicketSource::Agent,
            chat_id: None,
            merged_into: None,
            links: vec![],
            resolution: Some("internal".into()),
            spam: false,
            last_seq: 9,
            entry_count: 9,
        };
        let c = customer_ticket(&ticket, 4);
        assert!(c.tags.is_empty() && c.customer.tags.is_empty());
        assert_eq!((c.last_seq, c.entry_count, c.resolution), (4, 4, None));
    }
}
