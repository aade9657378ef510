//! Registration, login, refresh-token rotation, logout and password reset; API keys in
//! [`api_keys`].

pub mod api_keys;

use std::sync::Arc;

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use users::UserService;
use users::entities::user;
use users::schemas::NewUser;
use uuid::Uuid;

use crate::entities::{password_reset_token as reset, refresh_token as refresh};
use crate::error::{AuthError, Result};
use crate::jwt::JwtKeys;
use crate::mailer::{Mail, Mailer};
use crate::schemas::{RegisterRequest, TokenPair};
use crate::secrets;

pub use api_keys::ApiKeyService;

/// Lifetimes and links of the tokens the service hands out.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Access-token lifetime in seconds (default 15 minutes).
    pub access_ttl_secs: i64,
    /// Refresh-token lifetime in seconds (default 30 days).
    pub refresh_ttl_secs: i64,
    /// Reset-token lifetime in seconds (default 1 hour).
    pub reset_ttl_secs: i64,
    /// Public URL of the frontend's reset page; the token is appended as `?token=`.
    pub reset_url: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            reset_ttl_secs: 3600,
            reset_url: "http://127.0.0.1:8080/reset-password".into(),
        }
    }
}

/// Authenticates users and manages their sessions.
#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    users: UserService,
    keys: JwtKeys,
    mailer: Arc<dyn Mailer>,
    settings: AuthSettings,
    api_keys: ApiKeyService,
}

impl AuthService {
    /// A service over `db`, using `users` for accounts.
    pub fn new(
        db: DatabaseConnection,
        users: UserService,
        keys: JwtKeys,
        mailer: Arc<dyn Mailer>,
        settings: AuthSettings,
    ) -> Self {
        Self {
            api_keys: ApiKeyService::new(db.clone(), users.clone()),
            db,
            users,
            keys,
            mailer,
            settings,
        }
    }

    /// The API keys of the same accounts (sharing their standing cache).
    pub fn api_keys(&self) -> &ApiKeyService {
        &self.api_keys
    }

    /// The access-token keys.
    pub fn keys(&self) -> &JwtKeys {
        &self.keys
    }

    /// The user service this one authenticates against.
    pub fn users(&self) -> &UserService {
        &self.users
    }

    /// Creates an account and sends the welcome mail in the background (its failure is
    /// logged and never delays or fails the registration).
    pub async fn register(&self, req: RegisterRequest) -> Result<user::Model> {
        let created = self
            .users
            .create(NewUser {
                email: req.email,
                username: req.username,
                password: req.password,
                full_name: req.full_name,
                is_superuser: false,
                is_active: true,
            })
            .await?;
        self.send_in_background(Mail {
            to: created.email.clone(),
            subject: "Welcome to Agentry".into(),
            body: format!("Hello {}, your Agentry account is ready.", created.username),
        });
        Ok(created)
    }

    /// Checks credentials (email or username) and starts a new session.
    /// Unknown user and wrong password cost the same bcrypt time and get the same `401`.
    pub async fn login(&self, login: &str, password: String) -> Result<TokenPair> {
        let found = self.users.find_by_login(login).await?;
        let hash = found.as_ref().map(|u| u.password_hash.clone());
        let matched = self.users.hasher().verify(password, hash).await?;
        let user = match found {
            Some(user) if matched => user,
            _ => return Err(AuthError::BadCredentials),
        };
        if !user.is_active {
            return Err(AuthError::Inactive);
        }
        self.issue_pair(user.id, kernel::ids::new_id()).await
    }

    /// Exchanges a refresh token for a new pair. The presented token is spent; presenting
    /// a spent token again revokes its whole family (the session was stolen or replayed).
    pub async fn refresh(&self, token: &str) -> Result<TokenPair> {
        let now = kernel::clock::now();
        let row = refresh::Entity::find()
            .filter(refresh::Column::TokenHash.eq(secrets::digest(token)))
            .one(&self.db)
            .await?
            .ok_or(AuthError::BadRefreshToken)?;
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Err(AuthError::BadRefreshToken);
        }
        if row.used_at.is_some() {
            self.revoke_family(row.family_id).await?;
            tracing::warn!(user_id = %row.user_id, family_id = %row.family_id, "refresh token reuse: family revoked");
            return Err(AuthError::BadRefreshToken);
        }
        // A token issued by an exchange that raced with a replay or a logout can miss its
        // family's revocation; it dies with the family when presented.
        if self.family_revoked(row.family_id).await? {
            self.revoke_family(row.family_id).await?;
            return Err(AuthError::BadRefreshToken);
        }
        let user = self.users.find(row.user_id).await?.ok_or(AuthError::BadRefreshToken)?;
        let revoked_by_user = user.sessions_revoked_at.is_some_and(|at| at >= row.created_at);
        if !user.is_active || revoked_by_user {
            return Err(AuthError::BadRefreshToken);
        }
        // Spend the token only if nobody else spent it meanwhile: of two concurrent
        // exchanges exactly one wins, and the other counts as reuse.
        let spent = refresh::Entity::update_many()
            .col_expr(refresh::Column::UsedAt, Expr::value(now))
            .filter(refresh::Column::Id.eq(row.id))
            .filter(refresh::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        if spent.rows_affected == 0 {
            self.revoke_family(row.family_id).await?;
            return Err(AuthError::BadRefreshToken);
        }
        self.issue_pair(user.id, row.family_id).await
    }

