//! PostgreSQL only: a trigger that announces changes to an account's standing (activity,
//! rights, deletion) on the `agentry_user_standing` channel, whoever makes them, so every
//! replica's account cache forgets the account (see `users::standing`). On SQLite, one
//! process owns the database and invalidates its own cache; nothing to do.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION agentry_notify_user_standing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agentry_user_standing', OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER users_standing_notify
    AFTER UPDATE OF is_active, is_superuser OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_user_standing();
"#;

/// Besides dropping the trigger, tells every running relay that nothing will be announced
/// any more (a payload that is not an account id), so their caches pause at once.
const DOWN: &str = r#"
DROP TRIGGER IF EXISTS users_standing_notify ON users;
DROP FUNCTION IF EXISTS agentry_notify_user_standing();
NOTIFY agentry_user_standing, 'trigger-dropped';
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::postgres_only::run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::postgres_only::run(manager, DOWN).await
    }
}
