//! Per-client, per-route limits of the credential routes.

use super::*;

/// Asserts a `429` problem with an integer `Retry-After` of at least one second.
async fn assert_rate_limited(res: Response) {
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("Retry-After");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("integer Retry-After: {retry_after}"));
    assert!((1..=60).contains(&seconds), "Retry-After {seconds}");
    let problem = assert_problem(res, 429).await;
    assert_eq!(problem["code"], "rate_limited");
}

#[tokio::test]
async fn the_fourth_login_in_a_minute_is_429_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.auth_rate_limit_per_minute = 3).await;
    let alice = app.register("alice").await; // login 1
    assert_problem(app.login("alice", "wrong-password").await, 401).await; // login 2: failures count
    token_pair(login_form(&app, "alice", &alice.password).await).await; // login 3
    let sessions = refresh_token::Entity::find().count(&app.db).await.unwrap();

    assert_rate_limited(app.login("alice", &alice.password).await).await;
    assert_rate_limited(login_form(&app, "alice", &alice.password).await).await;
    // The limit cannot be dodged with a made-up client address or another spelling of the path.
    let res = app
        .request(Method::POST, LOGIN)
        .header("x-forwarded-for", "203.0.113.7")
        .header("forwarded", "for=203.0.113.7")
        .json(&json!({"username": "alice", "password": alice.password}))
        .send()
        .await
        .unwrap();
    assert_rate_limited(res).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/%6Cogin")
        .json(&json!({"username": "alice", "password": alice.password}))
        .send()
        .await
        .unwrap();
    assert_rate_limited(res).await;
    assert_eq!(
        refresh_token::Entity::find().count(&app.db).await.unwrap(),
        sessions,
        "no session after a 429"
    );
}

#[tokio::test]
async fn each_credential_route_has_its_own_counter_and_other_routes_none() {
    let app = TestApp::spawn_with(|c| c.auth_rate_limit_per_minute = 3).await;
    let alice = app.register("alice").await; // register 1, login 1
    for _ in 0..2 {
        token_pair(app.login("alice", &alice.password).await).await; // logins 2, 3
    }
    assert_rate_limited(app.login("alice", &alice.password).await).await;

    // Registration still has its own allowance: an invalid request counts too.
    let bad = json!({"email": "nope", "username": "bo", "password": "x"});
    assert_problem(post_json(&app, REGISTER, &bad).await, 422).await; // register 2
    let bob = json!({"email": "bob@example.com", "username": "bob", "password": "password-bob"});
    assert_eq!(post_json(&app, REGISTER, &bob).await.status(), 201); // register 3
    let carol = json!({"email": "carol@example.com", "username": "carol", "password": "password-carol"});
    assert_rate_limited(post_json(&app, REGISTER, &carol).await).await;
    assert!(
        app.state.users.find_by_login("carol").await.unwrap().is_none(),
        "a limited request stores nothing"
    );

    for email in ["alice@example.com", "nobody@example.com", "bob@example.com"] {
        assert_eq!(post_json(&app, RECOVERY, &json!({"email": email})).await.status(), 202);
    }
    assert_rate_limited(post_json(&app, RECOVERY, &json!({"email": "alice@example.com"})).await).await;

    // Authenticated routes, refresh and logout are never limited.
    for _ in 0..8 {
        assert_eq!(
            app.get_as(&alice, "/api/v1/users/me").send().await.unwrap().status(),
            200
        );
    }
    let mut token = alice.refresh_token.clone();
    for _ in 0..5 {
        let pair = token_pair(refresh(&app, &token).await).await;
        token = text(&pair, "refresh_token").to_owned();
    }
    for _ in 0..5 {
        assert_eq!(
            post_json(&app, LOGOUT, &json!({"refresh_token": "unknown"}))
                .await
                .status(),
            204
        );
    }
}
