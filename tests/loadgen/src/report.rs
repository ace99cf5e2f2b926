//! The readable table of a run's report (the JSON form is the report serialised).

use std::fmt::Write as _;

use crate::run::Report;
use crate::stats::LatSummary;
use crate::track::Tally;

/// Renders a report as a plain-text table.
pub fn table(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "loadgen {} — {} visitors ({} connected), {} agents ({} connected), layout {:?}, {} chats",
        r.mode, r.visitors, r.connected_visitors, r.agents, r.connected_agents, r.layout, r.chats
    );
    let _ = writeln!(
        o,
        "setup {:.1} s, total {:.1} s",
        r.setup_seconds, r.elapsed_seconds
    );
    if r.measured_seconds > 0.0 {
        let _ = writeln!(
            o,
            "target {} over {:.1} s: {:.1} visitor messages acked/s",
            r.target_rate
                .map_or("closed loop".to_owned(), |t| format!("{t:.0}/s")),
            r.measured_seconds,
            r.throughput_per_s
        );
    }
    if r.mode != "idle" {
        let _ = writeln!(
            o,
            "{:<15}{:>10}{:>10}{:>10}{:>10}{:>8}{:>9}",
            "", "sent", "acked", "failed", "delivered", "lost", "unacked"
        );
        tally_row(&mut o, "visitor→agent", &r.visitor_to_agent);
        tally_row(&mut o, "agent→visitor", &r.agent_to_visitor);
        let _ = writeln!(
            o,
            "message:new copies received by agents (fan-out): {}; sends skipped (backlog): {}",
            r.deliveries, r.skipped
        );
        let _ = writeln!(
            o,
            "{:<15}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
            "latency ms", "count", "p50", "p99", "p99.9", "max", "mean"
        );
        lat_row(&mut o, "ack", &r.latency.ack);
        lat_row(&mut o, "delivery", &r.latency.delivery);
        lat_row(&mut o, "reply ack", &r.latency.reply_ack);
        lat_row(&mut o, "reply delivery", &r.latency.reply_delivery);
    }
    if let Some(m) = &r.max_rate {
        let _ = writeln!(
            o,
            "max rate at p99 delivery ≤ {} ms: {:.0}/s (achieved {:.0}/s)",
            m.bound_ms, m.best_rate, m.best_achieved_per_s
        );
        let _ = writeln!(
            o,
            "{:>10}{:>10}{:>9}{:>9}{:>9}  result",
            "rate/s", "acked/s", "ack p99", "del p50", "del p99"
        );
        for s in &m.steps {
            let _ = writeln!(
                o,
                "{:>10.0}{:>10.0}{:>9.2}{:>9.2}{:>9.2}  {}",
                s.rate,
                s.achieved_per_s,
                s.ack.p99_ms,
                s.delivery.p50_ms,
                s.delivery.p99_ms.max(s.reply_delivery.p99_ms),
                if s.passed { "pass" } else { &s.reason }
            );
        }
    }
    if let Some(i) = &r.idle {
        let _ = writeln!(
            o,
            "idle: {} connections, server RSS {:.1} → {:.1} MiB, {:.2} KiB per connection",
            i.connections,
            i.rss_before_kib as f64 / 1024.0,
            i.rss_connected_kib as f64 / 1024.0,
            i.bytes_per_connection / 1024.0
        );
    }
    if let Some(v) = &r.verify {
        let _ = writeln!(
            o,
            "verify: {} chats, {} load messages stored; missing {}, duplicated {}, unacked-but-stored {}, read errors {}",
            v.chats,
            v.stored_load_messages,
            v.missing,
            v.duplicated,
            v.unacked_but_stored,
            v.errors
        );
    }
    if let Some(s) = &r.server {
        let _ = writeln!(
            o,
            "server pid {}: CPU {:.0}% of one core; RSS {:.1} / peak {:.1} / end {:.1} MiB",
            s.pid,
            s.cpu_pct,
            s.rss_start_kib as f64 / 1024.0,
            s.rss_peak_kib as f64 / 1024.0,
            s.rss_end_kib as f64 / 1024.0
        );
    }
    if let Some(s) = &r.loadgen {
        let _ = writeln!(
            o,
            "loadgen: CPU {:.0}% of one core; RSS peak {:.1} MiB",
            s.cpu_pct,
            s.rss_peak_kib as f64 / 1024.0
        );
    }
    if r.errors.is_empty() {
        let _ = writeln!(o, "errors: none");
    } else {
        let list: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(o, "errors: {}", list.join(", "));
    }
    let _ = writeln!(o, "lost: {}", r.lost);
    o
}

fn tally_row(o: &mut String, name: &str, t: &Tally) {
    let _ = writeln!(
        o,
        "{:<15}{:>10}{:>10}{:>10}{:>10}{:>8}{:>9}",
        name, t.sent, t.acked, t.failed, t.delivered, t.lost, t.unacked
    );
}

fn lat_row(o: &mut String, name: &str, l: &LatSummary) {
    let _ = writeln!(
        o,
        "{:<15}{:>9}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
        name, l.count, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms
    );
}
