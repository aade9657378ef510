//! Login by form (Swagger UI) or JSON, with a username or an email; what failures look like.

use super::*;

#[tokio::test]
async fn login_by_form_or_json_with_username_or_email_in_any_case() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut refresh_tokens = Vec::new();
    for login in ["alice", "ALICE", "Alice", "alice@example.com", "ALICE@EXAMPLE.COM"] {
        for pair in [
            token_pair(login_form(&app, login, &alice.password).await).await,
            token_pair(app.login(login, &alice.password).await).await,
        ] {
            assert_eq!(
                whoami(&app, text(&pair, "access_token")).await["id"],
                alice.id.to_string(),
                "{login}"
            );
            refresh_tokens.push(text(&pair, "refresh_token").to_owned());
        }
    }
    // Form with a charset parameter, as some clients send it.
    let body = form_body(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", &alice.password),
    ]);
    let res = app
        .request(Method::POST, LOGIN)
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(body)
        .send()
        .await
        .unwrap();
    refresh_tokens.push(text(&token_pair(res).await, "refresh_token").to_owned());
    let count = refresh_tokens.len();
    refresh_tokens.sort();
    refresh_tokens.dedup();
    assert_eq!(refresh_tokens.len(), count, "every login gets its own refresh token");
}

#[tokio::test]
async fn login_form_decodes_reserved_characters_in_the_password() {
    let app = TestApp::spawn().await;
    let password = "p@ss w+rd&x=%2B é!";
    let body = json!({"email": "sym@example.com", "username": "sym", "password": password});
    assert_eq!(post_json(&app, REGISTER, &body).await.status(), 201);
    token_pair(login_form(&app, "sym", password).await).await;
    assert_problem(login_form(&app, "sym", "p@ss w rd&x=+ é!").await, 401).await;
}

#[tokio::test]
async fn access_token_is_an_hs256_jwt_for_the_user_lasting_expires_in() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let pair = token_pair(app.login("alice", &alice.password).await).await;
    let token = text(&pair, "access_token");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::DecodingKey::from_secret(TEST_JWT_SECRET.as_bytes());
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], alice.id.to_string());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert!(!claims.to_string().contains("password"), "{claims}");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let attempts = [
        app.login("alice", "wrong-password").await,
        app.login("alice@example.com", "wrong-password").await,
        app.login("nobody", "wrong-password").await,
        app.login("nobody@example.com", "password-alice").await,
        login_form(&app, "nobody", "password-alice").await,
    ];
    let mut problems = Vec::new();
    for res in attempts {
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let problem = assert_problem(res, 401).await;
        problems.push((
            problem["type"].clone(),
            problem["title"].clone(),
            problem["detail"].clone(),
            problem["code"].clone(),
        ));
    }
    assert!(problems.windows(2).all(|w| w[0] == w[1]), "{problems:?}");
    assert_eq!(problems[0].3, "unauthorized");
}

#[tokio::test]
async fn an_inactive_account_cannot_log_in() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    app.patch_user(&root, alice.id, json!({"is_active": false})).await;

    let problem = assert_problem(app.login("alice", &alice.password).await, 403).await;
    assert_eq!(problem["code"], "forbidden");
    assert_problem(login_form(&app, "alice@example.com", &alice.password).await, 403).await;
    // Without the right password an inactive account looks like any other failure.
    assert_problem(app.login("alice", "wrong-password").await, 401).await;
}

#[tokio::test]
async fn login_refuses_other_media_types_with_415() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let res = app
        .request(Method::POST, LOGIN)
        .header("content-type", "text/plain")
        .body("username=alice&password=password-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(res, 415).await["code"], "unsupported_media_type");
    let res = app
        .request(Method::POST, LOGIN)
        .body(r#"{"username":"alice","password":"password-alice"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn login_with_missing_or_empty_fields_is_422_naming_them() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let json_cases = [
        (json!({"username": "alice"}), "password"),
        (json!({"password": "password-alice"}), "username"),
        (json!({"username": "alice", "password": ""}), "password"),
        (json!({"username": "", "password": "password-alice"}), "username"),
        (json!({"username": 7, "password": "password-alice"}), "username"),
    ];
    for (body, field) in json_cases {
        let problem = assert_problem(post_json(&app, LOGIN, &body).await, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
    }
    let form_cases = [
        ("grant_type=password&username=alice", "password"),
        ("grant_type=password&password=x", "username"),
    ];
    for (body, field) in form_cases {
        let res = app
            .request(Method::POST, LOGIN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
    }
    let empty = json!({});
    let problem = assert_problem(post_json(&app, LOGIN, &empty).await, 422).await;
    assert_eq!(field_names(&problem).len(), 1, "{problem}");
    let no_refresh_tokens = refresh_token::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(no_refresh_tokens, 1, "only the helper's login issued a session");
}
