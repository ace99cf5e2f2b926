//! Reports over live writes: a chat answered, noted, closed and rated through the
//! store shows in its agent's figures at once, exactly, and only in theirs.

use super::*;
use widget_server::domain::metrics::{Period, ReportScope, report_scope};
use widget_server::domain::report::rfc3339;
use widget_server::store::reports;

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) async fn reporting(store: &dyn Store, team: &Team) {
    let rita = store
        .resolve_visitor(None, Some("Rita"), None)
        .await
        .unwrap();
    let cid = rita.customer.id.clone();
    let (chat, _) = store
        .start_chat(
            &cid,
            &team.sales.id,
            "Is the X1 in stock?",
            &new_id(),
            None,
            None,
        )
        .await
        .unwrap();
    let started = ms(chat.created_at);
    let period = |end: i64| {
        Period::parse(
            Some(&rfc3339(started)),
            Some(&rfc3339(end + 1)),
            Some("UTC"),
            end,
        )
        .unwrap()
    };
    let alice = report_scope(&team.alice, None, None).unwrap();
    let nothing = reports::summary(store, &period(started), &alice)
        .await
        .unwrap();
    assert_eq!(
        (nothing.first_response_s.count, nothing.chats_handled),
        (0, 0),
        "not answered yet"
    );

    store.claim(&team.alice, &chat.id).await.unwrap();
    store
        .agent_send(
            &team.alice,
            &chat.id,
            &new_id(),
            "checking stock",
            MessageKind::Note,
            &[],
        )
        .await
        .unwrap();
    let yes = store
        .agent_send(
            &team.alice,
            &chat.id,
            &new_id(),
            "Yes, 4 left",
            MessageKind::Text,
            &[],
        )
        .await
        .unwrap();
    let price = store
        .customer_send(&cid, Some(&chat.id), &new_id(), "Price?", &[])
        .await
        .unwrap();
    let answer = store
        .agent_send(
            &team.alice,
            &chat.id,
            &new_id(),
            "199 EUR",
            MessageKind::Text,
            &[],
        )
        .await
        .unwrap();
    let closed = store.close(&team.alice, &chat.id, None).await.unwrap();
    store
        .rate(&cid, Some(&chat.id), 4, Some("quick and clear"))
        .await
        .unwrap();

    let first = ms(yes.created_at) - started;
    let second = ms(answer.created_at) - ms(price.created_at);
    let end = ms(answer.created_at).max(ms(closed.created_at));
    let now = period(end.max(widget_server::store::now_ms()));
    let s = reports::summary(store, &now, &alice).await.unwrap();
    let secs = |v: i64| (v as f64 / 100.0).round() / 10.0;
    assert_eq!(s.first_response_s.count, 1, "the note is no reply");
    assert_eq!(s.first_response_s.avg, Some(secs(first)));
    assert_eq!(s.response_s.count, 2);
    assert_eq!(
        s.response_s.avg,
        Some(((first + second) as f64 / 2.0 / 100.0).round() / 10.0)
    );
    assert_eq!(
        (s.chats_handled, s.csat.rated, s.csat.score_pct),
        (1, 1, Some(100.0))
    );
    let r = reports::ratings(store, &now, &alice).await.unwrap();
    assert_eq!(r.comments.len(), 1);
    assert_eq!(r.comments[0].comment, "quick and clear");

    // Bob did nothing in this period; an agent cannot ask for a colleague's figures.
    let bob = report_scope(&team.bob, None, None).unwrap();
    let s = reports::summary(store, &now, &bob).await.unwrap();
    assert_eq!((s.chats_handled, s.response_s.count), (0, 0));
    assert!(report_scope(&team.bob, Some(&team.alice.id), None).is_err());
    let everyone = ReportScope::All {
        agent_id: None,
        department_id: Some(team.sales.id.clone()),
    };
    let rows = reports::agents(store, &now, &everyone).await.unwrap();
    let alice_row = rows
        .items
        .iter()
        .find(|r| r.agent_id == team.alice.id)
        .unwrap();
    assert_eq!(alice_row.chats_handled, 1);
    assert!(
        rows.items.iter().all(|r| r.agent_id != team.carol.id),
        "Carol is in Support"
    );
}
