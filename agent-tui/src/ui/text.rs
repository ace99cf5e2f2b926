//! Text measuring for the panes: display widths (wide and zero-width characters),
//! wrapping, truncation, and the compact time formats.

use time::{Duration, OffsetDateTime, UtcOffset};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Cuts `s` to at most `w` columns, ending with `…` when something was cut.
pub fn truncate(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_owned();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw > w - 1 {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// Pads with spaces to exactly `w` columns (truncating first when longer).
pub fn pad(s: &str, w: usize) -> String {
    let t = truncate(s, w);
    let n = width(&t);
    format!("{t}{}", " ".repeat(w.saturating_sub(n)))
}

/// Word-wraps `s` to `w` columns; words longer than a line are split. Tabs become
/// spaces so that cell counts stay exact.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    for raw in s.split('\n') {
        let line = raw.replace('\t', "    ");
        if width(&line) <= w {
            out.push(line);
            continue;
        }
        let mut cur = String::new();
        let mut cur_w = 0;
        for word in line.split_inclusive(' ') {
            let ww = width(word);
            if cur_w + ww <= w {
                cur.push_str(word);
                cur_w += ww;
                continue;
            }
            let trimmed = word.trim_end_matches(' ');
            if cur_w + width(trimmed) <= w {
                cur.push_str(trimmed);
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
                continue;
            }
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur).trim_end().to_owned());
                cur_w = 0;
            }
            for c in word.chars() {
                let cw = char_width(c);
                if cur_w + cw > w {
                    out.push(std::mem::take(&mut cur));
                    cur_w = 0;
                }
                cur.push(c);
                cur_w += cw;
            }
        }
        if !cur.is_empty() || out.is_empty() {
            out.push(cur.trim_end().to_owned());
        }
    }
    out
}

/// `14:02` today, `Tue 14:02` this week, `12 Mar 14:02` before.
pub fn fmt_time(t: OffsetDateTime, now: OffsetDateTime, offset: UtcOffset) -> String {
    let t = t.to_offset(offset);
    let n = now.to_offset(offset);
    let hm = format!("{:02}:{:02}", t.hour(), t.minute());
    if t.date() == n.date() {
        hm
    } else if (n - t) < Duration::days(6) && t <= n {
        format!("{} {hm}", &t.weekday().to_string()[..3])
    } else {
        format!("{} {} {hm}", t.day(), &t.month().to_string()[..3])
    }
}

/// A short duration: `45s`, `4m`, `1h05`, `3d`.
pub fn fmt_wait(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h{:02}", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d", s / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn wrap_respects_width_with_wide_characters() {
        let lines = wrap("你好世界你好世界 hello world", 6);
        for l in &lines {
            assert!(width(l) <= 6, "{l:?}");
        }
        assert_eq!(
            lines.concat().replace(' ', ""),
            "你好世界你好世界helloworld"
        );
        assert_eq!(wrap("a b c", 80), vec!["a b c"]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("x\n\ny", 5), vec!["x", "", "y"]);
    }

    #[test]
    fn truncate_and_pad_count_columns() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("你好世界", 5), "你好…");
        assert_eq!(width(&pad("你", 4)), 4);
    }

    #[test]
    fn times_are_compact() {
        let now = datetime!(2026-03-12 15:00 UTC);
        assert_eq!(
            fmt_time(datetime!(2026-03-12 14:02 UTC), now, UtcOffset::UTC),
            "14:02"
        );
        assert_eq!(
            fmt_time(datetime!(2026-03-10 09:05 UTC), now, UtcOffset::UTC),
            "Tue 09:05"
        );
        assert_eq!(
            fmt_time(datetime!(2026-01-02 09:05 UTC), now, UtcOffset::UTC),
            "2 Jan 09:05"
        );
        assert_eq!(fmt_wait(Duration::seconds(42)), "42s");
        assert_eq!(fmt_wait(Duration::minutes(65)), "1h05");
        assert_eq!(fmt_wait(Duration::days(3)), "3d");
    }
}
