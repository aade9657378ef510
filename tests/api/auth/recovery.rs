//! Password recovery by mail and reset with a single-use token.

use super::*;

/// The reset token of a reset mail's link.
fn reset_token(mail: &Mail) -> String {
    let start = mail.body.find("?token=").expect("a reset link") + "?token=".len();
    mail.body[start..].split_whitespace().next().unwrap().to_owned()
}

/// Asks for a reset mail to `email` and returns the token of its link.
async fn mailed_reset_token(app: &TestApp, email: &str) -> String {
    let before = app.mailer.sent().len();
    let res = post_json(app, RECOVERY, &json!({"email": email})).await;
    assert_eq!(res.status(), 202);
    for _ in 0..250 {
        let sent = app.mailer.sent();
        if let Some(mail) = sent[before..]
            .iter()
            .find(|m| m.to == email && m.subject.contains("Reset"))
        {
            return reset_token(mail);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no reset mail to {email}");
}

#[tokio::test]
async fn recovery_answers_202_alike_and_mails_only_a_known_address() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let unknown = post_json(&app, RECOVERY, &json!({"email": "nobody@example.com"})).await;
    let known = post_json(&app, RECOVERY, &json!({"email": "ALICE@example.com"})).await;
    assert_eq!((unknown.status().as_u16(), known.status().as_u16()), (202, 202));
    let (unknown, known) = (unknown.text().await.unwrap(), known.text().await.unwrap());
    assert_eq!(unknown, known, "the same body either way");

    let mail = wait_for_mail(&app, "alice@example.com", "Reset").await;
    assert!(mail.body.contains("/reset-password?token="), "{}", mail.body);
    assert!(app.mailer.sent().iter().all(|m| m.to != "nobody@example.com"));
    let rows = password_reset_token::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1, "one token, for the known address");

    let problem = assert_problem(post_json(&app, RECOVERY, &json!({"email": "not-an-email"})).await, 422).await;
    assert_eq!(field_names(&problem), ["email"]);
}

#[tokio::test]
async fn reset_sets_the_password_once_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let second_session = token_pair(app.login("alice", &alice.password).await).await;
    let token = mailed_reset_token(&app, "alice@example.com").await;

    let res = post_json(
        &app,
        RESET,
        &json!({"token": token, "new_password": "brand-new-password"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    token_pair(app.login("alice", "brand-new-password").await).await;
    assert_problem(app.login("alice", &alice.password).await, 401).await;
    for old in [alice.refresh_token.as_str(), text(&second_session, "refresh_token")] {
        assert_problem(refresh(&app, old).await, 401).await;
        assert!(stored_refresh_token(&app, old).await.revoked_at.is_some());
    }

    // Single use.
    let problem = assert_problem(
        post_json(
            &app,
            RESET,
            &json!({"token": token, "new_password": "another-password"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(problem["code"], "bad_request");
    token_pair(app.login("alice", "brand-new-password").await).await;
}

#[tokio::test]
async fn concurrent_resets_with_one_token_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let token = mailed_reset_token(&app, "alice@example.com").await;
    let passwords: Vec<String> = (0..6).map(|i| format!("new-password-{i}")).collect();
    let resets = passwords.iter().map(|new_password| {
        app.request(Method::POST, RESET)
            .json(&json!({"token": token, "new_password": new_password}))
            .send()
    });
    let mut winners = Vec::new();
    for (res, password) in futures_util::future::join_all(resets).await.into_iter().zip(&passwords) {
        let res = res.unwrap();
        if res.status() == 204 {
            winners.push(password);
        } else {
            assert_problem(res, 400).await;
        }
    }
    assert_eq!(winners.len(), 1, "single use");
    for password in &passwords {
        let expected = if password == winners[0] { 200 } else { 401 };
        assert_eq!(app.login("alice", password).await.status(), expected, "{password}");
    }
}

#[tokio::test]
async fn a_bad_or_expired_reset_token_is_400() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for bad in ["garbage", "a".repeat(43).as_str()] {
        let problem = assert_problem(
            post_json(&app, RESET, &json!({"token": bad, "new_password": "new-password"})).await,
            400,
        )
        .await;
        assert_eq!(problem["code"], "bad_request");
    }

    let token = mailed_reset_token(&app, "alice@example.com").await;
    let row = password_reset_token::Entity::find()
        .filter(password_reset_token::Column::TokenHash.eq(auth::secrets::digest(&token)))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: password_reset_token::ActiveModel = row.into();
    row.expires_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    row.update(&app.db).await.unwrap();
    assert_problem(
        post_json(&app, RESET, &json!({"token": token, "new_password": "new-password"})).await,
        400,
    )
    .await;
    token_pair(app.login("alice", &alice.password).await).await;
    token_pair(refresh(&app, &alice.refresh_token).await).await;
}

#[tokio::test]
async fn an_invalid_new_password_is_422_and_leaves_the_token_usable() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let token = mailed_reset_token(&app, "alice@example.com").await;
    for short in ["short", &"é".repeat(37), "éééé"] {
        let problem = assert_problem(
            post_json(&app, RESET, &json!({"token": token, "new_password": short})).await,
            422,
        )
        .await;
        assert_eq!(field_names(&problem), ["new_password"]);
    }
    assert_eq!(
        post_json(&app, RESET, &json!({"token": token, "new_password": "good-password"}))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn using_one_reset_token_spends_the_others() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let first = mailed_reset_token(&app, "alice@example.com").await;
    let second = mailed_reset_token(&app, "alice@example.com").await;
    assert_ne!(first, second);
    assert_eq!(
        post_json(
            &app,
            RESET,
            &json!({"token": second, "new_password": "second-password"})
        )
        .await
        .status(),
        204
    );
    assert_problem(
        post_json(&app, RESET, &json!({"token": first, "new_password": "first-password"})).await,
        400,
    )
    .await;
    token_pair(app.login("alice", "second-password").await).await;
}

#[tokio::test]
async fn only_the_digest_of_a_reset_token_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = mailed_reset_token(&app, "alice@example.com").await;
    let rows = password_reset_token::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.user_id, alice.id);
    assert_eq!(row.token_hash, auth::secrets::digest(&token));
    assert!(
        !format!("{row:?}").contains(&token),
        "the token text is not stored: {row:?}"
    );
    let lifetime = row.expires_at - row.created_at;
    assert_eq!(lifetime.num_seconds(), 3600, "valid one hour");
}

#[tokio::test]
async fn an_inactive_account_gets_no_reset_mail() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    app.patch_user(&root, alice.id, json!({"is_active": false})).await;
    assert_eq!(
        post_json(&app, RECOVERY, &json!({"email": "alice@example.com"}))
            .await
            .status(),
        202
    );
    assert_eq!(password_reset_token::Entity::find().count(&app.db).await.unwrap(), 0);
}
