//! `/reports/*` on a real server: who may read which figures, what bad input answers,
//! and a real chat's figures as JSON, CSV and XLSX (read back and compared).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::{TestServer, agent_say};
use serde_json::{Value, json};

const ROUTES: [&str; 4] = [
    "/reports/summary",
    "/reports/agents",
    "/reports/timeseries?metric=chats_handled",
    "/reports/ratings",
];

fn with(route: &str, query: &str) -> String {
    let sep = if route.contains('?') { '&' } else { '?' };
    format!("{route}{sep}{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_route_checks_who_asks() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let alice = server.login("alice@example.com").await;
    let sam = server.login("sam@example.com").await;
    let ada = server.login("ada@example.com").await;
    let rest = &server.rest;
    for route in ROUTES {
        rest.get(None, route)
            .await
            .assert_error(401, "unauthorized");
        rest.get(Some("not-a-token"), route)
            .await
            .assert_error(401, "unauthorized");
        let own = rest.get(Some(&alice), route).await;
        assert_eq!(own.status, 200, "{route}: {}", own.body);
        let mine = rest
            .get(
                Some(&alice),
                &with(route, &format!("agent_id={}", team.alice.id)),
            )
            .await;
        assert_eq!(mine.status, 200, "{route}");
        rest.get(
            Some(&alice),
            &with(route, &format!("agent_id={}", team.bob.id)),
        )
        .await
        .assert_error(403, "forbidden");
        for overseer in [&sam, &ada] {
            let other = rest
                .get(
                    Some(overseer),
                    &with(route, &format!("agent_id={}", team.bob.id)),
                )
                .await;
            assert_eq!(other.status, 200, "{route}: {}", other.body);
        }
    }
    // An agent's table has their own row only; a supervisor's has everyone's.
    let own = rest.get(Some(&alice), "/reports/agents").await.body;
    let ids: Vec<&str> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [team.alice.id.as_str()]);
    let all = rest.get(Some(&sam), "/reports/agents").await.body;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_report_input_is_invalid_and_says_why() {
    let server = TestServer::start().await;
    let sam = server.login("sam@example.com").await;
    let cases = [
        (
            "/reports/summary?from=2026-03-02&to=2026-03-01",
            "from must be before to",
        ),
        ("/reports/summary?from=yesterday", "from: expected a date"),
        ("/reports/summary?tz=Mars/Olympus", "unknown timezone"),
        (
            "/reports/summary?from=2020-01-01&to=2026-01-01",
            "at most 366 days",
        ),
        (
            "/reports/summary?format=pdf",
            "format: expected json, csv or xlsx",
        ),
        ("/reports/timeseries", "metric: required"),
        ("/reports/timeseries?metric=happiness", "metric: unknown"),
        (
            "/reports/timeseries?metric=csat_pct&bucket=year",
            "bucket: expected day",
        ),
        ("/reports/agents?agent_id=", "agent_id is not a valid id"),
    ];
    for (path, says) in cases {
        let a = server.rest.get(Some(&sam), path).await;
        a.assert_error(422, "invalid");
        assert!(a.body.to_string().contains(says), "{path}: {}", a.body);
    }
    server.stop().await;
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_shows_in_the_reports_and_its_exports_read_back() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let sam = server.login("sam@example.com").await;
    let visitor = server.visitor_with_chat("Where is my order?", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    agent_say(&alice, &chat_id, "checking the warehouse", "note").await;
    agent_say(&alice, &chat_id, "It ships today", "text").await;
    alice.ok("chat:close", json!({"chat_id": chat_id})).await;
    visitor
        .sock
        .ok(
            "chat:rate",
            json!({"score": 5, "comment": "=HYPERLINK(\"x\"), thanks"}),
        )
        .await;

    let s = server
        .rest
        .get(Some(&alice_token), "/reports/summary")
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["chats_handled"], 1);
    assert_eq!(
        s.body["first_response_s"]["count"], 1,
        "the note is no reply"
    );
    assert_eq!(s.body["response_s"]["count"], 1);
    assert_eq!(s.body["csat"]["rated"], 1);
    assert_eq!(s.body["csat"]["score_pct"], 100.0);
    assert_eq!(s.body["csat"]["breakdown"]["5"], 1);
    let series = server
        .rest
        .get(
            Some(&alice_token),
            "/reports/timeseries?metric=chats_handled&bucket=day",
        )
        .await;
    let points = series.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 30);
    assert_eq!(points.last().unwrap()["value"], 1.0, "{}", series.body);

    // The per-agent table, three ways.
    let json_rows = server.rest.get(Some(&sam), "/reports/agents").await.body;
    let alice_json = json_rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent_id"] == team.alice.id.as_str())
        .unwrap()
        .clone();
    let download = |format: &str| {
        let req = server
            .rest
            .http
            .get(server.rest.url(&format!("/reports/agents?format={format}")))
            .bearer_auth(&sam);
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
            let disposition = resp.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            (ctype, disposition, resp.bytes().await.unwrap().to_vec())
        }
    };
    let (ctype, disposition, csv_bytes) = download("csv").await;
    assert!(ctype.starts_with("text/csv"));
    assert!(disposition.contains("report-agents.csv"));
    let mut csv = csv::Reader::from_reader(csv_bytes.as_slice());
    let headers: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers[..3], ["agent_id", "name", "chats_handled"]);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), json_rows["items"].as_array().unwrap().len());
    let alice_csv = rows
        .iter()
        .find(|r| &r[0] == team.alice.id.as_str())
        .unwrap();
    for (i, h) in headers.iter().enumerate() {
        let expected = &alice_json[h.as_str()];
        match expected {
            Value::Null => assert_eq!(&alice_csv[i], "", "{h}"),
            Value::String(s) => assert_eq!(&alice_csv[i], s, "{h}"),
            v => assert_eq!(alice_csv[i].parse::<f64>().unwrap(), num(v), "{h}"),
        }
    }

    let (ctype, _, xlsx_bytes) = download("xlsx").await;
    assert!(ctype.contains("spreadsheetml"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(xlsx_bytes)).unwrap();
    let sheet = book.worksheet_range("agents").unwrap();
    let mut lines = sheet.rows();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(head, headers);
    let alice_x = lines
        .find(|r| r[0] == Data::String(team.alice.id.clone()))
        .unwrap();
    for (i, h) in headers.iter().enumerate() {
        match (&alice_json[h.as_str()], &alice_x[i]) {
            (Value::Null, cell) => assert_eq!(cell, &Data::Empty, "{h}"),
            (Value::String(s), Data::String(c)) => assert_eq!(c, s, "{h}"),
            (v, Data::Float(f)) => assert_eq!(*f, num(v), "{h}"),
            (v, cell) => panic!("{h}: {v} vs {cell:?}"),
        }
    }

    // A customer's comment that looks like a formula is text in both.
    let req = server
        .rest
        .http
        .get(server.rest.url("/reports/ratings?format=csv"))
        .bearer_auth(&sam);
    let body = req.send().await.unwrap().text().await.unwrap();
    assert!(
        body.contains("\"'=HYPERLINK(\"\"x\"\"), thanks\""),
        "{body}"
    );
    server.stop().await;
}
