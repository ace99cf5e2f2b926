//! The store's contract told as one story over `&dyn Store` — every operation and its
//! refusals — run on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use futures_util::future::join_all;
use shared::ErrorCode::{
    Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthorized, Unavailable,
};
use shared::canned::{CannedInput, CannedScope};
use shared::events::ServerEvent;
use shared::limits::{MAX_SYNC_EVENTS, MAX_TAGS_PER_CHAT};
use shared::model::{
    AgentStatus, AuthorKind, ChatStatus, Department, EventId, Message, MessageKind, Rating, Role,
};
use widget_server::store::{
    Actor, ChatFilter, ChatSort, NewAgent, Published, Store, SyncResult, UploadQuota, Viewer,
};

use common::backends::{
    SqliteBackend, TempPgDatabase, open_postgres, postgres_server, refused, with_database,
};
use common::new_id;

// The chapters, in the order the story tells them.
#[path = "store_story/canned.rs"]
mod canned;
#[path = "store_story/chat_lifecycle.rs"]
mod chat_lifecycle;
#[path = "store_story/customers.rs"]
mod customers;
#[path = "store_story/directory_and_visitors.rs"]
mod directory_and_visitors;
#[path = "store_story/files_sessions_sync.rs"]
mod files_sessions_sync;
#[path = "store_story/knowledge_base.rs"]
mod knowledge_base;
#[path = "store_story/reporting.rs"]
mod reporting;
#[path = "store_story/tickets.rs"]
mod tickets;
#[path = "store_story/visitor_numbering.rs"]
mod visitor_numbering;
#[path = "store_story/working_chats.rs"]
mod working_chats;

use canned::canned_responses;
use chat_lifecycle::{blocking, close_rate_reopen, presence, read_receipts};
use customers::customers;
use directory_and_visitors::{directory, messages, starting_chats, visitors};
use files_sessions_sync::{attachments, flood, syncing, tokens_and_passwords};
use knowledge_base::knowledge_base;
use reporting::reporting;
use tickets::tickets;
use working_chats::{claiming, listing_chats, replies_and_notes, tags, transfers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_on_sqlite() {
    let backend = SqliteBackend::open().await;
    story(&*backend.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_on_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("TEST_DATABASE_URL is not set: the store story ran on SQLite only");
        return;
    };
    let db = TempPgDatabase::create(&server).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let outcome = AssertUnwindSafe(async {
        let store = open_postgres(&db.url, dir.path()).await;
        story(&*store).await;
    })
    .catch_unwind()
    .await;
    // Dropped even when the story failed, so a red run leaves no database behind.
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn test_database_urls_name_the_new_database() {
    assert_eq!(
        with_database("postgres://me@127.0.0.1:5432/postgres", "t1"),
        "postgres://me@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://127.0.0.1:5432", "t1"),
        "postgres://127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "t1"),
        "postgresql://u:p@h/t1?sslmode=disable"
    );
}

/// The people of the story.
struct Team {
    sales: Department,
    support: Department,
    /// agent, Sales
    alice: Actor,
    /// agent, Sales
    bob: Actor,
    /// agent, Support
    carol: Actor,
    /// supervisor, Sales
    sam: Actor,
    /// admin, no department
    ada: Actor,
}

/// A visitor as the widget knows them.
struct Person {
    id: String,
    token: String,
}

/// The whole story, in the order a day at the help desk would tell it; the store is
/// closed at the end.
async fn story(store: &dyn Store) {
    let mut published = store.take_events().expect("the event stream is there once");
    assert!(store.take_events().is_none(), "and only once");
    assert_eq!(store.latest_event_id().await.unwrap(), 0, "a new store");

    let team = directory(store).await;
    let (vera, walt, newcomer) = visitors(store).await;
    let chat = starting_chats(store, &team, &vera, &walt, &newcomer).await;
    let [vera_chat, walt_chat, newcomer_chat] = &chat;
    messages(store, &vera, &walt, vera_chat).await;
    listing_chats(store, &team, &chat).await;
    claiming(store, &team, vera_chat, newcomer_chat).await;
    replies_and_notes(store, &team, &vera, vera_chat, walt_chat).await;
    visitor_numbering::numbering_hides_notes(store, &team, &vera, vera_chat).await;
    transfers(store, &team, vera_chat).await;
    tags(store, &team, &vera, vera_chat).await;
    read_receipts(store, &team, &vera, &walt, vera_chat).await;
    close_rate_reopen(store, &team, &vera, &walt, vera_chat).await;
    blocking(store, &team, &vera).await;
    presence(store, &team, &vera).await;
    attachments(store, &team, &vera, &walt, vera_chat, walt_chat).await;
    tokens_and_passwords(store, &team).await;
    syncing(store, &team, &vera, &walt, [vera_chat, walt_chat]).await;
    canned_responses(store, &team).await;
    tickets(store, &team).await;
    knowledge_base(store, &team).await;
    reporting(store, &team).await;
    customers(store, &team, &vera).await;

    // Everything committed so far was delivered, once, in event-id order, to the
    // right people; and what an admin replays is what was pushed.
    let mut delivered = drain(&mut published);
    let latest = store.latest_event_id().await.unwrap();
    assert_eq!(
        ids(&delivered),
        (1..=latest).collect::<Vec<_>>(),
        "no gap, no repeat"
    );
    check_audiences(&delivered);
    let (replayed, _) = sync(store, &Viewer::Agent(team.ada.clone()), 0).await;
    let pushed: Vec<ServerEvent> = delivered
        .iter()
        .filter(|p| {
            !matches!(p.event, ServerEvent::Notification(_))
                || p.audience.agent_id.as_deref() == Some(team.ada.id.as_str())
        })
        .map(|p| p.event.clone())
        .collect();
    assert_eq!(replayed, pushed);

    flood(store, &team, &walt, walt_chat).await;
    delivered.extend(drain(&mut published));
    let latest = store.latest_event_id().await.unwrap();
    assert_eq!(
        ids(&delivered),
        (1..=latest).collect::<Vec<_>>(),
        "also under load"
    );

    // Closing: a write queued before the close is committed and delivered, later
    // writes are refused, and the stream ends.
    let bye = new_id();
    let (last_words, ()) = tokio::join!(
        store.customer_send(&walt.id, None, &bye, "Thanks, bye", &[]),
        store.close_store()
    );
    let last_words = last_words.expect("a write queued before the close is committed");
    let tail = drain(&mut published);
    assert!(
        matches!(&tail[..], [p] if matches!(&p.event, ServerEvent::MessageNew(m) if m.message == last_words))
    );
    refused(
        store.create_department("Night shift").await,
        Unavailable,
        "",
    );
    let late = new_id();
    let late = store
        .customer_send(&walt.id, None, &late, "anyone?", &[])
        .await;
    refused(late, Unavailable, "");
    assert!(published.recv().await.is_none(), "the stream ends on close");
}

// ---------------------------------------------------------------------------
// Helpers

fn every_chat() -> ChatFilter {
    ChatFilter {
        status: None,
        department_id: None,
        assignee_id: None,
        customer_id: None,
        q: None,
        sort: ChatSort::Newest,
        page: 1,
        per_page: 20,
    }
}

fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Published>) -> Vec<Published> {
    let mut out = Vec::new();
    while let Ok(p) = rx.try_recv() {
        out.push(p);
    }
    out
}

