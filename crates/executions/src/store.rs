//! The SQL of executions: claiming, appending events under a state guard, leases.
//!
//! Every event is numbered by bumping `executions.last_seq` in the same transaction that
//! inserts it, so any writer (the worker, a cancel request, the sweep of another replica)
//! gets the next number, and the update's condition doubles as the state check: an event
//! is only written while the execution is in the state the writer expects.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::Result;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{execution, execution_event};
use crate::events::{Event, ExecutionEvent, ExecutionFailed, ExecutionStarted};
use crate::status::ExecutionStatus;
use crate::writer::{Append, TurnStart, Write, Writer};

/// The PostgreSQL channel announcing stored events (payload `<execution id>:<seq>`).
pub(crate) const EVENTS_CHANNEL: &str = "agentry_execution_events";
/// The PostgreSQL channel announcing newly queued executions (payload: the id).
pub(crate) const QUEUE_CHANNEL: &str = "agentry_executions_queued";

/// Claims skip the queued runs of a conversation that has an active run, or an older
/// queued one: a conversation's runs start one at a time, in order, on every replica
/// (under `FOR UPDATE SKIP LOCKED` a sibling being claimed elsewhere still counts as queued).
const CONVERSATION_FREE: &str = "(conversation_id IS NULL OR NOT EXISTS (\
SELECT 1 FROM executions AS other WHERE other.conversation_id = executions.conversation_id \
AND (other.status IN ('running', 'requires_action') OR (other.status = 'queued' \
AND (other.created_at < executions.created_at OR (other.created_at = executions.created_at AND other.id < executions.id))))))";

/// What a run written already running brings besides its row and events: a conversation
/// that must be free of other runs, and the statements written before and after the row.
struct Start {
    guard: Option<Uuid>,
    before: Vec<Statement>,
    after: Vec<Statement>,
}

/// Column changes applied together with an event.
pub(crate) type Changes = Vec<(execution::Column, Expr)>;

/// Reads and writes of the two tables.
#[derive(Clone)]
pub(crate) struct Store {
    db: DatabaseConnection,
    writer: Arc<Writer>,
}

