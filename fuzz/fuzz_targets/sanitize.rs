//! `shared::text`: whatever a customer types, the sanitised text has no character a
//! terminal would obey, sanitising again changes nothing, and clean text is untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::text::{is_forbidden, sanitize, sanitize_line};

fn needs_work(c: char) -> bool {
    is_forbidden(c) || c == '\u{2028}' || c == '\u{2029}'
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let out = sanitize(&input);
    if let Some(c) = out
        .chars()
        .find(|&c| is_forbidden(c) || c == '\u{1b}' || c == '\r')
    {
        panic!(
            "{input:?} sanitised to {out:?}, which keeps U+{:04X}",
            c as u32
        );
    }
    assert_eq!(sanitize(&out), out, "sanitising {input:?} twice changed it");
    if !input.chars().any(needs_work) {
        assert_eq!(out, input, "clean text was changed");
    }
    let line = sanitize_line(&input);
    if let Some(c) = line
        .chars()
        .find(|&c| is_forbidden(c) || c == '\n' || c == '\t')
    {
        panic!(
            "{input:?} as a line is {line:?}, which keeps U+{:04X}",
            c as u32
        );
    }
    assert_eq!(
        sanitize_line(&line),
        line,
        "sanitize_line of {input:?} is not idempotent"
    );
});
