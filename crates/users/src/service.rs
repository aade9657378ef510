//! Business rules of user accounts.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams, PasswordHasher};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::entities::user;
use crate::error::{Result, UserError};
use crate::schemas::{NewUser, PasswordChange, UserUpdate};
use crate::standing::{Standing, StandingCache};

/// Creates, finds, updates and deletes user accounts.
#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    hasher: Arc<dyn PasswordHasher>,
    standing: Option<StandingCache>,
}

impl UserService {
    /// A service over `db`, hashing passwords with `hasher`; [`standing`](Self::standing)
    /// reads the database every time.
    pub fn new(db: DatabaseConnection, hasher: Arc<dyn PasswordHasher>) -> Self {
        Self {
            db,
            hasher,
            standing: None,
        }
    }

    /// The same service answering [`standing`](Self::standing) from `cache` (which this
    /// service invalidates on every change it makes; see [`crate::standing`] for the rest).
    pub fn with_standing_cache(mut self, cache: StandingCache) -> Self {
        self.standing = Some(cache);
        self
    }

    /// The standing of the account with this id (`None` when there is none): what
    /// authenticating each request needs, from the cache when one is live.
    pub async fn standing(&self, id: Uuid) -> Result<Option<Standing>> {
        let Some(cache) = &self.standing else {
            return self.read_standing(id).await;
        };
        if let Some(standing) = cache.get(id) {
            return Ok(Some(standing));
        }
        let epoch = cache.epoch();
        let standing = self.read_standing(id).await?;
        if let Some(standing) = standing {
            cache.store(id, standing, epoch);
        }
        Ok(standing)
    }

    /// The standing cache this service answers from, if any (`auth` keeps API keys' grants
    /// in it, so a revocation travels the same invalidation path).
    pub fn standing_cache(&self) -> Option<&StandingCache> {
        self.standing.as_ref()
    }

    async fn read_standing(&self, id: Uuid) -> Result<Option<Standing>> {
        let row: Option<(bool, bool)> = user::Entity::find_by_id(id)
            .select_only()
            .column(user::Column::IsActive)
            .column(user::Column::IsSuperuser)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(row.map(|(is_active, is_superuser)| Standing {
            is_active,
            is_superuser,
        }))
    }

    /// Drops the cached standing of `id` after a change to it.
    fn forget_standing(&self, id: Uuid) {
        if let Some(cache) = &self.standing {
            cache.invalidate(id);
        }
    }

    /// The password hasher this service uses.
    pub fn hasher(&self) -> &Arc<dyn PasswordHasher> {
        &self.hasher
    }

    /// Creates an account; [`UserError::Invalid`] naming every field that breaks the
    /// rules (for library callers too), `EmailTaken`/`UsernameTaken` (any case).
    pub async fn create(&self, new: NewUser) -> Result<user::Model> {
        kernel::rules::check(&new).map_err(UserError::Invalid)?;
        let email = new.email.trim().to_lowercase();
        self.ensure_unique(Some(&email), Some(&new.username), None).await?;
        let password_hash = self.hasher.hash(new.password).await?;
        let now = kernel::clock::now();
        let model = user::ActiveModel {
            id: Set(kernel::ids::new_id()),
            email: Set(email),
            username: Set(new.username),
            full_name: Set(new.full_name),
            password_hash: Set(password_hash),
            is_active: Set(new.is_active),
            is_superuser: Set(new.is_superuser),
            avatar_file_id: Set(None),
            sessions_revoked_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        Ok(model.insert(&self.db).await?)
    }

    /// The user with this id ([`UserError::NotFound`] otherwise).
    pub async fn get(&self, id: Uuid) -> Result<user::Model> {
        self.find(id).await?.ok_or(UserError::NotFound)
    }

    /// Sets (or with `None` clears) the account's avatar file, which the caller has checked:
    /// the updated account.
    pub async fn set_avatar(&self, id: Uuid, file_id: Option<Uuid>) -> Result<user::Model> {
        let updated = user::Entity::update_many()
            .set(user::ActiveModel {
                avatar_file_id: Set(file_id),
                updated_at: Set(kernel::clock::now()),
                ..Default::default()
            })
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(UserError::NotFound);
        }
        self.get(id).await
    }