fn ids(delivered: &[Published]) -> Vec<EventId> {
    delivered.iter().map(|p| p.event.event_id()).collect()
}

/// Notes never go to the visitor, notifications only to their agent, and the
/// visitor's form of an event keeps its id.
fn check_audiences(delivered: &[Published]) {
    for p in delivered {
        if let ServerEvent::MessageNew(m) = &p.event
            && m.message.kind == MessageKind::Note
        {
            assert!(p.audience.customer.is_none(), "a note went to the visitor");
        }
        if let ServerEvent::TicketEntry(e) = &p.event
            && e.entry.kind != shared::ticket::EntryKind::Reply
        {
            assert!(
                p.audience.customer.is_none(),
                "a ticket note or line went to the visitor"
            );
        }
        if let ServerEvent::TicketCreated(_) | ServerEvent::TicketUpdated(_) = &p.event {
            assert!(
                p.audience.customer.is_none(),
                "agents' form of a ticket went to the visitor"
            );
        }
        if let ServerEvent::Notification(_) = &p.event {
            assert!(p.audience.agent_id.is_some() && p.audience.department_id.is_none());
            assert!(!p.audience.broadcast && p.audience.customer.is_none());
        }
        if let Some((_, customer_form)) = &p.audience.customer {
            assert_eq!(customer_form.event_id(), p.event.event_id());
        }
    }
}

fn owned(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// What `viewer` replays after `since`; a resync fails the story.
async fn sync(store: &dyn Store, viewer: &Viewer, since: EventId) -> (Vec<ServerEvent>, EventId) {
    match store.events_since(viewer, since).await.unwrap() {
        SyncResult::Events(events, latest) => (events, latest),
        SyncResult::Resync(latest) => {
            panic!("{viewer:?} must resync after {since} (latest {latest})")
        }
    }
}

/// The notifications `who` replays after `since`.
async fn notifications(
    store: &dyn Store,
    who: &Actor,
    since: EventId,
) -> Vec<shared::model::Notification> {
    let (events, _) = sync(store, &Viewer::Agent(who.clone()), since).await;
    events
        .into_iter()
        .filter_map(|e| match e {
            ServerEvent::Notification(n) => Some(n.notification),
            _ => None,
        })
        .collect()
}

/// The chat an event is about, if any.
fn chat_of(ev: &ServerEvent) -> Option<&str> {
    match ev {
        ServerEvent::ChatCreated(e) | ServerEvent::ChatUpdated(e) => Some(&e.chat.id),
        ServerEvent::MessageNew(e) => Some(&e.message.chat_id),
        ServerEvent::MessageRead(e) => Some(&e.chat_id),
        ServerEvent::Notification(e) => e.notification.chat_id.as_deref(),
        ServerEvent::TicketCreated(_)
        | ServerEvent::TicketUpdated(_)
        | ServerEvent::TicketEntry(_)
        | ServerEvent::Presence(_)
        | ServerEvent::CustomerUpdated(_) => None,
    }
}

fn now_ms() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(d.as_millis()).unwrap()
}

/// Lets the clock move on, so orderings by time are not ties.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}
