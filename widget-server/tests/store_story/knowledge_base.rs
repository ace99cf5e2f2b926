//! The knowledge base: categories as a tree, articles with slugs, what each audience
//! reads and finds, views and recent reads, votes, bookmarks, popular, and import.

use super::*;
use shared::kb::{ArticleInput, ArticleStatus, CategoryInput, Visibility};
use widget_server::domain::kb::{self as rules, KbAudience};
use widget_server::store::ArticleFilter;

fn input(title: &str, body: &str, status: ArticleStatus, visibility: Visibility) -> ArticleInput {
    rules::validate_article(&ArticleInput {
        title: title.into(),
        body: body.into(),
        slug: None,
        category_id: None,
        tags: vec!["projector".into()],
        status,
        visibility,
    })
    .unwrap()
}

fn search(audience: KbAudience, q: &str) -> ArticleFilter {
    ArticleFilter {
        audience,
        query: Some(rules::parse_search(q).unwrap()),
        category_id: None,
        page: 1,
        per_page: 20,
    }
}

pub(crate) async fn knowledge_base(store: &dyn Store, team: &Team) {
    let (sam, alice) = (&team.sam.id, &team.alice.id);
    // Categories: a tree; a move into its own subtree is refused.
    let cat = |name: &str, parent: Option<&str>| CategoryInput {
        name: name.into(),
        parent_id: parent.map(str::to_owned),
    };
    let setup = store.create_kb_category(&cat("Setup", None)).await.unwrap();
    let image = store
        .create_kb_category(&cat("Image", Some(&setup.id)))
        .await
        .unwrap();
    refused(
        store
            .create_kb_category(&cat("Image", Some(&setup.id)))
            .await,
        Conflict,
        "already exists",
    );
    refused(
        store.create_kb_category(&cat("X", Some("no-such"))).await,
        NotFound,
        "no category",
    );
    refused(
        store
            .update_kb_category(&setup.id, &cat("Setup", Some(&image.id)))
            .await,
        Invalid,
        "inside itself",
    );
    let renamed = store
        .update_kb_category(&image.id, &cat("Picture", Some(&setup.id)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Picture");
    assert!(
        store
            .update_kb_category("nope", &cat("N", None))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.kb_categories().await.unwrap().len(), 2);

    // Articles: slugs from titles, numbered when taken; a chosen taken slug conflicts.
    let mut keystone = input(
        "Keystone correction",
        "Straighten a trapezoid picture with keystone.",
        ArticleStatus::Published,
        Visibility::Public,
    );
    keystone.category_id = Some(image.id.clone());
    let k = store.create_kb_article(sam, &keystone).await.unwrap();
    assert_eq!(
        (k.slug.as_str(), k.author_id.as_str()),
        ("keystone-correction", sam.as_str())
    );
    let k2 = store.create_kb_article(sam, &keystone).await.unwrap();
    assert_eq!(k2.slug, "keystone-correction-2");
    let mut chosen = keystone.clone();
    chosen.slug = Some("keystone-correction".into());
    refused(
        store.create_kb_article(sam, &chosen).await,
        Conflict,
        "slug",
    );
    let mut orphan = keystone.clone();
    orphan.category_id = Some("no-such".into());
    refused(
        store.create_kb_article(sam, &orphan).await,
        NotFound,
        "category",
    );
    refused(
        store.delete_kb_category(&image.id).await,
        Conflict,
        "holds articles",
    );

    let internal = store
        .create_kb_article(
            sam,
            &input(
                "Keystone escalation",
                "Internal keystone notes for the team.",
                ArticleStatus::Published,
                Visibility::Internal,
            ),
        )
        .await
        .unwrap();
    let draft = store
        .create_kb_article(
            sam,
            &input(
                "Keystone draft",
                "Unfinished keystone text.",
                ArticleStatus::Draft,
                Visibility::Public,
            ),
        )
        .await
        .unwrap();

    // What each audience finds.
    let found = |a: KbAudience| async move {
        let mut s: Vec<String> = store
            .kb_articles(&search(a, "keystone"))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|h| h.article.slug)
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        found(KbAudience::Public).await,
        ["keystone-correction", "keystone-correction-2"]
    );
    assert_eq!(
        found(KbAudience::Agents).await,
        [
            "keystone-correction",
            "keystone-correction-2",
            "keystone-escalation"
        ]
    );
    assert_eq!(found(KbAudience::Writers).await.len(), 4);
    let hit = &store
        .kb_articles(&search(KbAudience::Public, "trapezoid"))
        .await
        .unwrap()
        .items[0];
    assert!(hit.snippet.contains("[[trapezoid]]"), "{}", hit.snippet);
    assert!(hit.score > 0.0);
    // Word forms and a typo.
    for q in ["straightening", "keystne"] {
        assert!(
            !store
                .kb_articles(&search(KbAudience::Public, q))
                .await
                .unwrap()
                .items
                .is_empty(),
            "{q} found nothing"
        );
    }
    // A category lists itself and what is below it.
    let in_setup = store
        .kb_articles(&ArticleFilter {
            audience: KbAudience::Writers,
            query: None,
            category_id: Some(setup.id.clone()),
            page: 1,
            per_page: 20,
        })
        .await
        .unwrap();
    assert_eq!(in_setup.total, 2);

    // Updates keep the slug unless a new one is chosen; the index follows the text.
    let mut changed = input(
        "Keystone escalation",
        "Internal notes: send a replacement remote.",
        ArticleStatus::Published,
        Visibility::Internal,
    );
    let u = store
        .update_kb_article(&internal.id, &changed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.slug, "keystone-escalation");
    assert!(
        store
            .kb_articles(&search(KbAudience::Agents, "replacement"))
            .await
            .unwrap()
            .items[0]
            .article
            .id
            == internal.id
    );
    changed.slug = Some("keystone-correction".into());
    refused(
        store.update_kb_article(&internal.id, &changed).await,
        Conflict,
        "slug",
    );
    assert!(
        store
            .update_kb_article("nope", &changed)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .kb_article_by_slug("keystone-escalation")
            .await
            .unwrap()
            .unwrap()
            .id,
        internal.id
    );

    // Views, recent reads, votes, bookmarks, popular.
    store.kb_record_view(&k.id, Some(alice)).await.unwrap();
    store.kb_record_view(&k2.id, Some(alice)).await.unwrap();
    store.kb_record_view(&k.id, None).await.unwrap();
    store.kb_record_view(&k.id, Some(alice)).await.unwrap();
    let recent: Vec<String> = store
        .kb_recent(alice, KbAudience::Agents, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(recent, [k.id.clone(), k2.id.clone()]);
    assert!(
        store
            .kb_recent(sam, KbAudience::Writers, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.kb_vote(&k.id, true).await.unwrap());
    assert!(store.kb_vote(&k.id, false).await.unwrap());
    assert!(store.kb_vote(&k.id, true).await.unwrap());
    assert!(!store.kb_vote("nope", true).await.unwrap());
    let now = store.kb_article(&k.id).await.unwrap().unwrap();
    assert_eq!((now.views, now.helpful_yes, now.helpful_no), (3, 2, 1));
    let popular = store.kb_popular(KbAudience::Public, 1).await.unwrap();
    assert_eq!(popular[0].id, k.id);
    assert!(store.kb_set_bookmark(alice, &draft.id, true).await.unwrap());
    assert!(store.kb_set_bookmark(alice, &k.id, true).await.unwrap());
    assert!(store.kb_set_bookmark(alice, &k.id, true).await.unwrap());
    assert!(!store.kb_set_bookmark(alice, "nope", true).await.unwrap());
    // A draft bookmarked before stays out of an agent's list.
    let marks = store.kb_bookmarks(alice, KbAudience::Agents).await.unwrap();
    assert_eq!(marks.iter().map(|a| &a.id).collect::<Vec<_>>(), [&k.id]);
    assert!(store.kb_set_bookmark(alice, &k.id, false).await.unwrap());
    assert!(
        store
            .kb_bookmarks(alice, KbAudience::Agents)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting an article takes its bookmarks and reads along.
    assert!(store.delete_kb_article(&draft.id).await.unwrap());
    assert!(!store.delete_kb_article(&draft.id).await.unwrap());
    assert!(
        store
            .kb_bookmarks(alice, KbAudience::Writers)
            .await
            .unwrap()
            .is_empty()
    );

    // Import: categories by path, articles matched by slug.
    let file = |content: &str| rules::parse_article_file("f.md", content).unwrap();
    let report = store
        .kb_import(
            sam,
            vec![
                file("---\ntitle: Lamp life\ncategory: Setup / Hardware\nvisibility: public\n---\nLED lasts 30000 hours."),
                file("---\ntitle: Keystone correction\nslug: keystone-correction\ncategory: Setup / Picture\nvisibility: public\n---\nNew keystone text."),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        (report.created, report.updated, report.categories_created),
        (1, 1, 1)
    );
    let k_now = store.kb_article(&k.id).await.unwrap().unwrap();
    assert_eq!(k_now.body, "New keystone text.");
    assert_eq!(k_now.category_id.as_deref(), Some(image.id.as_str()));
    assert_eq!(store.kb_all_articles().await.unwrap().len(), 4);
}
