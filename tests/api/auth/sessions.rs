//! Refresh-token rotation, reuse detection over token families, and logout.

use super::*;

#[tokio::test]
async fn refresh_rotates_the_pair_and_spends_the_old_token() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let pair = token_pair(refresh(&app, &alice.refresh_token).await).await;
    let new_refresh = text(&pair, "refresh_token");
    assert_ne!(new_refresh, alice.refresh_token);
    assert_eq!(
        whoami(&app, text(&pair, "access_token")).await["id"],
        alice.id.to_string()
    );

    let old = stored_refresh_token(&app, &alice.refresh_token).await;
    let new = stored_refresh_token(&app, new_refresh).await;
    assert!(old.used_at.is_some(), "the old token is spent");
    assert_eq!(old.family_id, new.family_id, "one session, one family");
    assert_eq!((new.used_at, new.revoked_at), (None, None));
    assert_eq!(new.user_id, alice.id);
    // Only digests are stored.
    let rows = refresh_token::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.token_hash != alice.refresh_token && r.token_hash != new_refresh)
    );
}

#[tokio::test]
async fn replaying_a_spent_token_revokes_its_family_but_not_other_sessions() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let other_session = token_pair(app.login("alice", &alice.password).await).await;
    let rotated = token_pair(refresh(&app, &alice.refresh_token).await).await;
    let newest = token_pair(refresh(&app, text(&rotated, "refresh_token")).await).await;

    let res = refresh(&app, &alice.refresh_token).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(assert_problem(res, 401).await["code"], "unauthorized");
    // The thief's (or the victim's) newest token of that family is dead too.
    assert_problem(refresh(&app, text(&newest, "refresh_token")).await, 401).await;
    let family = stored_refresh_token(&app, &alice.refresh_token).await.family_id;
    let members = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|t| t.revoked_at.is_some()), "{members:?}");

    // The other login of the same user is another family and lives on.
    token_pair(refresh(&app, text(&other_session, "refresh_token")).await).await;
}

#[tokio::test]
async fn an_expired_refresh_token_is_401() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut row: refresh_token::ActiveModel = stored_refresh_token(&app, &alice.refresh_token).await.into();
    row.expires_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    row.update(&app.db).await.unwrap();
    let res = refresh(&app, &alice.refresh_token).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, 401).await;
}

#[tokio::test]
async fn a_garbage_refresh_token_is_401_and_an_empty_one_422() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for garbage in ["garbage", &alice.access_token, &format!("{}x", alice.refresh_token)] {
        assert_problem(refresh(&app, garbage).await, 401).await;
    }
    let problem = assert_problem(refresh(&app, "").await, 422).await;
    assert_eq!(field_names(&problem), ["refresh_token"]);
    let problem = assert_problem(post_json(&app, REFRESH, &json!({})).await, 422).await;
    assert_eq!(field_names(&problem), ["refresh_token"]);
    // None of that hurt the real session.
    token_pair(refresh(&app, &alice.refresh_token).await).await;
}

#[tokio::test]
async fn logout_revokes_the_family_of_the_token() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let other_session = token_pair(app.login("alice", &alice.password).await).await;
    let rotated = token_pair(refresh(&app, &alice.refresh_token).await).await;

    let res = post_json(&app, LOGOUT, &json!({"refresh_token": text(&rotated, "refresh_token")})).await;
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());
    assert_problem(refresh(&app, text(&rotated, "refresh_token")).await, 401).await;
    assert!(
        stored_refresh_token(&app, text(&rotated, "refresh_token"))
            .await
            .revoked_at
            .is_some()
    );
    // Logging out again is harmless; the other session is untouched.
    assert_eq!(
        post_json(&app, LOGOUT, &json!({"refresh_token": text(&rotated, "refresh_token")}))
            .await
            .status(),
        204
    );
    token_pair(refresh(&app, text(&other_session, "refresh_token")).await).await;
}

#[tokio::test]
async fn logout_with_an_older_token_of_the_family_ends_the_whole_session() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let rotated = token_pair(refresh(&app, &alice.refresh_token).await).await;
    assert_eq!(
        post_json(&app, LOGOUT, &json!({"refresh_token": alice.refresh_token}))
            .await
            .status(),
        204
    );
    assert_problem(refresh(&app, text(&rotated, "refresh_token")).await, 401).await;
}

#[tokio::test]
async fn logout_of_an_unknown_token_is_204() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let res = post_json(&app, LOGOUT, &json!({"refresh_token": "never-issued"})).await;
    assert_eq!(res.status(), 204);
    let problem = assert_problem(post_json(&app, LOGOUT, &json!({"refresh_token": ""})).await, 422).await;
    assert_eq!(field_names(&problem), ["refresh_token"]);
    token_pair(refresh(&app, &alice.refresh_token).await).await;
}

#[tokio::test]
async fn refresh_and_logout_take_the_refresh_token_as_the_only_credential() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    // No Authorization header at all (post_json sends none) ...
    let pair = token_pair(refresh(&app, &alice.refresh_token).await).await;
    // ... and a stale or bogus one is not looked at.
    let res = app
        .request(Method::POST, REFRESH)
        .header("authorization", "Bearer not-a-token")
        .json(&json!({"refresh_token": text(&pair, "refresh_token")}))
        .send()
        .await
        .unwrap();
    let pair = token_pair(res).await;
    let res = app
        .request(Method::POST, LOGOUT)
        .header("authorization", "Bearer not-a-token")
        .json(&json!({"refresh_token": text(&pair, "refresh_token")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    // A valid access token is no substitute for the refresh token.
    let res = app.post_as(&alice, REFRESH, &json!({})).send().await.unwrap();
    assert_problem(res, 422).await;
}

#[tokio::test]
async fn concurrent_exchanges_of_one_token_leave_one_winner_and_a_revoked_family() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let attempts = (0..24).map(|_| refresh(&app, &alice.refresh_token));
    let results = futures_util::future::join_all(attempts).await;
    let mut issued = Vec::new();
    for res in results {
        if res.status() == 200 {
            issued.push(text(&token_pair(res).await, "refresh_token").to_owned());
        } else {
            assert_problem(res, 401).await;
        }
    }
    assert_eq!(issued.len(), 1, "exactly one exchange wins");
    // The others were replays: the whole family, the winner's new token included, is revoked.
    assert_problem(refresh(&app, &issued[0]).await, 401).await;
    let family = stored_refresh_token(&app, &alice.refresh_token).await.family_id;
    let members = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family))
        .all(&app.db)
        .await
        .unwrap();
    assert!(members.iter().all(|t| t.revoked_at.is_some()), "{members:?}");
}

#[tokio::test]
async fn a_token_that_missed_its_familys_revocation_dies_when_presented() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let rotated = token_pair(refresh(&app, &alice.refresh_token).await).await;
    let newest = text(&rotated, "refresh_token");
    // What a replay racing with the exchange can leave behind: the family revoked except
    // for the token the winning exchange inserted last.
    let mut spent: refresh_token::ActiveModel = stored_refresh_token(&app, &alice.refresh_token).await.into();
    spent.revoked_at = Set(Some(chrono::Utc::now()));
    spent.update(&app.db).await.unwrap();

    assert_problem(refresh(&app, newest).await, 401).await;
    assert!(stored_refresh_token(&app, newest).await.revoked_at.is_some());
}
