//! The superuser's administration of users: list, create, read, update, delete.

use super::*;

/// Creates a user through the admin route.
async fn admin_create(app: &TestApp, root: &TestUser, body: &Value) -> Value {
    user_body(app.post_as(root, USERS, body).send().await.unwrap(), 201).await
}

async fn list(app: &TestApp, root: &TestUser, query: &str) -> Value {
    let res = app.get_as(root, &format!("{USERS}{query}")).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn usernames(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `next_cursor` from the first page of `query` to the last; every page reports `total`.
async fn walk(app: &TestApp, root: &TestUser, query: &str, total: u64) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = list(app, root, query).await;
    loop {
        assert_eq!(page["total"], total, "{query}: {page}");
        seen.extend(usernames(&page));
        let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) else {
            break;
        };
        assert!(seen.len() < 100, "no end of pages");
        page = list(app, root, &format!("{query}&cursor={cursor}")).await;
    }
    seen
}

#[tokio::test]
async fn a_normal_user_gets_403_on_every_admin_route_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let before = stored(&app, bob.id).await.unwrap();
    let create =
        json!({"email": "mallory@example.com", "username": "mallory", "password": "password-m", "is_superuser": true});
    let attempts = [
        app.get_as(&alice, USERS),
        app.post_as(&alice, USERS, &create),
        app.get_as(&alice, &user_path(bob.id)),
        app.patch_as(
            &alice,
            &user_path(bob.id),
            &json!({"is_superuser": true, "password": "taken-over!"}),
        ),
        app.patch_as(&alice, &user_path(alice.id), &json!({"is_superuser": true})),
        app.delete_as(&alice, &user_path(bob.id)),
    ];
    for attempt in attempts {
        let problem = assert_problem(attempt.send().await.unwrap(), 403).await;
        assert_eq!(problem["code"], "forbidden");
    }
    assert_eq!(stored(&app, bob.id).await.unwrap(), before);
    assert!(!stored(&app, alice.id).await.unwrap().is_superuser);
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn the_user_list_is_newest_first_and_filters_by_email_or_username() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    for name in ["alice", "bob", "Carla"] {
        app.register(name).await;
    }
    admin_create(
        &app,
        &root,
        &json!({"email": "Eve@ALICE-corp.com", "username": "eve", "password": "password-eve"}),
    )
    .await;

    let page = list(&app, &root, "").await;
    assert_eq!(usernames(&page), ["eve", "Carla", "bob", "alice", "root"]);
    assert_eq!(page["total"], 5);
    assert_eq!(page["next_cursor"], Value::Null);
    for item in page["items"].as_array().unwrap() {
        let mut keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, USER_KEYS);
    }

    // Case-insensitive substring of the email or the username.
    let page = list(&app, &root, "?q=ALI").await;
    assert_eq!(usernames(&page), ["eve", "alice"]);
    assert_eq!(page["total"], 2);
    assert_eq!(usernames(&list(&app, &root, "?q=carl").await), ["Carla"]);
    assert_eq!(usernames(&list(&app, &root, "?q=alice-corp").await), ["eve"]);
    let page = list(&app, &root, "?q=nobody-has-this").await;
    assert_eq!((page["items"].clone(), page["total"].clone()), (json!([]), json!(0)));
}

#[tokio::test]
async fn the_user_filter_treats_like_wildcards_literally() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    app.register("under_score").await;
    app.register("underxscore").await;
    assert_eq!(usernames(&list(&app, &root, "?q=r_s").await), ["under_score"]);
    assert_eq!(list(&app, &root, "?q=%25").await["total"], 0);
    assert_eq!(list(&app, &root, "?q=%5C").await["total"], 0);
}

#[tokio::test]
async fn the_user_list_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    for name in ["u1", "u2", "u3", "u4", "u5"] {
        app.register(&format!("{name}_user")).await;
    }
    let everyone = usernames(&list(&app, &root, "?limit=100").await);
    assert_eq!(
        everyone,
        ["u5_user", "u4_user", "u3_user", "u2_user", "u1_user", "root"]
    );

    let first = list(&app, &root, "?limit=2").await;
    assert_eq!(usernames(&first), ["u5_user", "u4_user"]);
    assert!(first["next_cursor"].is_string());
    assert_eq!(walk(&app, &root, "?limit=2", 6).await, everyone);
    assert_eq!(walk(&app, &root, "?limit=1", 6).await, everyone);
    assert_eq!(walk(&app, &root, "?limit=5", 6).await, everyone);
    // The filter holds across pages, and total counts the matches.
    assert_eq!(walk(&app, &root, "?q=_USER&limit=2", 5).await, everyone[..5]);
    let last = list(&app, &root, "?limit=6").await;
    assert_eq!(last["next_cursor"], Value::Null, "no next page after the last item");
}

#[tokio::test]
async fn bad_paging_parameters_are_422_naming_them() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=many", "limit"),
        ("?cursor=garbage", "cursor"),
        ("?cursor=MTIzfG5vdC1hLXV1aWQ", "cursor"),
    ] {
        let problem = assert_problem(app.get_as(&root, &format!("{USERS}{query}")).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{query}: {problem}");
    }
    assert_eq!(list(&app, &root, "?limit=100").await["total"], 1);
    assert_eq!(list(&app, &root, "?limit=1").await["total"], 1);
}