impl Store {
    /// A store over `db`.
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        let writer = Writer::new(db.clone());
        Self { db, writer }
    }

    /// The connection.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database is PostgreSQL (several replicas may share it).
    pub(crate) fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// Stores a queued execution and, on PostgreSQL, wakes the workers of every replica:
    /// one statement (the insert, and its notification delivered when it commits).
    pub(crate) async fn insert_queued(&self, model: &execution::Model) -> Result<()> {
        use sea_orm::QueryTrait;
        let insert = execution::Entity::insert(model.clone().into_active_model());
        if !self.is_postgres() {
            let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
            insert.exec_without_returning(&self.db).await?;
            return Ok(());
        }
        let mut insert = insert.as_query().clone();
        insert.returning_col(execution::Column::Id);
        let (insert_sql, mut values) = insert.build(sea_orm::sea_query::PostgresQueryBuilder);
        values.0.push(QUEUE_CHANNEL.into());
        let channel_param = values.0.len();
        let sql = format!("WITH x AS ({insert_sql}) SELECT pg_notify(${channel_param}, x.id::text) FROM x");
        self.db
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
            .await?;
        Ok(())
    }

    /// Stores a sub-agent's execution already running under `worker`, with its first event.
    pub(crate) async fn insert_running(&self, mut model: execution::Model) -> Result<ExecutionEvent> {
        model.last_seq = 1;
        if self.is_postgres() {
            return self.insert_running_postgres(model).await;
        }
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self.db.begin().await?;
        let written = async {
            execution::Entity::insert(model.clone().into_active_model())
                .exec_without_returning(&txn)
                .await?;
            insert_event(&txn, model.id, 1, started(&model)).await.map(Some)
        }
        .await;
        settle(txn, written)
            .await?
            .ok_or_else(|| kernel::Error::Internal(anyhow::anyhow!("no event was written")))
    }

    /// [`Store::insert_running`] on PostgreSQL in one statement (one round trip instead of
    /// five): the row, its `execution.started` and the notification.
    async fn insert_running_postgres(&self, model: execution::Model) -> Result<ExecutionEvent> {
        use sea_orm::QueryTrait;
        let event = started(&model);
        let data = event_data(&event)?;
        let mut insert = execution::Entity::insert(model.clone().into_active_model())
            .as_query()
            .clone();
        insert.returning_col(execution::Column::Id);
        let (insert_sql, mut values) = insert.build(sea_orm::sea_query::PostgresQueryBuilder);
        let created_at = model.started_at.unwrap_or_else(kernel::clock::now);
        values.0.push(data.into());
        let data_param = values.0.len();
        values.0.push(created_at.into());
        let created_param = values.0.len();
        values.0.push(format!("{}:1", model.id).into());
        let payload_param = values.0.len();
        let sql = format!(
            "WITH x AS ({insert_sql}), \
             e AS (INSERT INTO execution_events (execution_id, seq, type, data, created_at) \
             SELECT x.id, 1, 'execution.started', ${data_param}::jsonb, ${created_param} FROM x) \
             SELECT pg_notify('{EVENTS_CHANNEL}', ${payload_param}) FROM x"
        );
        self.db
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
            .await?;
        Ok(ExecutionEvent {
            seq: 1,
            execution_id: model.id,
            event,
            created_at,
        })
    }

    /// Stores a new top-level run already running under this process together with the
    /// turn it answers, in one transaction: the conversation (created or its count moved),
    /// the run, the user message, and the events `execution.started` and `message.created`.
    /// `None`, with nothing written, when the conversation has a queued or active run (see
    /// [`Store::insert_started`]).
    pub(crate) async fn insert_running_turn(
        &self,
        model: execution::Model,
        conversation: &conversations::TurnConversation,
        turn: conversations::MessageStatements,
    ) -> Result<Option<Vec<ExecutionEvent>>> {
        let events = vec![started(&model), Event::MessageCreated(turn.message)];
        let guard = match conversation {
            conversations::TurnConversation::Existing(id) => Some(*id),
            conversations::TurnConversation::New(_) => None,
        };
        let start = Start {
            guard,
            before: vec![turn.conversation],
            after: vec![turn.message_insert],
        };
        self.start_batched(model, start, events).await
    }

    /// Stores a new top-level run already running under this process, with its
    /// `execution.started`; `None`, with nothing written, when its conversation has a
    /// queued or active run (on PostgreSQL a run started by another replica meanwhile is
    /// caught by the one-active-run index).
    pub(crate) async fn insert_started(&self, model: execution::Model) -> Result<Option<Vec<ExecutionEvent>>> {
        let start = Start {
            guard: model.conversation_id,
            before: Vec::new(),
            after: Vec::new(),
        };
        let events = vec![started(&model)];
        self.start_batched(model, start, events).await
    }

    /// Writes `model` with `events` (numbered from 1) and `start`'s statements around its
    /// row, through the [`Writer`]: the runs and turns starting and the appends waiting at
    /// the same time commit together, so a thousand runs starting at once pay a few
    /// commits, not a thousand.
    async fn start_batched(
        &self,
        mut model: execution::Model,
        start: Start,
        events: Vec<Event>,
    ) -> Result<Option<Vec<ExecutionEvent>>> {
        use sea_orm::QueryTrait;
        let backend = self.db.get_database_backend();
        model.last_seq = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let (events_insert, stored) = events_statements(backend, model.id, 1, events)?;
        let mut statements = start.before;
        statements.push(execution::Entity::insert(model.into_active_model()).build(backend));
        statements.extend(start.after);
        statements.extend(events_insert);
        let start = TurnStart {
            guard: start.guard,
            // On PostgreSQL one statement (the rows, the events, their notification).
            statements: kernel::statements::independent(backend, statements),
            stored,
        };
        match self.writer.write(Write::Turn(start)).await {
            Err(kernel::Error::Conflict(_)) => Ok(None),
            other => other,
        }
    }

    /// Claims the oldest queued execution for `worker` until `lease_until`, recording its
    /// `execution.started` event. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets concurrent
    /// workers of every replica pass each other; everywhere the update re-checks `queued`.
    ///
    /// The row is picked by its own statement: inside an `UPDATE … WHERE id IN (SELECT …
    /// LIMIT 1 FOR UPDATE SKIP LOCKED)` PostgreSQL may run the sub-select more than once
    /// and so claim several rows.
    ///
    /// With `only`, claims that execution or nothing (a server starting the run it just
    /// queued, without waiting for its dispatcher).
    pub(crate) async fn claim(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
        only: Option<Uuid>,
    ) -> Result<Option<(execution::Model, Option<ExecutionEvent>)>> {
        use execution::Column as C;
        if self.is_postgres() {
            return self.claim_postgres(worker, lease_until, only).await;
        }
        // It reads, then writes: on SQLite a deferred transaction whose snapshot went stale
        // meanwhile fails at once with SQLITE_BUSY_SNAPSHOT (no busy timeout applies), so under
        // write load most claims failed and runs waited for the next poll. An immediate
        // transaction takes the write lock first, waiting its turn. (PostgreSQL: a plain BEGIN.)
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        let claimed = async {
            let pick = execution::Entity::find()
                .select_only()
                .column(C::Id)
                .column(C::StartedAt)
                .filter(status_is(ExecutionStatus::Queued))
                .filter(Expr::cust(CONVERSATION_FREE));
            // One run by its primary key, or the oldest in the queue's order.
            let pick = match only {
                Some(id) => pick.filter(C::Id.eq(id)),
                None => pick.order_by_asc(C::CreatedAt).order_by_asc(C::Id).limit(1),
            };
            let oldest: Option<(Uuid, Option<DateTime<Utc>>)> = pick
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_tuple()
                .one(&txn)
                .await?;
            let Some((id, started_at)) = oldest else {
                return Ok(None);
            };
            // A run queued again after a pause (it has started before) goes on where it
            // stopped: no second `execution.started`.
            let resumed = started_at.is_some();
            let mut update = execution::Entity::update_many()
                .col_expr(C::Status, Expr::value(ExecutionStatus::Running))
                .col_expr(C::WorkerId, Expr::value(worker))
                .col_expr(C::LeaseExpiresAt, Expr::value(lease_until));
            if !resumed {
                update = update
                    .col_expr(C::StartedAt, Expr::value(kernel::clock::now()))
                    .col_expr(C::LastSeq, Expr::col(C::LastSeq).add(1));
            }
            let claimed = update
                .filter(C::Id.eq(id))
                .filter(C::Status.eq(ExecutionStatus::Queued))
                .exec_with_returning(&txn)
                .await?;
            // Empty when another process took it between the two statements (SQLite).
            let Some(model) = claimed.into_iter().next() else {
                return Ok(None);
            };
            if resumed {
                return Ok(Some((model, None)));
            }
            let event = insert_event(&txn, model.id, model.last_seq, started(&model)).await?;
            Ok(Some((model, Some(event))))
        }
        .await;
        match settle(txn, claimed).await {
            // The database's one-active-run index refused it: another run of the
            // conversation started meanwhile; it is claimed after that one ends.
            Err(kernel::Error::Conflict(_)) => Ok(None),
            other => other,
        }
    }

    /// [`Store::claim`] on PostgreSQL in one statement (one round trip instead of six): the
    /// pick (`FOR UPDATE SKIP LOCKED`, materialized so that it runs once), the update, the
    /// `execution.started` event of a first start and its notification.
    async fn claim_postgres(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
        only: Option<Uuid>,
    ) -> Result<Option<(execution::Model, Option<ExecutionEvent>)>> {
        use sea_orm::FromQueryResult;
        // One run by its primary key, or the oldest in the queue's order. (With the id as a
        // filter beside the queue's order, the plan walked the queue index: every claim of
        // a thousand queued runs read hundreds of rows.)
        let pick = if only.is_some() {
            "id = $4 AND status = 'queued'"
        } else {
            "status = 'queued'"
        };
        let order = if only.is_some() {
            ""
        } else {
            "ORDER BY created_at, id LIMIT 1"
        };
        let sql = format!(
            "WITH pick AS MATERIALIZED (SELECT id, started_at FROM executions \
             WHERE {pick} AND {CONVERSATION_FREE} {order} FOR UPDATE SKIP LOCKED), \
             c AS (UPDATE executions SET status = 'running', worker_id = $1, lease_expires_at = $2, \
             started_at = COALESCE(executions.started_at, $3), \
             last_seq = executions.last_seq + CASE WHEN pick.started_at IS NULL THEN 1 ELSE 0 END \
             FROM pick WHERE executions.id = pick.id AND executions.status = 'queued' \
             RETURNING executions.*, pick.started_at IS NULL AS fresh), \
             e AS (INSERT INTO execution_events (execution_id, seq, type, data, created_at) \
             SELECT c.id, c.last_seq, 'execution.started', \
             jsonb_build_object('agent_id', c.agent_id, 'depth', c.depth), $3 FROM c WHERE c.fresh) \
             SELECT c.*, CASE WHEN c.fresh THEN pg_notify('{EVENTS_CHANNEL}', c.id::text || ':' || c.last_seq::text) END \
             AS announced FROM c"
        );
        let mut connection = self
            .db
            .get_postgres_connection_pool()
            .acquire()
            .await
            .map_err(|err| kernel::Error::from(kernel::lane::query_err(err)))?;
        // The start time is read once a connection is held: read before, it aged by the
        // wait for one (under load, a run claimed after another ended showed a start before
        // that end, even before its own creation).
        let now = kernel::clock::now();
        // Every part of `sql` is a constant of this module; the values are bound.
        let mut query = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until)
            .bind(now);
        if let Some(id) = only {
            query = query.bind(id);
        }
        let row = match query
            .fetch_optional(&mut *connection)
            .await
            .map_err(|err| kernel::Error::from(kernel::lane::query_err(err)))
        {
            Ok(Some(row)) => sea_orm::QueryResult::from(row),
            Ok(None) => return Ok(None),
            // The one-active-run index refused it: claimed after the conversation's run ends.
            Err(kernel::Error::Conflict(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        let model = execution::Model::from_query_result(&row, "")?;
        let fresh: bool = row.try_get("", "fresh")?;
        if !fresh {
            return Ok(Some((model, None)));
        }
        let event = ExecutionEvent {
            seq: model.last_seq,
            execution_id: model.id,
            event: started(&model),
            created_at: now,
        };
        Ok(Some((model, Some(event))))
    }

    /// The oldest active run (`queued`, `running`, `requires_action`) of a conversation.
    pub(crate) async fn active_runs(&self, conversation_id: Uuid) -> Result<Vec<Uuid>> {
        active_runs_in(&self.db, conversation_id).await
    }

    /// Appends an event to execution `id` if it meets `condition`, applying `changes` in
    /// the same statement; `None` (nothing written) when it does not.
    pub(crate) async fn append(
        &self,
        id: Uuid,
        condition: Condition,
        changes: Changes,
        event: Event,
    ) -> Result<Option<ExecutionEvent>> {
        Ok(self
            .append_all(id, condition, changes, vec![event])
            .await?
            .and_then(|mut events| events.pop()))
    }

    /// Appends `events` (numbered consecutively, in order) to execution `id` if it meets
    /// `condition`, with one numbering update; `None` when it does not. A run batches the
    /// deltas that arrive while its previous write is in flight, and the [`Writer`] commits
    /// the appends of every run of this process that wait at the same time together.
    pub(crate) async fn append_all(
        &self,
        id: Uuid,
        condition: Condition,
        changes: Changes,
        events: Vec<Event>,
    ) -> Result<Option<Vec<ExecutionEvent>>> {
        self.append_after(Vec::new(), id, condition, changes, events).await
    }

    /// [`Store::append_all`] after `before` in the same transaction (written whether
    /// `condition` holds or not): a run's answer stored with its end.
    pub(crate) async fn append_after(
        &self,
        before: Vec<Statement>,
        id: Uuid,
        condition: Condition,
        changes: Changes,
        events: Vec<Event>,
    ) -> Result<Option<Vec<ExecutionEvent>>> {
        if events.is_empty() && before.is_empty() {
            return Ok(Some(Vec::new()));
        }
        self.writer
            .write(Write::Append(Append {
                id,
                condition,
                changes,
                events,
                before,
            }))
            .await
    }

    /// The execution with this id.
    pub(crate) async fn find(&self, id: Uuid) -> Result<Option<execution::Model>> {
        Ok(execution::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Up to `limit` events of execution `id` with `seq > after`, oldest first.
    pub(crate) async fn events_after(&self, id: Uuid, after: i64, limit: u64) -> Result<Vec<ExecutionEvent>> {
        let rows = execution_event::Entity::find()
            .filter(execution_event::Column::ExecutionId.eq(id))
            .filter(execution_event::Column::Seq.gt(after))
            .order_by_asc(execution_event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(ExecutionEvent::try_from).collect()
    }

    /// Extends the lease of those of `ids` that `worker` still runs; the number renewed.
    /// Only live runs are renewed: one whose task ended without recording its end expires.
    pub(crate) async fn heartbeat(&self, worker: &str, ids: &[Uuid], until: DateTime<Utc>) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let renewed = execution::Entity::update_many()
            .col_expr(execution::Column::LeaseExpiresAt, Expr::value(until))
            .filter(execution::Column::Id.is_in(ids.iter().copied()))
            .filter(execution::Column::WorkerId.eq(worker))
            .filter(execution::Column::Status.eq(ExecutionStatus::Running))
            .exec(&self.db)
            .await?;
        Ok(renewed.rows_affected)
    }

    /// Those of `ids` that are no longer running (cancelled or failed by someone else).
    pub(crate) async fn not_running(&self, ids: &[Uuid]) -> Result<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(execution::Entity::find()
            .select_only()
            .column(execution::Column::Id)
            .filter(execution::Column::Id.is_in(ids.iter().copied()))
            .filter(execution::Column::Status.ne(ExecutionStatus::Running))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?)
    }

    /// Queues the owner's `requires_action` execution `id` again with its answered
    /// `paused_turn`, recording `execution.input_received`, in one guarded statement (the
    /// answers are applied once: a second submission finds it no longer waiting, `None`).
    /// On PostgreSQL the workers of every replica are woken.
    pub(crate) async fn requeue(
        &self,
        owner_id: Uuid,
        id: Uuid,
        paused_turn: serde_json::Value,
        event: Event,
    ) -> Result<Option<ExecutionEvent>> {
        use execution::Column as C;
        let waiting = Condition::all()
            .add(C::OwnerId.eq(owner_id))
            .add(C::Status.eq(ExecutionStatus::RequiresAction));
        let changes = vec![
            (C::Status, Expr::value(ExecutionStatus::Queued)),
            (C::RequiredAction, Expr::value(Option::<serde_json::Value>::None)),
            (C::ActionExpiresAt, Expr::value(Option::<DateTime<Utc>>::None)),
            (C::PausedTurn, Expr::value(paused_turn)),
        ];
        let Some(event) = self.append(id, waiting, changes, event).await? else {
            return Ok(None);
        };
        notify(&self.db, QUEUE_CHANNEL, id.to_string()).await?;
        Ok(Some(event))
    }

    /// Ends `expired` every `requires_action` execution whose wait ended before `now`,
    /// each with its `execution.expired` event; returns the rows (as updated) and events.
    pub(crate) async fn expire_waiting(&self, now: DateTime<Utc>) -> Result<Vec<(execution::Model, ExecutionEvent)>> {
        use execution::Column as C;
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self.db.begin().await?;
        let written = async {
            let expired = execution::Entity::update_many()
                .col_expr(C::Status, Expr::value(ExecutionStatus::Expired))
                .col_expr(C::RequiredAction, Expr::value(Option::<serde_json::Value>::None))
                .col_expr(C::CompletedAt, Expr::value(now))
                .col_expr(C::LastSeq, Expr::col(C::LastSeq).add(1))
                .filter(C::Status.eq(ExecutionStatus::RequiresAction))
                .filter(C::ActionExpiresAt.lt(now))
                .exec_with_returning(&txn)
                .await?;
            let mut ended = Vec::with_capacity(expired.len());
            for model in expired {
                let event = Event::ExecutionExpired(crate::events::ExecutionExpired {});
                let event = insert_event(&txn, model.id, model.last_seq, event).await?;
                ended.push((model, event));
            }
            Ok(Some(ended))
        }
        .await;
        Ok(settle(txn, written).await?.unwrap_or_default())
    }

    /// Fails, with error `reason`, every running execution matching `which`, each with its
    /// `execution.failed` event; returns those events.
    pub(crate) async fn fail_running(&self, which: Condition, reason: &str) -> Result<Vec<ExecutionEvent>> {
        use execution::Column as C;
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self.db.begin().await?;
        let written = async {
            let failed = execution::Entity::update_many()
                .col_expr(C::Status, Expr::value(ExecutionStatus::Failed))
                .col_expr(C::Error, Expr::value(reason))
                .col_expr(C::CompletedAt, Expr::value(kernel::clock::now()))
                .col_expr(C::LastSeq, Expr::col(C::LastSeq).add(1))
                .filter(status_is(ExecutionStatus::Running))
                .filter(which)
                .exec_with_returning(&txn)
                .await?;
            let mut events = Vec::with_capacity(failed.len());
            for model in failed {
                let failed = Event::ExecutionFailed(ExecutionFailed {
                    error: reason.to_owned(),
                    code: (reason == crate::runner::INTERRUPTED).then_some(crate::events::FailureCode::Interrupted),
                });
                events.push(insert_event(&txn, model.id, model.last_seq, failed).await?);
            }
            Ok(Some(events))
        }
        .await;
        Ok(settle(txn, written).await?.unwrap_or_default())
    }
}

/// Writes `append` inside `txn`: the guarded numbering update, then its events, announced
/// on PostgreSQL. `None` (nothing written) when the execution does not meet the condition.
pub(crate) async fn append_in(txn: &DatabaseTransaction, append: Append) -> Result<Option<Vec<ExecutionEvent>>> {
    use execution::Column as C;
    let Append {
        id,
        condition,
        changes,
        events,
        before,
    } = append;
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let mut update = Query::update();
    update
        .table(execution::Entity)
        .value(C::LastSeq, Expr::col(C::LastSeq).add(count));
    for (column, value) in changes {
        update.value(column, value);
    }
    update
        .cond_where(Condition::all().add(C::Id.eq(id)).add(condition))
        .returning_col(C::LastSeq);
    if txn.get_database_backend() == DbBackend::Postgres {
        let backend = txn.get_database_backend();
        kernel::statements::execute_all(txn, kernel::statements::independent(backend, before)).await?;
        return append_postgres(txn, id, &update, events).await;
    }
    append_sqlite(txn, before, id, update, events).await
}

/// [`append_in`] on SQLite in one hand-off to the connection's thread: the guarded update
/// returning the new `last_seq`, then each event inserted only if the statement before it
/// wrote its row (`changes()`: the update, then the previous event), numbered back from
/// the row's `last_seq`. Its few shapes (the changed columns, the number of events) stay
/// in the connection's statement cache.
async fn append_sqlite(
    txn: &DatabaseTransaction,
    mut statements: Vec<Statement>,
    id: Uuid,
    update: sea_orm::sea_query::UpdateStatement,
    events: Vec<Event>,
) -> Result<Option<Vec<ExecutionEvent>>> {
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let (sql, values) = update.build(sea_orm::sea_query::SqliteQueryBuilder);
    statements.push(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values));
    let created_at = kernel::clock::now();
    let mut stored = Vec::with_capacity(events.len());
    for (offset, event) in (0..count).zip(events) {
        statements.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO execution_events (execution_id, seq, type, data, created_at) \
             SELECT id, last_seq - ?, ?, ?, ? FROM executions WHERE id = ? AND changes() = 1",
            [
                (count - 1 - offset).into(),
                event.tag().into(),
                event_data(&event)?.into(),
                created_at.into(),
                id.into(),
            ],
        ));
        stored.push((offset, event));
    }
    let rows = kernel::statements::query_all(txn, statements).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let last: i64 = row.try_get("", "last_seq")?;
    Ok(Some(
        stored
            .into_iter()
            .map(|(offset, event)| ExecutionEvent {
                seq: last - count + 1 + offset,
                execution_id: id,
                event,
                created_at,
            })
            .collect(),
    ))
}

