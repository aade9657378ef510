//! Refresh tokens, password-reset tokens and API keys; each holds only the SHA-256 of its secret.

/// A refresh token of a token family (one login session).
pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    /// A stored refresh token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user the token logs in.
        pub user_id: Uuid,
        /// Every token rotated from one login shares the family id.
        pub family_id: Uuid,
        /// Hex SHA-256 of the token.
        pub token_hash: String,
        /// Expiry.
        pub expires_at: DateTimeUtc,
        /// Set when the token was exchanged; presenting it again is reuse.
        pub used_at: Option<DateTimeUtc>,
        /// Set when its family was revoked.
        pub revoked_at: Option<DateTimeUtc>,
        /// Issue time.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A single-use password-reset token.
pub mod password_reset_token {
    use sea_orm::entity::prelude::*;

    /// A stored reset token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "password_reset_tokens")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user whose password it resets.
        pub user_id: Uuid,
        /// Hex SHA-256 of the token.
        pub token_hash: String,
        /// Expiry (one hour after issue).
        pub expires_at: DateTimeUtc,
        /// Set once used.
        pub used_at: Option<DateTimeUtc>,
        /// Issue time.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user's long-lived API key.
pub mod api_key {
    use sea_orm::entity::prelude::*;

    /// A stored API key; never serialized to the wire (see `schemas::ApiKey`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user the key acts for.
        pub user_id: Uuid,
        /// The owner's label for the key.
        pub name: String,
        /// The key's first 12 characters, to recognise it by.
        pub prefix: String,
        /// Hex SHA-256 of the whole key.
        pub key_hash: String,
        /// When the key stops working, if ever.
        pub expires_at: Option<DateTimeUtc>,
        /// Last time the key authenticated a request (written at most once a minute).
        pub last_used_at: Option<DateTimeUtc>,
        /// Creation time.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
