//! Event appends on PostgreSQL, several in one statement.
//!
//! Each append is a guarded `last_seq` update, the insert of its events numbered from the
//! updated `last_seq`, and a notification. One append is one statement (a `WITH` holding
//! the three); a group of appends of distinct executions is one statement too, each
//! append a pair of `WITH` parts and a row of the result (`k`, its place in the group, and
//! the new `last_seq`), so a batch of the event writer costs one round trip, one parse and
//! one executor start instead of one per append. All parts of a statement see one
//! snapshot, so an execution appears at most once in a group (a second update of the same
//! row in one statement would not see the first).

use std::fmt::Write as _;

use kernel::Result;
use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder, SqlWriter, UpdateStatement, Value, Values};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::events::{Event, ExecutionEvent};
use crate::store::{EVENTS_CHANNEL, event_data};

/// At most this many bound values in one statement (PostgreSQL takes 65,535).
pub(crate) const VALUES_MAX: usize = 30_000;

/// One append of a group: the guarded update of execution `id` (returning `last_seq`,
/// already moved by the number of events) and the events.
pub(crate) struct PgAppend {
    pub(crate) id: Uuid,
    pub(crate) update: UpdateStatement,
    pub(crate) events: Vec<Event>,
}

/// Writes `appends`, each of a different execution, in one statement on `db`; each one's
/// stored events, or `None` where its update's condition did not hold.
pub(crate) async fn append_group(
    db: &impl ConnectionTrait,
    appends: Vec<PgAppend>,
) -> Result<Vec<Option<Vec<ExecutionEvent>>>> {
    if appends.is_empty() {
        return Ok(Vec::new());
    }
    let created_at = kernel::clock::now();
    let mut sql = Numbered::default();
    let mut select = String::new();
    let mut pending = Vec::with_capacity(appends.len());
    sql.push_str("WITH ");
    for (k, append) in appends.into_iter().enumerate() {
        let PgAppend { id, update, events } = append;
        let span = events.len().saturating_sub(1);
        if k > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql.sql, "u{k} AS (");
        update.build_collect_any_into(&PostgresQueryBuilder, &mut sql);
        sql.push_str(")");
        if !events.is_empty() {
            let id_param = sql.param(id.into());
            let created_param = sql.param(created_at.into());
            let _ = write!(
                sql.sql,
                ", e{k} AS (INSERT INTO execution_events (execution_id, seq, type, data, created_at) \
                 SELECT {id_param}, u{k}.last_seq - {span} + v.o, v.t, v.d, {created_param} FROM u{k}, (VALUES "
            );
            for (offset, event) in events.iter().enumerate() {
                let o = sql.param(i64::try_from(offset).unwrap_or(i64::MAX).into());
                let t = sql.param(event.tag().to_owned().into());
                let d = sql.param(event_data(event)?.into());
                let _ = write!(
                    sql.sql,
                    "{}({o}::bigint, {t}::text, {d}::jsonb)",
                    if offset == 0 { "" } else { ", " }
                );
            }
            sql.push_str(") AS v(o, t, d))");
        }
        let prefix = sql.param(format!("{id}:").into());
        let payload = if span == 0 {
            format!("{prefix} || u{k}.last_seq::text")
        } else {
            format!("{prefix} || (u{k}.last_seq - {span})::text || '-' || u{k}.last_seq::text")
        };
        let _ = write!(
            select,
            "{}SELECT {k} AS k, u{k}.last_seq, pg_notify('{EVENTS_CHANNEL}', {payload}) FROM u{k}",
            if k == 0 { " " } else { " UNION ALL " }
        );
        pending.push((id, span, events));
    }
    sql.push_str(&select);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql.sql,
            Values(sql.values),
        ))
        .await?;
    let mut last_seqs: Vec<Option<i64>> = vec![None; pending.len()];
    for row in rows {
        let k: i32 = row.try_get("", "k")?;
        let last: i64 = row.try_get("", "last_seq")?;
        if let Some(slot) = usize::try_from(k).ok().and_then(|k| last_seqs.get_mut(k)) {
            *slot = Some(last);
        }
    }
    Ok(pending
        .into_iter()
        .zip(last_seqs)
        .map(|((id, span, events), last)| {
            let first = last? - i64::try_from(span).unwrap_or(0);
            Some(
                (first..)
                    .zip(events)
                    .map(|(seq, event)| ExecutionEvent {
                        seq,
                        execution_id: id,
                        event,
                        created_at,
                    })
                    .collect(),
            )
        })
        .collect())
}

/// Statement text with its values, numbered `$1`, `$2`, … across every part written into
/// it (sea-query's own writer starts each statement at `$1`).
#[derive(Default)]
struct Numbered {
    sql: String,
    values: Vec<Value>,
}

impl Numbered {
    fn push_str(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Binds `value`; its placeholder.
    fn param(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }
}

impl std::fmt::Write for Numbered {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.sql.push_str(s);
        Ok(())
    }
}

impl std::fmt::Display for Numbered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)
    }
}

impl SqlWriter for Numbered {
    fn push_param<T: QueryBuilder>(&mut self, value: Value, _: &T) {
        self.values.push(value);
        let _ = write!(self.sql, "${}", self.values.len());
    }

    fn as_writer(&mut self) -> &mut dyn std::fmt::Write {
        self as _
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    use super::*;

    #[test]
    fn placeholders_are_numbered_across_the_parts_of_one_statement() {
        let mut sql = Numbered::default();
        assert_eq!(sql.param(1i64.into()), "$1");
        let mut update = Query::update();
        update
            .table(Alias::new("t"))
            .value(Alias::new("a"), 2i64)
            .and_where(Expr::col(Alias::new("b")).eq(3i64));
        update.build_collect_any_into(&PostgresQueryBuilder, &mut sql);
        assert_eq!(sql.param(4i64.into()), "$4");
        assert_eq!(sql.sql, r#"UPDATE "t" SET "a" = $2 WHERE "b" = $3"#);
        assert_eq!(
            sql.values,
            [1i64, 2, 3, 4].map(Value::from).to_vec(),
            "the values in the order of their placeholders"
        );
    }
}