/// [`append_in`] on PostgreSQL in one statement (one round trip instead of three): the
/// update in a `WITH`, the events inserted from its `last_seq`, and the notification.
async fn append_postgres(
    txn: &DatabaseTransaction,
    id: Uuid,
    update: &sea_orm::sea_query::UpdateStatement,
    events: Vec<Event>,
) -> Result<Option<Vec<ExecutionEvent>>> {
    use std::fmt::Write as _;
    let (update_sql, mut values) = update.build(sea_orm::sea_query::PostgresQueryBuilder);
    let count = events.len();
    let created_at = kernel::clock::now();
    let mut rows = String::new();
    let mut stored = Vec::with_capacity(count);
    for (offset, event) in events.into_iter().enumerate() {
        let data = event_data(&event)?;
        values.0.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
        values.0.push(event.tag().to_owned().into());
        values.0.push(data.into());
        let n = values.0.len();
        let _ = write!(
            rows,
            "{}(${}::bigint, ${}::text, ${}::jsonb)",
            if offset == 0 { "" } else { ", " },
            n - 2,
            n - 1,
            n
        );
        stored.push((event, created_at));
    }
    values.0.push(id.into());
    let id_param = values.0.len();
    values.0.push(created_at.into());
    let created_param = values.0.len();
    values.0.push(format!("{id}:").into());
    let prefix_param = values.0.len();
    let span = count - 1;
    let payload = if span == 0 {
        format!("${prefix_param} || u.last_seq::text")
    } else {
        format!("${prefix_param} || (u.last_seq - {span})::text || '-' || u.last_seq::text")
    };
    let sql = format!(
        "WITH u AS ({update_sql}), \
         e AS (INSERT INTO execution_events (execution_id, seq, type, data, created_at) \
         SELECT ${id_param}, u.last_seq - {span} + v.o, v.t, v.d, ${created_param} FROM u, (VALUES {rows}) AS v(o, t, d)) \
         SELECT u.last_seq, pg_notify('{EVENTS_CHANNEL}', {payload}) FROM u"
    );
    let Some(row) = txn
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .await?
    else {
        return Ok(None);
    };
    let last: i64 = row.try_get("", "last_seq")?;
    let first = last - i64::try_from(span).unwrap_or(0);
    Ok(Some(
        (first..)
            .zip(stored)
            .map(|(seq, (event, created_at))| ExecutionEvent {
                seq,
                execution_id: id,
                event,
                created_at,
            })
            .collect(),
    ))
}

