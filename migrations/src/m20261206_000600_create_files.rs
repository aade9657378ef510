//! Files: users' uploads. The row holds the metadata (detected type, size, SHA-256, purpose)
//! and the key of the content in the file store (`FILE_STORE_URL`), never the bytes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    OwnerId,
    Filename,
    ContentType,
    Bytes,
    Sha256,
    Purpose,
    ObjectKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(pk_uuid(Files::Id))
                    .col(uuid(Files::OwnerId))
                    .col(string_len(Files::Filename, 1024))
                    .col(string_len(Files::ContentType, 128))
                    .col(big_integer(Files::Bytes))
                    .col(string_len(Files::Sha256, 64))
                    .col(string_len(Files::Purpose, 16))
                    .col(string_len(Files::ObjectKey, 512))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_owner")
                            .from(Files::Table, Files::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The owner's list, newest first (and the sum of their bytes for the quota).
        manager
            .create_index(
                Index::create()
                    .name("ix_files_owner_created")
                    .table(Files::Table)
                    .col(Files::OwnerId)
                    .col(Files::CreatedAt)
                    .col(Files::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Files::Table).to_owned()).await
    }
}
