//! Registration: the stored account, uniqueness in any case, every rule, the welcome mail.

use super::*;

#[tokio::test]
async fn register_answers_201_with_location_and_the_user_without_secrets() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "Alice@Example.COM", "username": "Alice", "password": "correct-horse", "full_name": "Alice A."});
    let res = post_json(&app, REGISTER, &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["content-type"], "application/json");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let raw = res.text().await.unwrap();
    assert!(!raw.contains("$2b$") && !raw.contains("correct-horse"), "{raw}");
    let created: Value = serde_json::from_str(&raw).unwrap();

    let mut keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, USER_KEYS);
    let id = Uuid::parse_str(text(&created, "id")).unwrap();
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    assert_eq!(location, format!("/api/v1/users/{id}"));
    assert_eq!(created["email"], "alice@example.com");
    assert_eq!(created["username"], "Alice");
    assert_eq!(created["full_name"], "Alice A.");
    assert_eq!(created["is_active"], true);
    assert_eq!(created["is_superuser"], false);
    for key in ["created_at", "updated_at"] {
        let stamp = text(&created, key);
        assert!(stamp.ends_with('Z'), "{key} is UTC: {stamp}");
        chrono::DateTime::parse_from_rfc3339(stamp).unwrap_or_else(|e| panic!("{key} {stamp}: {e}"));
    }

    let row = stored_user(&app, id).await;
    assert_eq!(row.email, "alice@example.com", "stored lower-cased");
    assert_eq!(row.username, "Alice", "stored as typed");
    assert!(row.password_hash.starts_with("$2b$"), "bcrypt: {}", row.password_hash);
    assert!(!row.password_hash.contains("correct-horse"));
    assert!(row.is_active && !row.is_superuser);

    // The Location names the stored user.
    let root = app.superuser("root").await;
    let res = app.get_as(&root, &location).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test]
async fn register_sends_a_welcome_mail_in_the_background() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "Bob@Example.com", "username": "bob", "password": "password-bob"});
    assert_eq!(post_json(&app, REGISTER, &body).await.status(), 201);
    let mail = wait_for_mail(&app, "bob@example.com", "Welcome").await;
    assert!(mail.body.contains("bob"), "{}", mail.body);
    assert!(!mail.body.contains("password-bob"));
}

#[tokio::test]
async fn register_refuses_an_email_taken_in_another_case() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let body = json!({"email": "ALICE@Example.COM", "username": "alice2", "password": "password-2"});
    let problem = assert_problem(post_json(&app, REGISTER, &body).await, 409).await;
    assert_eq!(problem["code"], "conflict");
    assert!(text(&problem, "detail").contains("email"), "{problem}");
    assert_eq!(user_count(&app).await, 1);
    assert!(app.state.users.find_by_login("alice2").await.unwrap().is_none());
}

#[tokio::test]
async fn register_refuses_a_username_taken_in_another_case() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let body = json!({"email": "other@example.com", "username": "ALICE", "password": "password-2"});
    let problem = assert_problem(post_json(&app, REGISTER, &body).await, 409).await;
    assert_eq!(problem["code"], "conflict");
    assert!(text(&problem, "detail").contains("username"), "{problem}");
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_or_username_make_one_account() {
    let app = TestApp::spawn().await;
    let register = |email: String, username: String| {
        let body = json!({"email": email, "username": username, "password": "password-race"});
        app.request(Method::POST, REGISTER).json(&body).send()
    };
    let races = [
        (0..6)
            .map(|i| register(format!("{}@example.com", ["RACE", "race"][i % 2]), format!("racer{i}")))
            .collect::<Vec<_>>(),
        (0..6)
            .map(|i| register(format!("runner{i}@example.com"), ["Runner", "runner"][i % 2].to_owned()))
            .collect(),
    ];
    for race in races {
        let mut created = 0;
        for res in futures_util::future::join_all(race).await {
            let res = res.unwrap();
            if res.status() == 201 {
                created += 1;
            } else {
                assert_eq!(assert_problem(res, 409).await["code"], "conflict");
            }
        }
        assert_eq!(created, 1, "one account per email and per username");
    }
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn register_names_each_invalid_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let valid = json!({"email": "val@example.com", "username": "valid_name-1", "password": "password-ok"});
    let cases: Vec<(&str, Value)> = vec![
        ("email", json!("not-an-email")),
        ("email", json!("")),
        ("email", json!("two@@example.com")),
        ("username", json!("ab")),
        ("username", json!("has space")),
        ("username", json!("dot.name")),
        ("username", json!("x".repeat(51))),
        ("username", json!("namé")),
        ("password", json!("seven77")),
        ("password", json!("")),
        ("password", json!("a".repeat(73))),
        ("password", json!("é".repeat(37))),
        // 8 bytes but 4 characters: the published `minLength: 8` counts characters.
        ("password", json!("éééé")),
        ("full_name", json!("x".repeat(201))),
    ];
    for (field, value) in cases {
        let mut body = valid.clone();
        body[field] = value.clone();
        let problem = assert_problem(post_json(&app, REGISTER, &body).await, 422).await;
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(field_names(&problem), [field], "{field} = {value}: {problem}");
    }
    assert_eq!(user_count(&app).await, 0, "nothing stored after a failure");
    assert!(app.mailer.sent().is_empty(), "no welcome mail after a failure");
}

#[tokio::test]
async fn password_length_is_at_least_8_characters_and_at_most_bcrypts_72_bytes() {
    let app = TestApp::spawn().await;
    let accepted = [
        ("bytes72", "é".repeat(36)),
        ("ascii72", "a".repeat(72)),
        ("chars8", "é".repeat(8)),
        ("ascii8", "a".repeat(8)),
    ];
    for (name, password) in &accepted {
        let body = json!({"email": format!("{name}@example.com"), "username": name, "password": password});
        let res = post_json(&app, REGISTER, &body).await;
        assert_eq!(res.status(), 201, "{name}: {}", res.text().await.unwrap());
        token_pair(app.login(name, password).await).await;
    }
    // Every one of the 72 bytes counts: nothing is truncated away.
    let almost = format!("{}è", "é".repeat(35));
    assert_problem(app.login("bytes72", &almost).await, 401).await;

    let refused = [
        ("long73", "a".repeat(73)),
        ("long74", "é".repeat(37)),
        ("short7", "ééé1".to_owned()),
        // 8 bytes are not enough: the minimum counts characters, as the published `minLength`.
        ("chars4", "é".repeat(4)),
    ];
    for (name, password) in &refused {
        let body = json!({"email": format!("{name}@example.com"), "username": name, "password": password});
        let problem = assert_problem(post_json(&app, REGISTER, &body).await, 422).await;
        assert_eq!(field_names(&problem), ["password"], "{name}");
    }
    assert_eq!(user_count(&app).await, accepted.len() as u64);
}
