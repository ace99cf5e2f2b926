//! Sanitising untrusted text before it reaches a terminal.
//!
//! A customer can type anything, including bytes that a terminal obeys: cursor moves,
//! screen clears, OSC 52 clipboard writes, OSC 8 hyperlinks, DCS payloads, and bidi
//! overrides that make text read differently from what it is. [`sanitize`] removes all
//! of them and keeps the text itself; [`sanitize_line`] also folds line breaks and tabs
//! into spaces for one-line places (names, previews, tags).

use std::borrow::Cow;

/// Bidi embedding/override/isolate controls and marks that can reorder what a reader
/// sees (Trojan Source style).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Invisible format characters that hide or smuggle text: zero-width space, word
/// joiner, BOM, interlinear annotations, Unicode tag characters, invisible operators.
/// ZWJ/ZWNJ (U+200C/U+200D) are kept: emoji sequences and several scripts need them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{180E}'
    )
}

/// True for any character [`sanitize`] never lets through.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) || is_invisible(c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// After ESC.
    Esc,
    /// Inside `ESC [` (or C1 CSI) until a final byte.
    Csi,
    /// Inside OSC/DCS/SOS/PM/APC until BEL or ST.
    Str,
    /// Inside a string, after an ESC (maybe the `ESC \` terminator).
    StrEsc,
    /// After ESC + intermediate bytes, until a final byte.
    EscIntermediate,
}

/// Removes control characters (except `\n` and `\t`), every escape sequence (CSI, OSC
/// including OSC 8/52, DCS, SOS, PM, APC, and plain `ESC x`), their C1 forms, bidi
/// controls and invisible format characters. `\r\n` and lone `\r` become `\n`, U+2028/
/// U+2029 become `\n`. Text without any of these comes back borrowed and unchanged.
pub fn sanitize(input: &str) -> Cow<'_, str> {
    if !input
        .chars()
        .any(|c| is_forbidden(c) || c == '\u{2028}' || c == '\u{2029}')
    {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut state = State::Text;
    let mut prev_cr = false;
    for c in input.chars() {
        state = match state {
            State::Text => {
                let was_cr = prev_cr;
                prev_cr = false;
                match c {
                    '\u{1b}' => State::Esc,
                    '\u{9b}' => State::Csi,
                    '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => State::Str,
                    '\r' => {
                        out.push('\n');
                        prev_cr = true;
                        State::Text
                    }
                    '\n' if was_cr => State::Text,
                    '\u{2028}' | '\u{2029}' => {
                        out.push('\n');
                        State::Text
                    }
                    c if is_forbidden(c) => State::Text,
                    c => {
                        out.push(c);
                        State::Text
                    }
                }
            }
            State::Esc => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::Str,
                '\u{1b}' => State::Esc,
                '\u{20}'..='\u{2f}' => State::EscIntermediate,
                // Any other byte is the final byte of a two-byte sequence; a
                // non-ASCII char after ESC ends it too, dropped with it.
                _ => State::Text,
            },
            State::EscIntermediate => match c {
                '\u{20}'..='\u{2f}' => State::EscIntermediate,
                '\u{1b}' => State::Esc,
                _ => State::Text,
            },
            State::Csi => match c {
                // Parameter and intermediate bytes.
                '\u{20}'..='\u{3f}' => State::Csi,
                '\u{1b}' => State::Esc,
                // Final byte (0x40..=0x7E) or anything a terminal would abort on.
                _ => State::Text,
            },
            State::Str => match c {
                '\u{7}' | '\u{9c}' => State::Text,
                '\u{1b}' => State::StrEsc,
                _ => State::Str,
            },
            State::StrEsc => match c {
                '\\' => State::Text,
                '\u{1b}' => State::StrEsc,
                _ => State::Str,
            },
        };
    }
    Cow::Owned(out)
}

