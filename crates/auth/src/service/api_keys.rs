//! API keys: created with a secret shown once (only its SHA-256 is stored), listed, read
//! and revoked by their owner, and turned back into their user on every request.
//!
//! A key is a random 256-bit secret, so a fast hash is enough: nothing short of the key
//! itself can be found from its SHA-256, and unlike a password there is no small space to
//! search, so bcrypt's cost would only slow every request down. Keys are found by their
//! hash (an index lookup), never compared one by one.

use std::time::Duration;

use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams, Principal, TokenKind};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use users::{KeyGrant, UserService};
use uuid::Uuid;

use crate::entities::api_key;
use crate::error::{AuthError, Result};
use crate::schemas::{ApiKey, ApiKeyCreate, ApiKeyCreated};
use crate::secrets;

/// What every key starts with, telling it from an access token (a JWT starts with `eyJ`).
pub const KEY_PREFIX: &str = "agk_";
/// How many leading characters of a key are kept to recognise it by.
pub const PREFIX_LEN: usize = 12;
/// The length of a key: the prefix and 32 random bytes in unpadded base64url.
const KEY_LEN: usize = KEY_PREFIX.len() + 43;
/// `last_used_at` is written at most this often per key.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);
/// Keys whose recent use one process remembers (so it does not write it again).
const RECENTLY_USED_CAPACITY: u64 = 100_000;

