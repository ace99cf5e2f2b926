//! The `:filter` line: `status=open,pending priority>=high assignee=me tag=x
//! dept=Sales spam=any`, parsed into a `TicketFilter` with agent and department names
//! resolved, or refused with words saying which term is wrong and why.

use shared::ticket::{TicketPriority, TicketStatus};

use crate::state::State;
use crate::state::views::tickets::{AssigneeFilter, SpamFilter, TicketFilter};

const FIELDS: &str = "status, priority, assignee, tag, dept, spam";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
        }
    }
}

/// Splits on spaces outside double quotes; the quotes go.
fn terms(input: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn split_term(term: &str) -> Result<(String, Op, String), String> {
    let Some(at) = term.find(['=', '>', '<', ':']) else {
        return Err(format!(
            "{term:?} is not a filter: write field=value (fields: {FIELDS})"
        ));
    };
    let key = term[..at].trim().to_lowercase();
    let rest = &term[at..];
    let (op, len) = if rest.starts_with(">=") {
        (Op::Ge, 2)
    } else if rest.starts_with("<=") {
        (Op::Le, 2)
    } else if rest.starts_with('>') {
        (Op::Gt, 1)
    } else if rest.starts_with('<') {
        (Op::Lt, 1)
    } else {
        (Op::Eq, 1)
    };
    let value = rest[len..].trim().to_owned();
    if key.is_empty() {
        return Err(format!("{term:?} names no field (fields: {FIELDS})"));
    }
    if value.is_empty() {
        return Err(format!("{key}{} needs a value", op.as_str()));
    }
    Ok((key, op, value))
}

fn only_eq(key: &str, op: Op, example: &str) -> Result<(), String> {
    if op == Op::Eq {
        Ok(())
    } else {
        Err(format!(
            "{key} takes = only, not {} (e.g. {example})",
            op.as_str()
        ))
    }
}

fn priorities(op: Op, p: TicketPriority) -> (Vec<TicketPriority>, Option<TicketPriority>) {
    let all = TicketPriority::ALL;
    match op {
        Op::Eq => (vec![p], None),
        Op::Ge => (Vec::new(), Some(p)),
        Op::Gt => match all
            .iter()
            .position(|x| *x == p)
            .and_then(|i| all.get(i + 1))
        {
            Some(next) => (Vec::new(), Some(*next)),
            // Nothing is above urgent: a filter that matches nothing, said plainly.
            None => (Vec::new(), None),
        },
        Op::Le => (all.iter().copied().filter(|x| *x <= p).collect(), None),
        Op::Lt => (all.iter().copied().filter(|x| *x < p).collect(), None),
    }
}

/// Finds one entry by id or by name (exact, else the only one starting so).
fn resolve<'a>(
    what: &str,
    value: &str,
    items: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<String, String> {
    let v = value.to_lowercase();
    if let Some((id, _)) = items
        .clone()
        .find(|(id, name)| *id == value || name.to_lowercase() == v)
    {
        return Ok(id.to_owned());
    }
    let hits: Vec<(&str, &str)> = items
        .clone()
        .filter(|(_, name)| {
            let n = name.to_lowercase();
            n.starts_with(&v) || n.split(' ').any(|w| w.starts_with(&v))
        })
        .collect();
    match hits.as_slice() {
        [(id, _)] => Ok((*id).to_owned()),
        [] => {
            let names: Vec<&str> = items.map(|(_, n)| n).collect();
            Err(format!(
                "no {what} named {value:?}{}",
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (known: {})", names.join(", "))
                }
            ))
        }
        many => {
            let names: Vec<&str> = many.iter().map(|(_, n)| *n).collect();
            Err(format!(
                "{value:?} could be {}: write more of the name",
                names.join(" or ")
            ))
        }
    }
}

