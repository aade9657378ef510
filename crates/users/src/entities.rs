//! The `users` table.

/// A user account row.
pub mod user {
    use sea_orm::entity::prelude::*;

    /// A stored user; never serialized to the wire (see `schemas::User`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Lower-cased email address, unique.
        pub email: String,
        /// Username as typed; unique regardless of case.
        pub username: String,
        /// Optional display name.
        pub full_name: Option<String>,
        /// bcrypt hash of the password.
        pub password_hash: String,
        /// Inactive users cannot log in and their tokens stop working.
        pub is_active: bool,
        /// Superusers may administer users.
        pub is_superuser: bool,
        /// The file shown as the user's avatar (`files.id`, cleared when the file is deleted).
        pub avatar_file_id: Option<Uuid>,
        /// Refresh tokens issued before this instant are revoked.
        pub sessions_revoked_at: Option<DateTimeUtc>,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last update time.
        pub updated_at: DateTimeUtc,
    }

    /// Users relate to no other table from this crate's point of view.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
