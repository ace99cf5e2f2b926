//! The visitor's numbering: the chat's messages as its visitor counts them, with no
//! gap where the notes are, and agents' read receipts translated to it.

use super::*;

/// At this point of the story Vera's chat holds six messages she can see (1–6) and
/// three notes after them (7–9).
pub(crate) async fn numbering_hides_notes(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    chat: &str,
) {
    let all = store.messages(chat, None, 50, true).await.unwrap();
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert!(all[6..].iter().all(|m| m.kind == MessageKind::Note));
    let numbers = store.visitor_numbers(chat).await.unwrap();
    assert_eq!(
        numbers.last_seq, 6,
        "the notes after the last message count nothing"
    );
    let theirs = store.visitor_messages(chat, None, 50).await.unwrap();
    assert_eq!(seqs(&theirs), [1, 2, 3, 4, 5, 6]);
    assert!(theirs.iter().all(|m| m.kind != MessageKind::Note));
    let older = store.visitor_messages(chat, Some(6), 2).await.unwrap();
    assert_eq!(seqs(&older), [4, 5], "paged by the visitor's numbers");
    refused(
        store.visitor_numbers("no-such-chat").await,
        NotFound,
        "no-such-chat",
    );

    // An agent reads up to the last message Vera can see: she hears of it; reading on
    // to the notes tells her nothing.
    let before = store.latest_event_id().await.unwrap();
    store.agent_read(&team.alice, chat, 6).await.unwrap();
    store.agent_read(&team.alice, chat, 9).await.unwrap();
    assert_eq!(
        store.chat(chat).await.unwrap().unwrap().agent_read_seq,
        9,
        "agents keep the chat's numbering"
    );
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), before).await;
    let reads: Vec<i64> = seen
        .iter()
        .filter_map(|e| match e {
            ServerEvent::MessageRead(r) => Some(r.seq),
            _ => None,
        })
        .collect();
    assert_eq!(reads, [6], "the read of the notes was not told");
    let (heard, _) = sync(store, &Viewer::Agent(team.alice.clone()), before).await;
    let agent_reads: Vec<i64> = heard
        .iter()
        .filter_map(|e| match e {
            ServerEvent::MessageRead(r) => Some(r.seq),
            _ => None,
        })
        .collect();
    assert_eq!(agent_reads, [6, 9]);
    let numbers = store.visitor_numbers(chat).await.unwrap();
    assert_eq!((numbers.last_seq, numbers.agent_read_seq), (6, 6));

    // Vera reads in her numbering: beyond her last message is outside her chat, even
    // where the chat's own numbering goes on.
    refused(
        store.customer_read(&vera.id, Some(chat), 7).await,
        Invalid,
        "outside the chat (1..=6)",
    );
}
