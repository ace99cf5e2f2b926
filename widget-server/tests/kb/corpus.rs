//! The knowledge-base test corpus: the demo's 30 projector-shop articles (the files
//! `agent-tui/demo-kb/*.md`) and generated articles around them that share their
//! vocabulary, so a ranking has something to rank against.
#![allow(dead_code)]

use shared::kb::KbFile;

/// The demo articles, as files with front matter.
pub fn demo_files() -> Vec<KbFile> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent-tui/demo-kb");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| KbFile {
            name: p.file_name().expect("name").to_string_lossy().into_owned(),
            content: std::fs::read_to_string(&p).expect("read article"),
        })
        .collect()
}

const TOPICS: &[&str] = &[
    "Outdoor cinema night",
    "Classroom projection",
    "Office presentations",
    "Camping with a projector",
    "Gaming on a big screen",
    "Home theatre room",
    "Kids movie afternoon",
    "Football on the wall",
    "Travel projector",
    "Church and event projection",
];

const KINDS: &[&str] = &["ideas", "checklist", "buying notes", "story", "tips"];

const SENTENCES: &[&str] = &[
    "A projector turns any wall into a screen for the whole family.",
    "Bring an extension cable and a small table for the setup.",
    "Many customers connect a laptop over HDMI for slides.",
    "Wi-Fi at outdoor venues is often weak, so download films first.",
    "The remote control makes it easy to pause and change the volume.",
    "A portable speaker helps when the room is large.",
    "Dark rooms give the best picture and colours.",
    "Keep a microfibre cloth in the bag for the lens.",
    "Plan the seating so nobody blocks the light beam.",
    "Test everything an hour before the guests arrive.",
    "A white sheet works as a screen in a pinch.",
    "Popcorn and blankets make the evening.",
    "Our shop ships accessories together with the projector.",
    "The warranty card is in the box; keep your order e-mail too.",
    "Check the picture settings menu for a mode that suits the room.",
];

/// `n` generated articles (public, published), deterministic.
pub fn generated_files(n: usize) -> Vec<KbFile> {
    (0..n)
        .map(|i| {
            let title = format!(
                "{} {} {}",
                TOPICS[i % TOPICS.len()],
                KINDS[(i / TOPICS.len()) % KINDS.len()],
                i + 1
            );
            let body: Vec<&str> = (0..6)
                .map(|k| SENTENCES[(i * 7 + k * 3) % SENTENCES.len()])
                .collect();
            KbFile {
                name: format!("generated-{i}.md"),
                content: format!(
                    "---\ntitle: {title}\ncategory: Stories\ntags: community, ideas\n\
                     status: published\nvisibility: public\n---\n{}\n",
                    body.join(" ")
                ),
            }
        })
        .collect()
}

/// The demo articles and enough generated ones for a corpus of at least 200.
pub fn corpus() -> Vec<KbFile> {
    let mut files = demo_files();
    files.extend(generated_files(200 - files.len() + 20));
    files
}

/// Search → the article that must come first (by slug).
pub const RANKING: &[(&str, &str)] = &[
    ("keystone", "keystone-correction"),
    ("trapezoid picture", "keystone-correction"),
    ("hdmi no signal", "hdmi-no-signal"),
    ("blurry", "focus-blurry-picture"),
    ("focusing the lens", "focus-blurry-picture"),
    ("firmware update usb", "firmware-update"),
    ("updating firmware", "firmware-update"),
    ("warranty", "warranty-policy"),
    ("refund", "returns-refunds"),
    ("returning", "returns-refunds"),
    ("ceiling", "ceiling-mount"),
    ("bluetooth speaker", "bluetooth-speaker-pairing"),
    ("iphone mirroring", "screen-mirroring-iphone"),
    ("airplay", "screen-mirroring-iphone"),
    ("android cast", "screen-mirroring-android"),
    ("shipping", "shipping-times"),
    ("tracking number", "shipping-times"),
    ("lamp life", "lamp-life"),
    ("overheating", "overheating-shutdown"),
    ("fan noise", "fan-noise"),
    ("soundbar", "hdmi-arc-soundbar"),
    ("netflix", "apps-netflix"),
    ("cancel order", "order-change-cancel"),
    ("throw distance", "screen-size-distance"),
    ("4k", "4k-support"),
    ("usb stick films", "usb-media-playback"),
    ("remote batteries", "remote-not-working"),
    ("factory reset", "factory-reset"),
    // Typed so far (the last word is a prefix).
    ("keyst", "keystone-correction"),
    ("soundb", "hdmi-arc-soundbar"),
    // Small typos.
    ("keystne", "keystone-correction"),
    ("firmwre", "firmware-update"),
    ("warrantty", "warranty-policy"),
    ("bluetoth", "bluetooth-speaker-pairing"),
];
