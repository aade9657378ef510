//! The `secrets` table.

/// A secret row: one encrypted value per owner and name.
pub mod secret {
    use sea_orm::entity::prelude::*;

    /// A stored secret; never serialized to the wire (see `schemas::SecretInfo`), and its
    /// value is only here encrypted.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "secrets")]
    pub struct Model {
        /// UUID v7 of the first write; a replacement keeps it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the secret (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// `^[A-Za-z0-9_]{1,64}$`, unique per owner.
        pub name: String,
        /// The 96-bit AES-GCM nonce of the last write.
        #[sea_orm(column_type = "Blob")]
        pub nonce: Vec<u8>,
        /// The value encrypted under `SECRETS_KEY`, followed by the 16-byte tag.
        #[sea_orm(column_type = "Blob")]
        pub ciphertext: Vec<u8>,
        /// First write.
        pub created_at: DateTimeUtc,
        /// Last write.
        pub updated_at: DateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
