//! Anonymous uploads cannot fill the disk: the visitor token is checked before the
//! body is read, unsent uploads are limited per visitor per hour (also when many
//! arrive at once), and a sent file no longer counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{TestServer, new_id};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn upload(srv: &TestServer, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(srv.rest.url("/visitor/attachments?name=photo.jpg"))
        .header("x-visitor-token", token)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_upload_without_token_is_refused_before_its_body_is_read() {
    let srv = TestServer::start().await;
    // The head announces 10 MiB that never come: the answer must not wait for them.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", srv.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/visitor/attachments?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         X-Visitor-Token: made-up\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 10485760\r\n\r\n",
        srv.port
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("the server waited for the body of an unauthenticated upload")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("unknown visitor token"), "{answer}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_uploads_are_limited_per_visitor_even_all_at_once() {
    let srv = TestServer::start_with(|c| {
        c.visitor_upload_files = 3;
        c.visitor_upload_bytes = 1024 * 1024;
    })
    .await;
    let mut v = srv.visitor().await;
    v.start("Here are my photos", None).await;
    let answers =
        futures_util::future::join_all((0..8).map(|_| upload(&srv, &v.token, vec![7u8; 1000])))
            .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 3, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 429, "{body}");
        assert_eq!(body["error"]["code"], "rate_limited");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("upload limit reached"),
            "{body}"
        );
    }
    // Bytes count too: 1 MiB at most.
    let other = srv.visitor().await;
    let (status, _) = upload(&srv, &other.token, vec![1u8; 700 * 1024]).await;
    assert_eq!(status, 201);
    let (status, body) = upload(&srv, &other.token, vec![1u8; 400 * 1024]).await;
    assert_eq!(status, 429, "{body}");

    // A file sent in a message no longer counts against the quota.
    let id = created[0]["id"].as_str().unwrap();
    v.sock
        .ok(
            "message:send",
            json!({"client_msg_id": new_id(), "body": "", "attachment_ids": [id]}),
        )
        .await;
    let (status, body) = upload(&srv, &v.token, vec![7u8; 1000]).await;
    assert_eq!(status, 201, "{body}");
    srv.stop().await;
}
