//! PostgreSQL only: triggers that announce changes to an owner's agents (updates, soft and
//! hard deletions) and to their links (tools, sub-agents, MCP servers) as
//! `followers:<owner id>` on the `agentry_user_standing`
//! channel, whoever makes them, so every replica forgets what the owner's model names
//! resolved to (see `agents::cache`). On SQLite, one process owns the database and the
//! agents service tells its own cache; nothing to do.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A link row names its agent; the agent's owner is announced (nothing when the agent is
/// gone with it: its own trigger announced the owner). A new agent is not announced: a
/// `NOTIFY` serializes the commits that send one, and announcing every insert halved the
/// rate of `POST /agents` (7,255 → 3,890 req/s, `just bench`); what an insert can change
/// (a cached name shared by the new agent) is left to the cache's time to live on the other
/// replicas, the replica that created it forgets at once.
const UP: &str = r#"
CREATE FUNCTION agentry_notify_agent_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('agentry_user_standing', 'followers:' || OLD.owner_id::text);
    ELSE
        PERFORM pg_notify('agentry_user_standing', 'followers:' || NEW.owner_id::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION agentry_notify_agent_link_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT owner_id INTO owner FROM agents WHERE id = OLD.agent_id;
    ELSE
        SELECT owner_id INTO owner FROM agents WHERE id = NEW.agent_id;
    END IF;
    IF owner IS NOT NULL THEN
        PERFORM pg_notify('agentry_user_standing', 'followers:' || owner::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER agents_models_notify
    AFTER UPDATE OR DELETE ON agents
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_agent_owner();
CREATE TRIGGER agent_tools_models_notify
    AFTER INSERT OR UPDATE OR DELETE ON agent_tools
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_agent_link_owner();
CREATE TRIGGER agent_subagents_models_notify
    AFTER INSERT OR UPDATE OR DELETE ON agent_subagents
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_agent_link_owner();
CREATE TRIGGER agent_mcp_servers_models_notify
    AFTER INSERT OR UPDATE OR DELETE ON agent_mcp_servers
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_agent_link_owner();
"#;

/// Besides dropping the triggers, tells every running relay that changes may go
/// unannounced (a payload that is no id), so the caches pause at once.
const DOWN: &str = r#"
DROP TRIGGER IF EXISTS agent_mcp_servers_models_notify ON agent_mcp_servers;
DROP TRIGGER IF EXISTS agent_subagents_models_notify ON agent_subagents;
DROP TRIGGER IF EXISTS agent_tools_models_notify ON agent_tools;
DROP TRIGGER IF EXISTS agents_models_notify ON agents;
DROP FUNCTION IF EXISTS agentry_notify_agent_link_owner();
DROP FUNCTION IF EXISTS agentry_notify_agent_owner();
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