/// [`sanitize`], then line breaks and tabs become single spaces: for names, tags,
/// previews and anything else drawn on one line.
pub fn sanitize_line(input: &str) -> Cow<'_, str> {
    let s = sanitize(input);
    if !s.contains(['\n', '\t']) {
        return s;
    }
    Cow::Owned(
        s.chars()
            .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ESC: char = '\u{1b}';

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "Hello, wörld! 你好 👋🏽 line\nnext\ttab";
        assert!(matches!(sanitize(s), Cow::Borrowed(_)));
        assert_eq!(sanitize(s), s);
    }

    #[test]
    fn csi_sequences_are_removed() {
        assert_eq!(sanitize("a\u{1b}[2J\u{1b}[1;31mred\u{1b}[0mb"), "aredb");
        assert_eq!(sanitize("x\u{9b}31my"), "xy");
        assert_eq!(sanitize("\u{1b}[?1049h\u{1b}[?25lhidden"), "hidden");
    }

    #[test]
    fn osc_sequences_are_removed_with_their_payload() {
        // OSC 52 clipboard write, BEL-terminated.
        assert_eq!(sanitize("a\u{1b}]52;c;ZXZpbA==\u{7}b"), "ab");
        // OSC 8 hyperlink, ST-terminated, text kept.
        assert_eq!(
            sanitize("\u{1b}]8;;http://evil\u{1b}\\click\u{1b}]8;;\u{1b}\\"),
            "click"
        );
        // Window title, C1 OSC with C1 ST.
        assert_eq!(sanitize("\u{9d}0;pwned\u{9c}ok"), "ok");
        // Unterminated: the rest is payload and is dropped.
        assert_eq!(sanitize("ok\u{1b}]0;title never ends"), "ok");
    }

    #[test]
    fn dcs_and_other_strings_are_removed() {
        assert_eq!(sanitize("a\u{1b}Pq#0;2;0;0;0\u{1b}\\b"), "ab");
        assert_eq!(sanitize("a\u{1b}_apc\u{1b}\\b\u{1b}^pm\u{7}c"), "abc");
        assert_eq!(sanitize("a\u{1b}Xsos\u{9c}b"), "ab");
    }

    #[test]
    fn two_byte_escapes_and_controls_are_removed() {
        assert_eq!(sanitize("a\u{1b}cb\u{1b}(0c\u{1b}7d"), "abcd");
        assert_eq!(
            sanitize("bell\u{7} back\u{8}space nul\u{0}!"),
            "bell backspace nul!"
        );
        assert_eq!(sanitize("crlf\r\nline\rcr"), "crlf\nline\ncr");
        assert_eq!(sanitize("del\u{7f}x\u{85}y"), "delxy");
    }

    #[test]
    fn bidi_and_invisible_characters_are_removed() {
        assert_eq!(sanitize("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(sanitize("\u{2066}x\u{2069}\u{200F}"), "x");
        assert_eq!(sanitize("zero\u{200B}width\u{FEFF}"), "zerowidth");
        assert_eq!(sanitize("tag\u{E0041}\u{E0042}s"), "tags");
        // ZWJ emoji sequence survives.
        assert_eq!(sanitize("👩\u{200D}💻"), "👩\u{200D}💻");
        assert_eq!(sanitize("p\u{2028}q"), "p\nq");
    }

    #[test]
    fn sanitize_line_folds_breaks() {
        assert_eq!(sanitize_line("a\nb\tc\u{1b}[1md"), "a b cd");
        assert!(matches!(sanitize_line("plain"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn output_never_contains_forbidden_characters(s in any::<String>()) {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(is_forbidden), "{:?} -> {:?}", s, out);
            prop_assert!(!out.contains(ESC));
            prop_assert!(!out.contains('\r'));
        }

        #[test]
        fn escape_heavy_input_never_leaks(parts in proptest::collection::vec(
            prop_oneof![
                Just("\u{1b}".to_string()), Just("[".to_string()), Just("]".to_string()),
                Just("\u{7}".to_string()), Just("\\".to_string()), Just("\u{9b}".to_string()),
                Just("\u{9d}".to_string()), Just("\u{9c}".to_string()), Just("P".to_string()),
                Just("52;c;".to_string()), Just("\u{202E}".to_string()), Just("\r".to_string()),
                "[ -~]{0,4}".prop_map(|s| s),
            ], 0..40)) {
            let s: String = parts.concat();
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(is_forbidden), "{:?} -> {:?}", s, out);
        }

        #[test]
        fn sanitize_is_idempotent(s in any::<String>()) {
            let once = sanitize(&s).into_owned();
            let twice = sanitize(&once).into_owned();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn printable_text_passes_unchanged(s in "[a-zA-Z0-9 .,!?'\"\\n\\t-]{0,200}") {
            prop_assert_eq!(sanitize(&s), s.as_str());
        }

        #[test]
        fn sanitize_line_has_no_breaks(s in any::<String>()) {
            let out = sanitize_line(&s);
            prop_assert!(!out.contains('\n') && !out.contains('\t'));
            prop_assert!(!out.chars().any(is_forbidden));
        }
    }
}
