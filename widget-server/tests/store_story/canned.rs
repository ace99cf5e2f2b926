//! Canned responses: list, search, create, update and delete, with their conflicts.
//!
//! They sit beside the `Store` trait for now (`store::canned::CannedStore`, a pool of
//! its own), so this chapter runs on SQLite only, after the story. When they move onto
//! the trait, it takes `&dyn Store`, is called from `story` before the store closes,
//! and its calls are renamed to the trait's.

use super::*;

pub(crate) async fn canned_responses(canned: &CannedStore, team: &Team) {
    let input = |title: &str, shortcut: &str, body: &str| {
        CannedInput {
            title: title.into(),
            shortcut: shortcut.into(),
            body: body.into(),
            category: Some("Billing".into()),
            scope: None,
        }
        .validate()
        .unwrap()
    };
    let (alice, bob, sam) = (&team.alice.id, &team.bob.id, &team.sam.id);
    assert_eq!(canned.list(alice, None, 1, 20).await.unwrap().total, 0);
    let hello = input("Greeting", "hello", "Hi {{customer.name}}, how can I help?");
    let team_hello = canned.create(sam, CannedScope::Team, &hello).await.unwrap();
    assert_eq!(
        (team_hello.scope, team_hello.owner_id.as_str()),
        (CannedScope::Team, sam.as_str())
    );
    assert_eq!(
        (team_hello.shortcut.as_str(), team_hello.category.as_deref()),
        ("hello", Some("Billing"))
    );
    refused(
        canned.create(&team.ada.id, CannedScope::Team, &hello).await,
        Conflict,
        "shortcut \"hello\"",
    );
    let refund = input(
        "Refund",
        "refund",
        "The courier lost it; the refund is on its way.",
    );
    let mine = canned
        .create(alice, CannedScope::Personal, &refund)
        .await
        .unwrap();
    refused(
        canned.create(alice, CannedScope::Personal, &refund).await,
        Conflict,
        "personal",
    );
    // Personal shortcuts are per agent, and apart from the team's.
    let bobs = canned
        .create(bob, CannedScope::Personal, &refund)
        .await
        .unwrap();
    let team_refund = canned
        .create(sam, CannedScope::Team, &refund)
        .await
        .unwrap();

    let ids = |p: shared::model::Page<shared::canned::CannedResponse>| {
        (
            p.items.into_iter().map(|c| c.id).collect::<Vec<_>>(),
            p.total,
        )
    };
    let all_of_alice = vec![
        team_hello.id.clone(),
        team_refund.id.clone(),
        mine.id.clone(),
    ];
    assert_eq!(
        ids(canned.list(alice, None, 1, 20).await.unwrap()),
        (all_of_alice, 3)
    );
    let bob_sees = ids(canned.list(bob, None, 1, 20).await.unwrap());
    assert_eq!(
        bob_sees.0,
        [
            team_hello.id.clone(),
            team_refund.id.clone(),
            bobs.id.clone()
        ]
    );
    assert_eq!(
        ids(canned.list(alice, Some("REFUND"), 1, 20).await.unwrap()).1,
        2
    );
    assert_eq!(
        ids(canned.list(alice, Some("how can i"), 1, 20).await.unwrap()).0,
        [team_hello.id.as_str()]
    );
    assert_eq!(
        ids(canned.list(alice, Some("%"), 1, 20).await.unwrap()).1,
        0
    );
    assert_eq!(
        ids(canned.list(alice, None, 2, 2).await.unwrap()),
        (vec![mine.id.clone()], 3)
    );

    assert_eq!(canned.get(&mine.id).await.unwrap(), Some(mine.clone()));
    assert_eq!(canned.get("no-such-response").await.unwrap(), None);
    pause().await;
    let edited = input("Refund (courier)", "refund-courier", "Refund sent, sorry!");
    let updated = canned.update(&mine, &edited).await.unwrap().unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.created_at),
        (mine.id.as_str(), mine.created_at)
    );
    assert_eq!(
        (updated.shortcut.as_str(), updated.body.as_str()),
        ("refund-courier", "Refund sent, sorry!")
    );
    assert!(updated.updated_at > mine.updated_at);
    assert_eq!(canned.get(&mine.id).await.unwrap(), Some(updated.clone()));
    let taken = input("Hello again", "hello", "Hello!");
    refused(
        canned.update(&team_refund, &taken).await,
        Conflict,
        "shortcut \"hello\"",
    );
    assert!(canned.delete(&updated.id).await.unwrap());
    assert!(!canned.delete(&updated.id).await.unwrap(), "already gone");
    assert_eq!(canned.update(&updated, &edited).await.unwrap(), None);
    assert_eq!(canned.get(&updated.id).await.unwrap(), None);
}
