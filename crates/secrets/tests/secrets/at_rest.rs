//! What is stored: ciphertext only, bound to its key, owner and name.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrets::{SecretError, SecretService};
use uuid::Uuid;

use crate::common::{names, other_key, service, user};

/// Every stored row: `(owner_id, name, nonce, ciphertext)`.
async fn stored(db: &DatabaseConnection) -> Vec<(Uuid, String, Vec<u8>, Vec<u8>)> {
    let select = Query::select()
        .columns(["owner_id", "name", "nonce", "ciphertext"])
        .from("secrets")
        .to_owned();
    db.query_all(&select)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "owner_id").unwrap(),
                row.try_get("", "name").unwrap(),
                row.try_get("", "nonce").unwrap(),
                row.try_get("", "ciphertext").unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_table_holds_ciphertext_never_the_value() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    let value = "ghp_plaintext-that-must-not-be-stored";
    secrets.put(alice, "GITHUB_TOKEN", value).await.unwrap();
    secrets.put(alice, "GITHUB_TOKEN", value).await.unwrap();
    let rows = stored(&db).await;
    assert_eq!(rows.len(), 1);
    let (owner, name, nonce, ciphertext) = &rows[0];
    assert_eq!((*owner, name.as_str()), (alice, "GITHUB_TOKEN"));
    assert_eq!(nonce.len(), 12, "a 96-bit nonce");
    assert_eq!(ciphertext.len(), value.len() + 16, "the value and a 16-byte tag");
    assert!(!contains(ciphertext, value.as_bytes()));
    assert!(!contains(ciphertext, b"plaintext"));
}

#[tokio::test]
async fn every_write_draws_a_new_nonce() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    secrets.put(alice, "TOKEN", "same value").await.unwrap();
    let first = stored(&db).await.remove(0);
    secrets.put(alice, "TOKEN", "same value").await.unwrap();
    let second = stored(&db).await.remove(0);
    assert_ne!(first.2, second.2, "nonce");
    assert_ne!(first.3, second.3, "ciphertext");
}

#[tokio::test]
async fn another_key_cannot_decrypt_and_says_so_without_the_value() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    secrets.put(alice, "TOKEN", "the-value").await.unwrap();
    let rotated = SecretService::new(db.clone(), other_key());
    let err = rotated.resolve(alice, &names(&["TOKEN"])).await.unwrap_err();
    assert!(
        matches!(&err, SecretError::Undecryptable(name) if name == "TOKEN"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("SECRETS_KEY") && message.contains("TOKEN"),
        "{message}"
    );
    assert!(!message.contains("the-value") && !format!("{err:?}").contains("the-value"));
    // Listing and replacing need no decryption.
    assert_eq!(rotated.list(alice).await.unwrap().len(), 1);
    rotated.put(alice, "TOKEN", "new-value").await.unwrap();
    let resolved = rotated.resolve(alice, &names(&["TOKEN"])).await.unwrap();
    assert_eq!(resolved["TOKEN"].expose(), "new-value");
    // At the HTTP edge it is a bare 500 (details are logged, never sent).
    let edge: kernel::Error = SecretError::Undecryptable("TOKEN".into()).into();
    assert_eq!(edge.status(), 500);
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_row_does_not_open() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    let mallory = user(&db, "mallory").await;
    secrets.put(alice, "TOKEN", "alice-value").await.unwrap();
    secrets.put(mallory, "TOKEN", "mallory-value").await.unwrap();
    secrets.put(alice, "OTHER", "other-value").await.unwrap();
    let rows = stored(&db).await;
    let (_, _, nonce, ciphertext) = rows
        .iter()
        .find(|(owner, name, ..)| *owner == alice && name == "TOKEN")
        .unwrap()
        .clone();
    for (owner, name) in [(mallory, "TOKEN"), (alice, "OTHER")] {
        let update = Query::update()
            .table("secrets")
            .values([
                ("nonce", nonce.clone().into()),
                ("ciphertext", ciphertext.clone().into()),
            ])
            .and_where(Expr::col("owner_id").eq(owner))
            .and_where(Expr::col("name").eq(name))
            .to_owned();
        assert_eq!(db.execute(&update).await.unwrap().rows_affected(), 1);
        let err = secrets.resolve(owner, &names(&[name])).await.unwrap_err();
        assert!(matches!(&err, SecretError::Undecryptable(n) if n == name), "{err:?}");
    }
    let resolved = secrets.resolve(alice, &names(&["TOKEN"])).await.unwrap();
    assert_eq!(resolved["TOKEN"].expose(), "alice-value");
}