#[tokio::test]
async fn a_superuser_creates_users_with_their_flags() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;

    let res = app
        .post_as(
            &root,
            USERS,
            &json!({"email": "Admin2@Example.com", "username": "admin2", "password": "password-admin2", "full_name": "Second", "is_superuser": true, "is_active": false}),
        )
        .send()
        .await
        .unwrap();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let created = user_body(res, 201).await;
    let id = Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    assert_eq!(location.as_deref(), Some(user_path(id).as_str()));
    assert_eq!(created["email"], "admin2@example.com");
    assert_eq!(created["full_name"], "Second");
    assert_eq!(
        (created["is_superuser"].clone(), created["is_active"].clone()),
        (json!(true), json!(false))
    );
    let row = stored(&app, id).await.unwrap();
    assert!(row.is_superuser && !row.is_active);
    assert!(row.password_hash.starts_with("$2b$"));
    assert_problem(app.login("admin2", "password-admin2").await, 403).await;
    let read = user_body(app.get_as(&root, &user_path(id)).send().await.unwrap(), 200).await;
    assert_eq!(read, created);

    // Defaults: an active normal user, who can log in.
    let plain = admin_create(
        &app,
        &root,
        &json!({"email": "plain@example.com", "username": "plain", "password": "password-plain"}),
    )
    .await;
    assert_eq!(
        (plain["is_superuser"].clone(), plain["is_active"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(app.login("plain", "password-plain").await.status(), 200);
    assert_eq!(user_count(&app).await, 3);
}

#[tokio::test]
async fn creating_a_duplicate_or_invalid_user_is_refused() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    app.register("alice").await;
    for body in [
        json!({"email": "ALICE@example.com", "username": "alice2", "password": "password-x"}),
        json!({"email": "alice2@example.com", "username": "Alice", "password": "password-x"}),
        json!({"email": "ROOT@example.com", "username": "root2", "password": "password-x"}),
    ] {
        let problem = assert_problem(app.post_as(&root, USERS, &body).send().await.unwrap(), 409).await;
        assert_eq!(problem["code"], "conflict", "{body}");
    }
    let valid = json!({"email": "new@example.com", "username": "newbie", "password": "password-new"});
    for (field, value) in [
        ("email", json!("nope")),
        ("username", json!("no way")),
        ("password", json!("short")),
        ("password", json!("é".repeat(37))),
        ("is_superuser", json!("yes")),
    ] {
        let mut body = valid.clone();
        body[field] = value;
        let problem = assert_problem(app.post_as(&root, USERS, &body).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
    }
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn a_superuser_reads_updates_and_deletes_any_user() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    let path = user_path(alice.id);

    let read = user_body(app.get_as(&root, &path).send().await.unwrap(), 200).await;
    assert_eq!(
        (read["id"].clone(), read["username"].clone()),
        (json!(alice.id), json!("alice"))
    );

    let body = json!({"email": "ALICE@New.example", "username": "alice_renamed", "full_name": "Alice", "id": Uuid::now_v7(), "created_at": "2000-01-01T00:00:00Z"});
    let updated = user_body(app.patch_as(&root, &path, &body).send().await.unwrap(), 200).await;
    assert_eq!(updated["id"], alice.id.to_string());
    assert_eq!(updated["email"], "alice@new.example");
    assert_eq!(updated["username"], "alice_renamed");
    assert_eq!(updated["created_at"], read["created_at"]);
    let updated = user_body(
        app.patch_as(&root, &path, &json!({"full_name": null}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(updated["full_name"], Value::Null);
    assert_eq!(updated["username"], "alice_renamed");
    let row = stored(&app, alice.id).await.unwrap();
    assert_eq!((row.email.as_str(), row.full_name), ("alice@new.example", None));

    for body in [json!({"email": "bob@EXAMPLE.com"}), json!({"username": "BOB"})] {
        assert_problem(app.patch_as(&root, &path, &body).send().await.unwrap(), 409).await;
    }
    for (body, field) in [
        (json!({"password": "short"}), "password"),
        (json!({"email": "x"}), "email"),
        (json!({"is_active": "no"}), "is_active"),
    ] {
        let problem = assert_problem(app.patch_as(&root, &path, &body).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{body}");
    }

    let res = app.delete_as(&root, &path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(stored(&app, alice.id).await.is_none());
    assert_eq!(
        refresh_token::Entity::find()
            .filter(refresh_token::Column::UserId.eq(alice.id))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    for res in [app.get_as(&root, &path), app.delete_as(&root, &path)] {
        assert_problem(res.send().await.unwrap(), 404).await;
    }
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn an_unknown_or_malformed_user_id_is_404() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let ids = [
        Uuid::now_v7().to_string(),
        "not-a-uuid".to_owned(),
        "123".to_owned(),
        "00000000-0000-0000-0000-00000000000g".to_owned(),
    ];
    for id in &ids {
        let path = user_path(id);
        for req in [
            app.get_as(&root, &path),
            app.patch_as(&root, &path, &json!({"full_name": "x"})),
            app.delete_as(&root, &path),
        ] {
            let problem = assert_problem(req.send().await.unwrap(), 404).await;
            assert_eq!(problem["code"], "not_found", "{id}: {problem}");
        }
    }
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn a_password_set_by_a_superuser_replaces_the_old_one_and_its_sessions() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    let res = app
        .patch_as(&root, &user_path(alice.id), &json!({"password": "set-by-the-admin"}))
        .send()
        .await
        .unwrap();
    user_body(res, 200).await;
    assert_eq!(app.login("alice", "set-by-the-admin").await.status(), 200);
    assert_problem(app.login("alice", &alice.password).await, 401).await;
    assert_problem(refresh(&app, &alice.refresh_token).await, 401).await;
    // The admin's own session is unaffected.
    assert_eq!(refresh(&app, &root.refresh_token).await.status(), 200);
}
