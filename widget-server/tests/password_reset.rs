//! A password reset signs the agent out of every existing session; new sign-ins with
//! the new password work.

mod common;

use common::{PASSWORD, TestServer};
use widget_server::admin::Admin;

#[tokio::test]
async fn reset_password_revokes_existing_tokens_and_the_new_password_signs_in() {
    let srv = TestServer::start().await;
    let old = srv.login("alice@example.com").await;
    let me = srv.rest.get(Some(&old), "/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);

    let admin = Admin::open(&srv.config).await.expect("open store");
    admin
        .reset_password("alice@example.com", "a-brand-new-passphrase")
        .await
        .expect("reset");
    admin.close().await;

    let after = srv.rest.get(Some(&old), "/auth/me").await;
    after.assert_error(401, "unauthorized");
    assert!(
        after.body.to_string().contains("password was changed"),
        "{}",
        after.body
    );
    srv.rest
        .login_answer("alice@example.com", PASSWORD)
        .await
        .assert_error(401, "unauthorized");
    let fresh = srv
        .rest
        .login_answer("alice@example.com", "a-brand-new-passphrase")
        .await;
    let token = fresh.body["token"].as_str().expect("token").to_owned();
    let me = srv.rest.get(Some(&token), "/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    srv.stop().await;
}
