//! Avatars: a user's avatar is one of their files (`files.id`); deleting the file clears it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Avatar {
    AvatarFileId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A column-level reference: SQLite can add it with ALTER TABLE (a table-level
        // foreign key it cannot).
        let mut column = uuid_null(Avatar::AvatarFileId);
        column.extra("REFERENCES files (id) ON DELETE SET NULL");
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Avatar::AvatarFileId)
                    .to_owned(),
            )
            .await
    }
}
