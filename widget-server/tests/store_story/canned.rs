//! Canned responses: list, search, create, update and delete, with their conflicts.

use super::*;

pub(crate) async fn canned_responses(store: &dyn Store, team: &Team) {
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
    assert_eq!(
        store.canned_list(alice, None, 1, 20).await.unwrap().total,
        0
    );
    let hello = input("Greeting", "hello", "Hi {{customer.name}}, how can I help?");
    let team_hello = store
        .create_canned(sam, CannedScope::Team, &hello)
        .await
        .unwrap();
    assert_eq!(
        (team_hello.scope, team_hello.owner_id.as_str()),
        (CannedScope::Team, sam.as_str())
    );
    assert_eq!(
        (team_hello.shortcut.as_str(), team_hello.category.as_deref()),
        ("hello", Some("Billing"))
    );
    refused(
        store
            .create_canned(&team.ada.id, CannedScope::Team, &hello)
            .await,
        Conflict,
        "shortcut \"hello\"",
    );
    let refund = input(
        "Refund",
        "refund",
        "The courier lost it; the refund is on its way.",
    );
    let mine = store
        .create_canned(alice, CannedScope::Personal, &refund)
        .await
        .unwrap();
    refused(
        store
            .create_canned(alice, CannedScope::Personal, &refund)
            .await,
        Conflict,
        "personal",
    );
    // Personal shortcuts are per agent, and apart from the team's.
    let bobs = store
        .create_canned(bob, CannedScope::Personal, &refund)
        .await
        .unwrap();
    let team_refund = store
        .create_canned(sam, CannedScope::Team, &refund)
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
        ids(store.canned_list(alice, None, 1, 20).await.unwrap()),
        (all_of_alice, 3)
    );
    let bob_sees = ids(store.canned_list(bob, None, 1, 20).await.unwrap());
    assert_eq!(
        bob_sees.0,
        [
            team_hello.id.clone(),
            team_refund.id.clone(),
            bobs.id.clone()
        ]
    );
    assert_eq!(
        ids(store
            .canned_list(alice, Some("REFUND"), 1, 20)
            .await
            .unwrap())
        .1,
        2
    );
    assert_eq!(
        ids(store
            .canned_list(alice, Some("how can i"), 1, 20)
            .await
            .unwrap())
        .0,
        [team_hello.id.as_str()]
    );
    assert_eq!(
        ids(store.canned_list(alice, Some("%"), 1, 20).await.unwrap()).1,
        0
    );
    assert_eq!(
        ids(store.canned_list(alice, None, 2, 2).await.unwrap()),
        (vec![mine.id.clone()], 3)
    );

    assert_eq!(store.canned(&mine.id).await.unwrap(), Some(mine.clone()));
    assert_eq!(store.canned("no-such-response").await.unwrap(), None);
    pause().await;
    let edited = input("Refund (courier)", "refund-courier", "Refund sent, sorry!");
    let updated = store.update_canned(&mine, &edited).await.unwrap().unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.created_at),
        (mine.id.as_str(), mine.created_at)
    );
    assert_eq!(
        (updated.shortcut.as_str(), updated.body.as_str()),
        ("refund-courier", "Refund sent, sorry!")
    );
    assert!(updated.updated_at > mine.updated_at);
    assert_eq!(store.canned(&mine.id).await.unwrap(), Some(updated.clone()));
    let taken = input("Hello again", "hello", "Hello!");
    refused(
        store.update_canned(&team_refund, &taken).await,
        Conflict,
        "shortcut \"hello\"",
    );
    assert!(store.delete_canned(&updated.id).await.unwrap());
    assert!(
        !store.delete_canned(&updated.id).await.unwrap(),
        "already gone"
    );
    assert_eq!(store.update_canned(&updated, &edited).await.unwrap(), None);
    assert_eq!(store.canned(&updated.id).await.unwrap(), None);
}