    /// Revokes the family of this refresh token; unknown tokens are ignored (logout is idempotent).
    pub async fn logout(&self, token: &str) -> Result<()> {
        let row = refresh::Entity::find()
            .filter(refresh::Column::TokenHash.eq(secrets::digest(token)))
            .one(&self.db)
            .await?;
        if let Some(row) = row {
            self.revoke_family(row.family_id).await?;
        }
        Ok(())
    }

    /// Mails a single-use reset link when an active account has this email; says nothing either way.
    pub async fn recover_password(&self, email: &str) -> Result<()> {
        let Some(user) = self.users.find_by_login(&email.to_lowercase()).await? else {
            return Ok(());
        };
        if !user.is_active {
            return Ok(());
        }
        let token = secrets::new_token();
        let now = kernel::clock::now();
        reset::ActiveModel {
            id: Set(kernel::ids::new_id()),
            user_id: Set(user.id),
            token_hash: Set(secrets::digest(&token)),
            expires_at: Set(now + Duration::seconds(self.settings.reset_ttl_secs)),
            used_at: Set(None),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        let separator = if self.settings.reset_url.contains('?') {
            '&'
        } else {
            '?'
        };
        self.send_in_background(Mail {
            to: user.email,
            subject: "Reset your Agentry password".into(),
            body: format!(
                "Someone asked to reset your password. The link works once, for one hour:\n\n{}{separator}token={token}\n\nIf it was not you, ignore this mail.",
                self.settings.reset_url
            ),
        });
        Ok(())
    }

    /// Sets a new password with a mailed token ([`AuthError::BadResetToken`] when bad,
    /// spent or expired) and revokes every session and every other reset token of the
    /// user — all four writes in one transaction, so a failure leaves everything as it was.
    pub async fn reset_password(&self, token: &str, new_password: String) -> Result<()> {
        let now = kernel::clock::now();
        let row = reset::Entity::find()
            .filter(reset::Column::TokenHash.eq(secrets::digest(token)))
            .one(&self.db)
            .await?
            .ok_or(AuthError::BadResetToken)?;
        if row.used_at.is_some() || row.expires_at <= now {
            return Err(AuthError::BadResetToken);
        }
        if self.users.find(row.user_id).await?.is_none() {
            return Err(AuthError::BadResetToken);
        }
        // Hashed before the transaction: bcrypt's time must not hold the write lock.
        let hash = self.users.hasher().hash(new_password).await?;
        let txn = self.db.begin().await?;
        // Claim this very token first: of two concurrent resets exactly one wins.
        let claimed = reset::Entity::update_many()
            .col_expr(reset::Column::UsedAt, Expr::value(now))
            .filter(reset::Column::Id.eq(row.id))
            .filter(reset::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            return Err(AuthError::BadResetToken);
        }
        // Every other outstanding reset link of the user dies with it.
        reset::Entity::update_many()
            .col_expr(reset::Column::UsedAt, Expr::value(now))
            .filter(reset::Column::UserId.eq(row.user_id))
            .filter(reset::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if !self.users.store_password_hash(&txn, row.user_id, hash, now).await? {
            return Err(AuthError::BadResetToken);
        }
        refresh::Entity::update_many()
            .col_expr(refresh::Column::RevokedAt, Expr::value(now))
            .filter(refresh::Column::UserId.eq(row.user_id))
            .filter(refresh::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn issue_pair(&self, user_id: Uuid, family_id: Uuid) -> Result<TokenPair> {
        let access_token = self.keys.issue(user_id, self.settings.access_ttl_secs)?;
        let refresh_token = secrets::new_token();
        let now = kernel::clock::now();
        refresh::ActiveModel {
            id: Set(kernel::ids::new_id()),
            user_id: Set(user_id),
            family_id: Set(family_id),
            token_hash: Set(secrets::digest(&refresh_token)),
            expires_at: Set(now + Duration::seconds(self.settings.refresh_ttl_secs)),
            used_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(TokenPair {
            access_token,
            token_type: "bearer".into(),
            expires_in: self.settings.access_ttl_secs,
            refresh_token,
            refresh_expires_in: self.settings.refresh_ttl_secs,
        })
    }

    async fn family_revoked(&self, family_id: Uuid) -> Result<bool> {
        let revoked = refresh::Entity::find()
            .filter(refresh::Column::FamilyId.eq(family_id))
            .filter(refresh::Column::RevokedAt.is_not_null())
            .one(&self.db)
            .await?;
        Ok(revoked.is_some())
    }

    async fn revoke_family(&self, family_id: Uuid) -> Result<()> {
        refresh::Entity::update_many()
            .col_expr(refresh::Column::RevokedAt, Expr::value(kernel::clock::now()))
            .filter(refresh::Column::FamilyId.eq(family_id))
            .filter(refresh::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    fn send_in_background(&self, mail: Mail) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            let to = mail.to.clone();
            if let Err(err) = mailer.send(mail).await {
                tracing::warn!(%to, error = %err, "mail delivery failed");
            }
        });
    }
}
