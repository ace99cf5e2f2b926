//! Customers: edits (pushed as `customer:updated` to those who see the customer) and
//! internal notes (newest first; deleted by their author, a supervisor or an admin).

use super::*;
use widget_server::domain::customer::{CustomerPatch, validate_patch};

fn edit(v: serde_json::Value) -> widget_server::store::CustomerEdit {
    validate_patch(serde_json::from_value::<CustomerPatch>(v).unwrap()).unwrap()
}

pub(crate) async fn customers(store: &dyn Store, team: &Team, vera: &Person) {
    let before = store.latest_event_id().await.unwrap();
    let c = store
        .update_customer(
            &team.alice,
            &vera.id,
            edit(serde_json::json!({
                "phone": "+46 70 123 45 67", "location": "Malmö",
                "tags": ["VIP"], "custom_fields": {"plan": "Pro"}
            })),
        )
        .await
        .unwrap();
    assert_eq!(c.phone.as_deref(), Some("+46 70 123 45 67"));
    assert_eq!(c.location.as_deref(), Some("Malmö"));
    assert_eq!(c.tags, ["vip"]);
    assert_eq!(c.custom_fields.get("plan").map(String::as_str), Some("Pro"));
    let c2 = store
        .update_customer(
            &team.alice,
            &vera.id,
            edit(serde_json::json!({"phone": ""})),
        )
        .await
        .unwrap();
    assert_eq!((c2.phone, c2.location), (None, c.location.clone()));
    let profile = store.customer_profile(&vera.id).await.unwrap().unwrap();
    assert_eq!(profile.customer.tags, ["vip"]);
    assert_eq!(profile.customer.phone, None);
    let (heard, _) = sync(store, &Viewer::Agent(team.bob.clone()), before).await;
    assert_eq!(
        heard
            .iter()
            .filter(|e| matches!(e, ServerEvent::CustomerUpdated(u) if u.customer.id == vera.id))
            .count(),
        2
    );
    let (elsewhere, _) = sync(store, &Viewer::Agent(team.carol.clone()), before).await;
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    refused(
        store
            .update_customer(
                &team.ada,
                "no-such-customer",
                edit(serde_json::json!({"name": "X"})),
            )
            .await,
        NotFound,
        "no-such-customer",
    );

    // Notes.
    assert!(store.customer_notes(&vera.id).await.unwrap().is_empty());
    let first = store
        .add_customer_note(&team.alice, &vera.id, "reseller".into())
        .await
        .unwrap();
    pause().await;
    let second = store
        .add_customer_note(&team.bob, &vera.id, "prefers email".into())
        .await
        .unwrap();
    assert_eq!(first.author.id, team.alice.id);
    assert_eq!(first.customer_id, vera.id);
    let notes = store.customer_notes(&vera.id).await.unwrap();
    assert_eq!(notes, [second.clone(), first.clone()]);
    refused(
        store
            .add_customer_note(&team.alice, &vera.id, "  ".into())
            .await,
        Invalid,
        "body",
    );
    refused(
        store
            .add_customer_note(&team.alice, "no-such-customer", "x".into())
            .await,
        NotFound,
        "no-such-customer",
    );
    refused(
        store
            .delete_customer_note(&team.bob, &vera.id, &first.id)
            .await,
        Forbidden,
        "author",
    );
    refused(
        store
            .delete_customer_note(&team.alice, "another-customer", &first.id)
            .await,
        NotFound,
        &first.id,
    );
    store
        .delete_customer_note(&team.alice, &vera.id, &first.id)
        .await
        .unwrap();
    store
        .delete_customer_note(&team.sam, &vera.id, &second.id)
        .await
        .unwrap();
    refused(
        store
            .delete_customer_note(&team.sam, &vera.id, &second.id)
            .await,
        NotFound,
        &second.id,
    );
    assert!(store.customer_notes(&vera.id).await.unwrap().is_empty());
}