/// Ends a transaction explicitly: commits what wrote something, rolls back the rest, so
/// its row locks go at once instead of when the pool cleans the dropped connection up.
async fn settle<T>(txn: DatabaseTransaction, outcome: Result<Option<T>>) -> Result<Option<T>> {
    match outcome {
        Ok(Some(value)) => {
            txn.commit().await?;
            Ok(Some(value))
        }
        Ok(None) => {
            txn.rollback().await?;
            Ok(None)
        }
        Err(err) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "cannot roll back a failed transaction");
            }
            Err(err)
        }
    }
}

/// The `execution.started` event of `model`.
fn started(model: &execution::Model) -> Event {
    Event::ExecutionStarted(ExecutionStarted {
        agent_id: model.agent_id,
        depth: u32::try_from(model.depth).unwrap_or(0),
    })
}

/// Inserts event `seq` and, on PostgreSQL, announces it (delivered when the transaction commits).
async fn insert_event(
    txn: &impl ConnectionTrait,
    execution_id: Uuid,
    seq: i64,
    event: Event,
) -> Result<ExecutionEvent> {
    let mut events = insert_events(txn, execution_id, seq, vec![event]).await?;
    events
        .pop()
        .ok_or_else(|| kernel::Error::Internal(anyhow::anyhow!("no event was written")))
}

