//! The Knowledge base view: search as you type, hits with highlighted snippets and
//! internal marks, the reader with Markdown rendered for the terminal, the public
//! link copied, and an article shared into the open chat's reply.

use shared::kb::{Article, ArticleHit, ArticleStatus, Visibility};

use super::{busy, draw, net, screen_text, snap};
use crate::effect::{Effect, KbCmd};
use crate::msg::{KbReply, NetEvent};
use crate::state::{Mode, Pane, ViewId};
use crate::update::tests::{T0, press, type_text};

fn article(id: &str, slug: &str, title: &str, body: &str, visibility: Visibility) -> Article {
    Article {
        id: id.into(),
        slug: slug.into(),
        title: title.into(),
        body: body.into(),
        category_id: None,
        tags: vec!["hdmi".into()],
        status: ArticleStatus::Published,
        visibility,
        author_id: "sam".into(),
        created_at: T0,
        updated_at: T0,
        views: 12,
        helpful_yes: 4,
        helpful_no: 1,
    }
}

const BODY: &str = "If the projector says **No signal** on HDMI:\n\n1. Choose the right input with *Source*.\n2. Reseat the cable, or try [another one](https://wzatco.com/cables).\n\n## Still nothing?\n\n- Set the laptop to `1080p`\n- Try another device\n\n```\nSettings > Input\n```";

fn hits() -> Vec<ArticleHit> {
    vec![
        ArticleHit {
            article: article(
                "a1",
                "hdmi-no-signal",
                "HDMI shows \"No signal\"",
                BODY,
                Visibility::Public,
            ),
            score: 7.5,
            snippet: "If the projector says [[No]] [[signal]] on [[HDMI]]: Choose the right input"
                .into(),
        },
        ArticleHit {
            article: article(
                "a2",
                "hdmi-escalation",
                "HDMI board swaps",
                "Team only.",
                Visibility::Internal,
            ),
            score: 3.0,
            snippet: "Team only: [[HDMI]] board swaps".into(),
        },
    ]
}

#[test]
fn searching_reading_copying_and_sharing_an_article() {
    let mut s = busy();
    let open_chat = s.chats.open_chat.clone();
    press(&mut s, "g k");
    assert_eq!(s.view, ViewId::KnowledgeBase);
    press(&mut s, "/");
    assert_eq!(s.mode, Mode::Search);
    let fx = type_text(&mut s, "hdmi");
    assert_eq!(
        fx.last(),
        Some(&Effect::from(KbCmd::Search {
            q: "hdmi".into(),
            seq: 4
        }))
    );
    // An older answer is dropped; the latest one is shown.
    net(
        &mut s,
        NetEvent::Kb(KbReply::Found {
            seq: 3,
            hits: vec![],
        }),
    );
    net(
        &mut s,
        NetEvent::Kb(KbReply::Found {
            seq: 4,
            hits: hits(),
        }),
    );
    assert_eq!(s.kb.hits.len(), 2);
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains("[internal]"), "{text}");
    let fx = press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(fx, vec![Effect::from(KbCmd::Open { id: "a1".into() })]);
    net(
        &mut s,
        NetEvent::Kb(KbReply::Opened(hits()[0].article.clone())),
    );
    snap("kb_reader", &s, Pane::Queue);
    let text = screen_text(&draw(&s, 160, 48));
    for shown in [
        "1. Choose the right input",
        "another one <https://wzatco.com/cables>",
        "• Set the laptop to `1080p`",
        "Still nothing?",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }

    // The public link goes to the clipboard; an internal article has none.
    let fx = press(&mut s, "y");
    assert_eq!(
        fx,
        vec![Effect::Clipboard(
            "http://panel.test/kb/hdmi-no-signal".into()
        )]
    );
    press(&mut s, "j");
    assert!(press(&mut s, "y").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("no public link"));

    // Sharing puts the title and link into the open chat's reply.
    press(&mut s, "k");
    assert!(open_chat.is_some(), "the busy console has a chat open");
    press(&mut s, "i");
    assert_eq!((s.view, s.mode), (ViewId::Chats, Mode::Insert));
    let reply = s.chats.composer.textarea.lines().join("\n");
    assert!(
        reply.contains("HDMI shows \"No signal\": http://panel.test/kb/hdmi-no-signal"),
        "{reply}"
    );
}
