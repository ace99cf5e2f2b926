//! Department routing: where a chat lands.

use shared::model::{Agent, Department};
use shared::{ApiError, ErrorCode};

/// The department a chat goes to when a transfer names an agent but no department:
/// the chat stays where it is if the agent works there, else it moves to the agent's
/// first department so their colleagues see it.
pub fn department_for_agent(current: &str, agent: &Agent) -> String {
    if agent.department_ids.iter().any(|d| d == current) {
        return current.to_owned();
    }
    agent
        .department_ids
        .first()
        .cloned()
        .unwrap_or_else(|| current.to_owned())
}

/// The department a new chat goes to: the one asked for (id or name), the configured
/// default, or the department created first (`departments` in creation order).
pub fn pick_department(
    departments: &[Department],
    asked: Option<&str>,
    configured: Option<&str>,
) -> Result<String, ApiError> {
    let find = |key: &str| {
        departments
            .iter()
            .find(|d| d.id == key || d.name.eq_ignore_ascii_case(key))
            .map(|d| d.id.clone())
    };
    if let Some(a) = asked.filter(|a| !a.is_empty()) {
        return find(a).ok_or_else(|| ApiError::invalid(format!("no department {a:?}")));
    }
    if let Some(d) = configured.and_then(find) {
        return Ok(d);
    }
    departments.first().map(|d| d.id.clone()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "no department is set up to take chats yet",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{AgentStatus, Role};

    fn agent(depts: &[&str]) -> Agent {
        Agent {
            id: "a".into(),
            name: "A".into(),
            email: "a@example.com".into(),
            role: Role::Agent,
            status: AgentStatus::Online,
            department_ids: depts.iter().map(|d| (*d).to_owned()).collect(),
            max_chats: 8,
            active_chats: 0,
        }
    }

    #[test]
    fn a_chat_follows_an_agent_to_their_department_only_when_needed() {
        assert_eq!(
            department_for_agent("sales", &agent(&["billing", "sales"])),
            "sales"
        );
        assert_eq!(
            department_for_agent("sales", &agent(&["billing"])),
            "billing"
        );
        assert_eq!(department_for_agent("sales", &agent(&[])), "sales");
    }

    #[test]
    fn a_new_chat_goes_where_asked_then_to_the_default_then_to_the_first() {
        let d = |id: &str, name: &str| Department {
            id: id.into(),
            name: name.into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let all = vec![d("d1", "Sales"), d("d2", "Support")];
        assert_eq!(
            pick_department(&all, Some("support"), None).as_deref(),
            Ok("d2")
        );
        assert!(pick_department(&all, Some("Nope"), None).is_err());
        assert_eq!(
            pick_department(&all, None, Some("Support")).as_deref(),
            Ok("d2")
        );
        assert_eq!(
            pick_department(&all, None, Some("gone")).as_deref(),
            Ok("d1")
        );
        assert!(pick_department(&[], None, None).is_err());
    }
}