/// Inserts `events` as `first`, `first + 1`, … in one statement and, on PostgreSQL,
/// announces them with one notification (`<id>:<first>-<last>`, or `<id>:<seq>` for one).
async fn insert_events(
    txn: &impl ConnectionTrait,
    execution_id: Uuid,
    first: i64,
    events: Vec<Event>,
) -> Result<Vec<ExecutionEvent>> {
    let (statements, stored) = events_statements(txn.get_database_backend(), execution_id, first, events)?;
    kernel::statements::execute_all(txn, statements).await?;
    Ok(stored)
}

/// The statements of [`insert_events`] (the insert, and on PostgreSQL the notification),
/// with the events as they are stored.
fn events_statements(
    backend: DbBackend,
    execution_id: Uuid,
    first: i64,
    events: Vec<Event>,
) -> Result<(Vec<Statement>, Vec<ExecutionEvent>)> {
    use sea_orm::QueryTrait;
    let created_at = kernel::clock::now();
    let mut rows = Vec::with_capacity(events.len());
    let mut stored = Vec::with_capacity(events.len());
    for (seq, event) in (first..).zip(events) {
        let data = event_data(&event)?;
        rows.push(
            execution_event::Model {
                execution_id,
                seq,
                event_type: event.tag().to_owned(),
                data,
                created_at,
            }
            .into_active_model(),
        );
        stored.push(ExecutionEvent {
            seq,
            execution_id,
            event,
            created_at,
        });
    }
    let last = first + i64::try_from(stored.len()).unwrap_or(1) - 1;
    let mut statements = vec![execution_event::Entity::insert_many(rows).build(backend)];
    if backend == DbBackend::Postgres {
        let payload = if last == first {
            format!("{execution_id}:{first}")
        } else {
            format!("{execution_id}:{first}-{last}")
        };
        statements.push(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [EVENTS_CHANNEL.into(), payload.into()],
        ));
    }
    Ok((statements, stored))
}

