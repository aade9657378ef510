//! Users: the accounts everything else is owned by.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Email,
    Username,
    FullName,
    PasswordHash,
    IsActive,
    IsSuperuser,
    SessionsRevokedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Email, 320))
                    .col(string_len(Users::Username, 50))
                    .col(string_len_null(Users::FullName, 200))
                    .col(string_len(Users::PasswordHash, 100))
                    .col(boolean(Users::IsActive))
                    .col(boolean(Users::IsSuperuser))
                    .col(timestamp_with_time_zone_null(Users::SessionsRevokedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Usernames are unique regardless of case; both databases accept an expression index.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_users_username_lower ON users (lower(username))")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_created_at_id")
                    .table(Users::Table)
                    .col(Users::CreatedAt)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}
