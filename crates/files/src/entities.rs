//! The `files` table.

/// A stored file's row: its metadata and where its bytes are in the object store.
pub mod file {
    use sea_orm::entity::prelude::*;

    /// A stored file; never serialized to the wire (see `schemas::File`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "files")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the file (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// The client's file name, cleaned of any path (at most 255 characters).
        pub filename: String,
        /// The media type detected from the content.
        pub content_type: String,
        /// Size in bytes.
        pub bytes: i64,
        /// SHA-256 of the content, 64 lowercase hex digits.
        pub sha256: String,
        /// `attachment` or `avatar`.
        pub purpose: String,
        /// The object's key in the file store.
        pub object_key: String,
        /// Upload time.
        pub created_at: DateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