/// [`Store::active_runs`] on `db`.
pub(crate) async fn active_runs_in(db: &impl ConnectionTrait, conversation_id: Uuid) -> Result<Vec<Uuid>> {
    use execution::Column as C;
    Ok(execution::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(C::ConversationId.eq(conversation_id))
        .filter(C::Status.is_in(ExecutionStatus::ACTIVE))
        .order_by_asc(C::CreatedAt)
        .order_by_asc(C::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The `data` column of `event`.
fn event_data(event: &Event) -> Result<serde_json::Value> {
    event
        .content_value()
        .map_err(|err| kernel::Error::Internal(anyhow::anyhow!("cannot serialize an execution event: {err}")))
}

/// `pg_notify(channel, payload)` on PostgreSQL; nothing elsewhere.
async fn notify(txn: &impl ConnectionTrait, channel: &str, payload: String) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// `status = '<status>'` written into the statement rather than bound: the partial indexes
/// of the queue (`ix_executions_queued`) and of running leases (`ix_executions_running_lease`)
/// are usable only when the planner sees the value, and SQLite plans without looking at
/// bound values (`api_server::db`), as PostgreSQL's generic plans do.
fn status_is(status: ExecutionStatus) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::ActiveEnum;
    Expr::cust(format!("executions.status = '{}'", status.to_value()))
}