/// The filter a `:filter` line asks for. An empty line (or `all`/`clear`) is no
/// filter; the first wrong term refuses the whole line.
pub fn parse_filter(state: &State, input: &str) -> Result<TicketFilter, String> {
    let mut f = TicketFilter::default();
    let terms = terms(input)?;
    if matches!(terms.as_slice(), [one] if one == "all" || one == "clear" || one == "none") {
        return Ok(f);
    }
    for term in terms {
        let (key, op, value) = split_term(&term)?;
        match key.as_str() {
            "status" | "s" => {
                only_eq("status", op, "status=open,pending")?;
                f.status.clear();
                for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                    if v == "all" || v == "any" {
                        f.status.clear();
                        break;
                    }
                    let s: TicketStatus = v.to_lowercase().parse()?;
                    if !f.status.contains(&s) {
                        f.status.push(s);
                    }
                }
            }
            "priority" | "prio" | "p" => {
                f.priority.clear();
                f.priority_min = None;
                let values: Vec<&str> = value.split(',').map(str::trim).collect();
                if values.len() > 1 {
                    only_eq("a list of priorities", op, "priority=high,urgent")?;
                }
                for v in values {
                    let p: TicketPriority = v.to_lowercase().parse()?;
                    let (list, min) = priorities(op, p);
                    if op == Op::Gt && min.is_none() {
                        return Err(
                            "nothing is above urgent: priority>urgent matches no ticket".into()
                        );
                    }
                    if op == Op::Lt && list.is_empty() {
                        return Err("nothing is below low: priority<low matches no ticket".into());
                    }
                    for p in list {
                        if !f.priority.contains(&p) {
                            f.priority.push(p);
                        }
                    }
                    f.priority_min = min.or(f.priority_min);
                }
            }
            "assignee" | "assigned" | "a" => {
                only_eq("assignee", op, "assignee=me")?;
                f.assignee = Some(match value.to_lowercase().as_str() {
                    "me" | "mine" => AssigneeFilter::Me,
                    "none" | "nobody" | "unassigned" => AssigneeFilter::Unassigned,
                    _ => {
                        let agents = state
                            .directory
                            .agents
                            .iter()
                            .map(|a| (a.id.as_str(), a.name.as_str()));
                        AssigneeFilter::Agent(resolve("agent", &value, agents)?)
                    }
                });
            }
            "tag" | "t" => {
                only_eq("tag", op, "tag=refund")?;
                let tag =
                    shared::limits::validate_line("tag", &value, shared::limits::MAX_TAG_CHARS)
                        .map_err(|e| e.message)?;
                f.tag = Some(tag);
            }
            "dept" | "department" | "d" => {
                only_eq("dept", op, "dept=Sales")?;
                let deps = state
                    .directory
                    .departments
                    .iter()
                    .map(|d| (d.id.as_str(), d.name.as_str()));
                f.department_id = Some(resolve("department", &value, deps)?);
            }
            "spam" => {
                only_eq("spam", op, "spam=any")?;
                f.spam = match value.to_lowercase().as_str() {
                    "no" | "false" | "hide" => SpamFilter::Hide,
                    "yes" | "true" | "only" => SpamFilter::Only,
                    "any" | "all" => SpamFilter::Any,
                    other => {
                        return Err(format!("spam={other}? use spam=no, spam=yes or spam=any"));
                    }
                };
            }
            other => {
                return Err(format!("unknown filter field {other:?}: use {FIELDS}"));
            }
        }
    }
    Ok(f)
}

/// The filter as a `:filter` line, for the header (names, not ids).
pub fn describe(state: &State, f: &TicketFilter) -> String {
    let mut parts = Vec::new();
    if !f.status.is_empty() {
        let v: Vec<&str> = f.status.iter().map(|s| s.as_str()).collect();
        parts.push(format!("status={}", v.join(",")));
    }
    if let Some(p) = f.priority_min {
        parts.push(format!("priority>={p}"));
    }
    if !f.priority.is_empty() {
        let v: Vec<&str> = f.priority.iter().map(|s| s.as_str()).collect();
        parts.push(format!("priority={}", v.join(",")));
    }
    match &f.assignee {
        Some(AssigneeFilter::Me) => parts.push("assignee=me".into()),
        Some(AssigneeFilter::Unassigned) => parts.push("assignee=none".into()),
        Some(AssigneeFilter::Agent(id)) => parts.push(format!(
            "assignee={}",
            quote(state.agent_name(id).unwrap_or(id))
        )),
        None => {}
    }
    if let Some(t) = &f.tag {
        parts.push(format!("tag={}", quote(t)));
    }
    if let Some(d) = &f.department_id {
        parts.push(format!(
            "dept={}",
            quote(state.department_name(d).unwrap_or(d))
        ));
    }
    match f.spam {
        SpamFilter::Hide => {}
        SpamFilter::Only => parts.push("spam=yes".into()),
        SpamFilter::Any => parts.push("spam=any".into()),
    }
    parts.join(" ")
}

fn quote(s: &str) -> String {
    if s.contains(' ') {
        format!("\"{s}\"")
    } else {
        s.to_owned()
    }
}
