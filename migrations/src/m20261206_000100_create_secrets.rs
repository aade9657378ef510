//! Secrets: a user's named values for tools (`{{secret:NAME}}`), each encrypted at rest with
//! AES-256-GCM under `SECRETS_KEY`: the row holds the random nonce and the ciphertext (with
//! its tag), never the value. One secret per owner and name, so a write is an upsert.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Secrets {
    Table,
    Id,
    OwnerId,
    Name,
    Nonce,
    Ciphertext,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Secrets::Table)
                    .col(pk_uuid(Secrets::Id))
                    .col(uuid(Secrets::OwnerId))
                    .col(string_len(Secrets::Name, 64))
                    .col(blob(Secrets::Nonce))
                    .col(blob(Secrets::Ciphertext))
                    .col(timestamp_with_time_zone(Secrets::CreatedAt))
                    .col(timestamp_with_time_zone(Secrets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_secrets_owner")
                            .from(Secrets::Table, Secrets::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The upsert's conflict target, and the caller's list by name.
        manager
            .create_index(
                Index::create()
                    .name("ux_secrets_owner_name")
                    .table(Secrets::Table)
                    .col(Secrets::OwnerId)
                    .col(Secrets::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Secrets::Table).to_owned()).await
    }
}
