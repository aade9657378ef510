//! [`SecretService`]: write, list, delete and resolve a user's secrets.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use crate::cipher::{CipherError, SecretCipher};
use crate::entities::secret::{ActiveModel, Column, Entity};
use crate::error::{Result, SecretError};
use crate::schemas::rules::{check_write, is_valid_name};
use crate::{SecretInfo, SecretValue, SecretsKey};

/// The secrets of every user, encrypted under one [`SecretsKey`]. Cheap to clone.
///
/// Values pass through it only as arguments and [`SecretValue`]s: it logs none and no error
/// holds one.
#[derive(Clone)]
pub struct SecretService {
    db: DatabaseConnection,
    cipher: SecretCipher,
}

impl std::fmt::Debug for SecretService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretService").finish_non_exhaustive()
    }
}

impl SecretService {
    /// The service over `db`, encrypting under `key`.
    pub fn new(db: DatabaseConnection, key: SecretsKey) -> Self {
        Self {
            db,
            cipher: SecretCipher::new(&key),
        }
    }

    /// Creates the secret `name` of `owner_id`, or replaces its value (one row per owner
    /// and name, kept with its id and `created_at`; `updated_at` moves). Concurrent writes of
    /// one name cannot fail on each other: the last one wins.
    pub async fn put(&self, owner_id: Uuid, name: &str, value: &str) -> Result<()> {
        check_write(name, value).map_err(SecretError::Invalid)?;
        let sealed = self.cipher.seal(owner_id, name, value).map_err(|err| match err {
            CipherError::NoRandomness(reason) => SecretError::Encryption(reason),
            CipherError::Unopenable => SecretError::Encryption(err.to_string()),
        })?;
        let now = kernel::clock::now();
        let row = ActiveModel {
            id: Set(kernel::ids::new_id()),
            owner_id: Set(owner_id),
            name: Set(name.to_owned()),
            nonce: Set(sealed.nonce),
            ciphertext: Set(sealed.ciphertext),
            created_at: Set(now),
            updated_at: Set(now),
        };
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::OwnerId, Column::Name])
                    .update_columns([Column::Nonce, Column::Ciphertext, Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// The secrets of `owner_id` (names and times, never values), ordered by name byte by
    /// byte (the same order on every database).
    pub async fn list(&self, owner_id: Uuid) -> Result<Vec<SecretInfo>> {
        let mut items: Vec<SecretInfo> = Entity::find()
            .select_only()
            .columns([Column::Name, Column::CreatedAt, Column::UpdatedAt])
            .filter(Column::OwnerId.eq(owner_id))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(name, created_at, updated_at)| SecretInfo {
                name,
                created_at,
                updated_at,
            })
            .collect();
        items.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(items)
    }

    /// Deletes the secret `name` of `owner_id`; [`SecretError::NotFound`] when they have
    /// none of that name (whoever else does).
    pub async fn delete(&self, owner_id: Uuid, name: &str) -> Result<()> {
        if !is_valid_name(name) {
            return Err(SecretError::NotFound);
        }
        let deleted = Entity::delete_many()
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::Name.eq(name))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(SecretError::NotFound);
        }
        Ok(())
    }

    /// The caller's secrets among `names`, decrypted; names that do not exist are absent from the map.
    ///
    /// A stored secret that does not decrypt (`SECRETS_KEY` changed, row altered) is
    /// [`SecretError::Undecryptable`] naming it.
    pub async fn resolve(&self, owner_id: Uuid, names: &[String]) -> Result<HashMap<String, SecretValue>> {
        // A name that breaks the rules cannot exist (and a NUL must not reach PostgreSQL).
        let mut wanted: Vec<&str> = names.iter().map(String::as_str).filter(|n| is_valid_name(n)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = Entity::find()
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::Name.is_in(wanted))
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let value = self
                    .cipher
                    .open(owner_id, &row.name, &row.nonce, &row.ciphertext)
                    .map_err(|_| SecretError::Undecryptable(row.name.clone()))?;
                Ok((row.name, SecretValue::new(value)))
            })
            .collect()
    }
}