/// Whether a bearer token is meant as an API key (and not an access token).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// Whether `token` has a key's shape: anything else is refused without a database read.
fn well_formed(token: &str) -> bool {
    token.len() == KEY_LEN
        && token[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The id a key's grant is cached under: the first 128 bits of its hash, exactly what the
/// `api_keys` trigger announces on PostgreSQL when the row is deleted.
fn lookup_id(key_hash: &str) -> Option<Uuid> {
    key_hash.get(..32).and_then(|hex| Uuid::try_parse(hex).ok())
}

/// Creates, lists, reads and revokes API keys, and authenticates requests made with one.
#[derive(Clone)]
pub struct ApiKeyService {
    db: DatabaseConnection,
    users: UserService,
    /// Keys whose `last_used_at` this process wrote within the last minute.
    recently_used: moka::sync::Cache<Uuid, ()>,
}

impl ApiKeyService {
    /// A service over `db`; keys act for `users`' accounts, and their grants are cached in
    /// its standing cache when it has one.
    pub fn new(db: DatabaseConnection, users: UserService) -> Self {
        Self {
            db,
            users,
            recently_used: moka::sync::Cache::builder()
                .max_capacity(RECENTLY_USED_CAPACITY)
                .time_to_live(LAST_USED_RESOLUTION)
                .build(),
        }
    }

    /// Creates a key for `user_id`; the answer is the only place the key ever appears.
    /// [`AuthError::Invalid`] names every field that breaks the rules.
    pub async fn create(&self, user_id: Uuid, new: ApiKeyCreate) -> Result<ApiKeyCreated> {
        kernel::rules::check(&new).map_err(AuthError::Invalid)?;
        let key = format!("{KEY_PREFIX}{}", secrets::new_token());
        let model = api_key::ActiveModel {
            id: Set(kernel::ids::new_id()),
            user_id: Set(user_id),
            name: Set(new.name),
            prefix: Set(key[..PREFIX_LEN].to_owned()),
            key_hash: Set(secrets::digest(&key)),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            created_at: Set(kernel::clock::now()),
        }
        .insert(&self.db)
        .await?;
        Ok(ApiKeyCreated::new(model, key))
    }

    /// A page of `user_id`'s keys, newest first.
    pub async fn list(&self, user_id: Uuid, page: &PageParams) -> Result<Page<ApiKey>> {
        let select = api_key::Entity::find().filter(api_key::Column::UserId.eq(user_id));
        let columns = KeysetColumns {
            created_at: api_key::Column::CreatedAt,
            id: api_key::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |k| Cursor {
            created_at: k.created_at,
            id: k.id,
        })
        .await?;
        Ok(page.map(ApiKey::from))
    }

    /// One of `user_id`'s keys ([`AuthError::ApiKeyNotFound`] for a missing or foreign one).
    pub async fn get(&self, user_id: Uuid, id: Uuid) -> Result<ApiKey> {
        Ok(self.owned(user_id, id).await?.into())
    }

    /// Revokes one of `user_id`'s keys: from the next request on it is refused, here at
    /// once and on other replicas as soon as the `api_keys` trigger's notice reaches them.
    pub async fn revoke(&self, user_id: Uuid, id: Uuid) -> Result<()> {
        let key = self.owned(user_id, id).await?;
        let deleted = api_key::Entity::delete_many()
            .filter(api_key::Column::Id.eq(key.id))
            .filter(api_key::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        if let (Some(cache), Some(lookup)) = (self.users.standing_cache(), lookup_id(&key.key_hash)) {
            cache.invalidate(lookup);
        }
        if deleted.rows_affected == 0 {
            return Err(AuthError::ApiKeyNotFound);
        }
        Ok(())
    }

    async fn owned(&self, user_id: Uuid, id: Uuid) -> Result<api_key::Model> {
        api_key::Entity::find_by_id(id)
            .filter(api_key::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(AuthError::ApiKeyNotFound)
    }

    /// The principal of a bearer API key: the key exists, has not expired, and its user
    /// exists and is active; [`AuthError::BadApiKey`] otherwise. Reads nothing from the
    /// database when the grant and the account are cached, and writes `last_used_at` at
    /// most once a minute.
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        if !well_formed(key) {
            return Err(AuthError::BadApiKey);
        }
        let key_hash = secrets::digest(key);
        let grant = match (self.users.standing_cache(), lookup_id(&key_hash)) {
            (Some(cache), Some(lookup)) => cache.key_grant(lookup, self.read_grant(&key_hash)).await?,
            _ => self.read_grant(&key_hash).await?,
        };
        let now = kernel::clock::now();
        let grant = grant
            .filter(|g| g.expires_at.is_none_or(|at| at > now))
            .ok_or(AuthError::BadApiKey)?;
        let standing = self
            .users
            .standing(grant.user_id)
            .await?
            .filter(|s| s.is_active)
            .ok_or(AuthError::BadApiKey)?;
        self.note_use(grant.key_id).await;
        Ok(Principal {
            user_id: grant.user_id,
            is_superuser: standing.is_superuser,
            token: TokenKind::ApiKey,
        })
    }

    async fn read_grant(&self, key_hash: &str) -> Result<Option<KeyGrant>> {
        let row: Option<(Uuid, Uuid, Option<chrono::DateTime<chrono::Utc>>)> = api_key::Entity::find()
            .select_only()
            .column(api_key::Column::Id)
            .column(api_key::Column::UserId)
            .column(api_key::Column::ExpiresAt)
            .filter(api_key::Column::KeyHash.eq(key_hash))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(row.map(|(key_id, user_id, expires_at)| KeyGrant {
            key_id,
            user_id,
            expires_at,
        }))
    }

    /// Records a use of the key unless this process did within the last minute; the
    /// update itself skips a row written less than a minute ago (by another replica), so
    /// the stored time moves at most once a minute. A failure is logged, never the
    /// request's: `last_used_at` is a hint.
    async fn note_use(&self, key_id: Uuid) {
        if !self.recently_used.entry(key_id).or_insert(()).is_fresh() {
            return;
        }
        let now = kernel::clock::now();
        let Ok(resolution) = chrono::Duration::from_std(LAST_USED_RESOLUTION) else {
            return;
        };
        let written = api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(key_id))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lte(now - resolution)),
            )
            .exec(&self.db)
            .await;
        if let Err(err) = written {
            tracing::warn!(%key_id, error = %err, "could not record an API key's use");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_has_the_shape_it_is_checked_for() {
        let key = format!("{KEY_PREFIX}{}", secrets::new_token());
        assert!(is_api_key(&key) && well_formed(&key), "{key}");
        assert!(!well_formed(&key[..KEY_LEN - 1]));
        assert!(!well_formed(&format!("{}!", &key[..KEY_LEN - 1])));
        assert!(!is_api_key("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    }

    #[test]
    fn the_lookup_id_is_the_first_half_of_the_hash() {
        let hash = secrets::digest("agk_example");
        let id = lookup_id(&hash).unwrap();
        assert_eq!(id.simple().to_string(), hash[..32]);
    }
}
