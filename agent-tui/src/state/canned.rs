//! The canned-response picker: its query and selection, the fuzzy ranking of the
//! responses, and the values of the `{{variables}}` for the open chat.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use shared::canned::{CannedResponse, first_name, substitute};

use super::State;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CannedPicker {
    pub query: String,
    /// Index into `ranked(...)`.
    pub selected: usize,
    /// Browsing the list with j/k instead of typing the search (Tab switches).
    pub browsing: bool,
    /// Opened by typing `/` into an empty composer: that `/` is replaced on insert.
    pub slash: bool,
}

/// Indices of the responses matching `query`, best first: a shortcut match counts
/// most, then the title, then the body. An empty query keeps the list order
/// (by shortcut, as the server sends it).
pub fn ranked(items: &[CannedResponse], query: &str) -> Vec<usize> {
    let query = query.trim();
    if query.is_empty() {
        return (0..items.len()).collect();
    }
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut score = |hay: &str| pattern.score(Utf32Str::new(hay, &mut buf), &mut matcher);
    let mut hits: Vec<(u32, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let best = [
                score(&c.shortcut).map(|s| s.saturating_mul(4)),
                score(&c.title).map(|s| s.saturating_mul(2)),
                score(&c.body),
            ]
            .into_iter()
            .flatten()
            .max()?;
            Some((best, i))
        })
        .collect();
    // Stable: equal scores keep the list order.
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    hits.into_iter().map(|(_, i)| i).collect()
}

impl State {
    /// The value of one variable for the open chat and the signed-in agent.
    pub fn canned_variable(&self, name: &str) -> Option<String> {
        // In the Tickets view the variables are the open ticket's.
        let (customer, department) = if self.view == super::ViewId::Tickets {
            let t = self.tickets.open_ticket();
            (t.map(|t| &t.customer), t.map(|t| t.department_id.as_str()))
        } else {
            let c = self.chats.open_entry().map(|e| &e.chat);
            (c.map(|c| &c.customer), c.map(|c| c.department_id.as_str()))
        };
        let me = self.me();
        match name {
            "customer_name" => customer.map(|c| c.name.clone()),
            "customer_first_name" => customer.map(|c| first_name(&c.name).to_owned()),
            "customer_email" => customer.and_then(|c| c.email.clone()),
            "agent_name" => me.map(|a| a.name.clone()),
            "agent_first_name" => me.map(|a| first_name(&a.name).to_owned()),
            "department" => department
                .and_then(|d| self.department_name(d))
                .map(str::to_owned),
            _ => None,
        }
        .filter(|v| !v.trim().is_empty())
    }

    /// A response's body with the variables filled in for the open chat.
    pub fn canned_text(&self, c: &CannedResponse) -> String {
        substitute(&c.body, |n| self.canned_variable(n))
    }

    /// The responses the picker shows now, best first.
    pub fn canned_visible(&self) -> Vec<&CannedResponse> {
        let q = self
            .chats
            .canned_picker
            .as_ref()
            .map(|p| p.query.as_str())
            .unwrap_or("");
        ranked(&self.chats.canned, q)
            .into_iter()
            .filter_map(|i| self.chats.canned.get(i))
            .collect()
    }

    /// The response under the picker's cursor.
    pub fn canned_selected(&self) -> Option<&CannedResponse> {
        let sel = self.chats.canned_picker.as_ref()?.selected;
        self.canned_visible().get(sel).copied()
    }
}