    /// The user with this id, if any.
    pub async fn find(&self, id: Uuid) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The user a login name refers to: an email address or a username, any case.
    pub async fn find_by_login(&self, login: &str) -> Result<Option<user::Model>> {
        let login = login.trim().to_lowercase();
        let column = if login.contains('@') {
            user::Column::Email
        } else {
            user::Column::Username
        };
        Ok(user::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(column))).eq(login))
            .one(&self.db)
            .await?)
    }

    /// Applies a partial update; `409` when the new email or username is taken.
    pub async fn update(&self, id: Uuid, update: UserUpdate) -> Result<user::Model> {
        kernel::rules::check(&update).map_err(UserError::Invalid)?;
        let current = self.get(id).await?;
        let email = update.email.map(|e| e.trim().to_lowercase());
        self.ensure_unique(email.as_deref(), update.username.as_deref(), Some(id))
            .await?;
        let now = kernel::clock::now();
        let mut model: user::ActiveModel = current.into();
        if let Some(email) = email {
            model.email = Set(email);
        }
        if let Some(username) = update.username {
            model.username = Set(username);
        }
        if let Some(full_name) = update.full_name {
            model.full_name = Set(full_name);
        }
        if let Some(password) = update.password {
            model.password_hash = Set(self.hasher.hash(password).await?);
            model.sessions_revoked_at = Set(Some(now));
        }
        if let Some(is_active) = update.is_active {
            model.is_active = Set(is_active);
            if !is_active {
                model.sessions_revoked_at = Set(Some(now));
            }
        }
        if let Some(is_superuser) = update.is_superuser {
            model.is_superuser = Set(is_superuser);
        }
        model.updated_at = Set(now);
        let updated = model.update(&self.db).await?;
        self.forget_standing(id);
        Ok(updated)
    }

    /// Changes the caller's password after checking the current one (`400` when wrong);
    /// every refresh token issued before is revoked.
    pub async fn change_password(&self, id: Uuid, change: PasswordChange) -> Result<()> {
        kernel::rules::check(&change).map_err(UserError::Invalid)?;
        let current = self.get(id).await?;
        let ok = self
            .hasher
            .verify(change.current_password, Some(current.password_hash.clone()))
            .await?;
        if !ok {
            return Err(UserError::WrongPassword);
        }
        self.set_password(current, change.new_password).await
    }

    /// Sets a new password and revokes every refresh token issued before.
    pub async fn set_password(&self, user: user::Model, new_password: String) -> Result<()> {
        let hash = self.hasher.hash(new_password).await?;
        self.store_password_hash(&self.db, user.id, hash, kernel::clock::now())
            .await?;
        Ok(())
    }

    /// Stores an already hashed password of account `id` through `db` (a caller's
    /// transaction, when the change is part of a larger one), revoking every session
    /// started before `now`. Whether the account exists.
    pub async fn store_password_hash<C: ConnectionTrait>(
        &self,
        db: &C,
        id: Uuid,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let updated = user::Entity::update_many()
            .set(user::ActiveModel {
                password_hash: Set(hash),
                sessions_revoked_at: Set(Some(now)),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(user::Column::Id.eq(id))
            .exec(db)
            .await?;
        Ok(updated.rows_affected > 0)
    }

    /// Deletes the account; everything it owns goes with it (foreign keys cascade).
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let res = user::Entity::delete_by_id(id).exec(&self.db).await?;
        self.forget_standing(id);
        if res.rows_affected == 0 {
            return Err(UserError::NotFound);
        }
        Ok(())
    }

    /// A page of users, newest first, optionally filtered by an email/username substring.
    pub async fn list(&self, q: Option<&str>, page: &PageParams) -> Result<Page<user::Model>> {
        let mut select = user::Entity::find();
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(
                Condition::any()
                    .add(kernel::search::contains_ignoring_case(user::Column::Email, q))
                    .add(kernel::search::contains_ignoring_case(user::Column::Username, q)),
            );
        }
        let columns = KeysetColumns {
            created_at: user::Column::CreatedAt,
            id: user::Column::Id,
        };
        Ok(fetch_page(&self.db, select, columns, page, |u| Cursor {
            created_at: u.created_at,
            id: u.id,
        })
        .await?)
    }

    /// Creates a superuser with these credentials unless the email is already registered.
    /// Returns whether an account was created.
    pub async fn ensure_superuser(&self, email: &str, password: &str) -> Result<bool> {
        if self.find_by_login(email).await?.is_some() {
            return Ok(false);
        }
        let username = superuser_name(email);
        self.create(NewUser {
            email: email.to_owned(),
            username,
            password: password.to_owned(),
            full_name: None,
            is_superuser: true,
            is_active: true,
        })
        .await?;
        Ok(true)
    }

    /// `409` naming the field when the email or username is used by another account.
    async fn ensure_unique(&self, email: Option<&str>, username: Option<&str>, except: Option<Uuid>) -> Result<()> {
        let taken = |found: Option<user::Model>| found.is_some_and(|u| Some(u.id) != except);
        if let Some(email) = email
            && taken(self.find_by_login(email).await?)
        {
            return Err(UserError::EmailTaken);
        }
        if let Some(username) = username
            && taken(
                user::Entity::find()
                    .filter(Expr::expr(Func::lower(Expr::col(user::Column::Username))).eq(username.to_lowercase()))
                    .one(&self.db)
                    .await?,
            )
        {
            return Err(UserError::UsernameTaken);
        }
        Ok(())
    }
}

/// A valid username derived from an email's local part.
fn superuser_name(email: &str) -> String {
    let local: String = email
        .split('@')
        .next()
        .unwrap_or("admin")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(50)
        .collect();
    if local.len() >= 3 {
        local
    } else {
        format!("admin_{local}")
    }
}
