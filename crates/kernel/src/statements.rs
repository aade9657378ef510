//! Several prepared statements written together, in as few round trips as the database
//! allows: joined into one on SQLite, one after another elsewhere.
//!
//! sqlx runs each SQLite statement on the connection's own thread, so every statement is a
//! hand-off to that thread and back; a statement string holding several statements is run
//! in one hand-off, its `?` parameters bound in order across them. PostgreSQL's extended
//! protocol takes one statement per query, so there they run in turn.
//!
//! Run them inside a transaction when they must hold together: a failing statement stops
//! the rest, and only the transaction undoes those already run.
//!
//! Writes that do not read each other's rows can be one statement on PostgreSQL too:
//! [`independent`] makes them the parts of one `WITH` (one round trip instead of one each).

use std::fmt::Write as _;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Values};

/// Runs `statements` in order on `db`; the first error stops them.
pub async fn execute_all(db: &impl ConnectionTrait, statements: Vec<Statement>) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        for statement in statements {
            db.execute_raw(statement).await?;
        }
        return Ok(());
    }
    if let Some(joined) = join(statements) {
        db.execute_raw(joined).await?;
    }
    Ok(())
}

/// Runs `statements` in order on `db` like [`execute_all`], returning the rows they
/// return (a `RETURNING` clause, a `SELECT`), in order.
pub async fn query_all(db: &impl ConnectionTrait, statements: Vec<Statement>) -> Result<Vec<QueryResult>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        let mut rows = Vec::new();
        for statement in statements {
            rows.extend(db.query_all_raw(statement).await?);
        }
        return Ok(rows);
    }
    match join(statements) {
        Some(joined) => db.query_all_raw(joined).await,
        None => Ok(Vec::new()),
    }
}

/// `statements` for [`execute_all`], as few as `backend` allows for writes that do not read
/// each other's rows: on PostgreSQL one statement whose `WITH` parts are all but the last
/// (each an `INSERT`, `UPDATE` or `DELETE`) and whose main statement is the last, their
/// parameters renumbered in order; elsewhere (or when one of the first is something else,
/// which a `WITH` would not run) unchanged — SQLite joins them as they run.
///
/// The parts of one PostgreSQL statement all see the rows as they were before it, and its
/// constraints are checked at its end: a row may reference one inserted beside it, but a
/// part must not depend on what another writes (an `UPDATE` of a row inserted beside it
/// finds nothing), nor may two parts change the same row.
pub fn independent(backend: DbBackend, statements: Vec<Statement>) -> Vec<Statement> {
    let modifies = |statement: &Statement| {
        let head = statement.sql.trim_start().get(..6).unwrap_or_default();
        ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|verb| head.eq_ignore_ascii_case(verb))
    };
    let Some((_, first)) = statements.split_last() else {
        return statements;
    };
    if backend != DbBackend::Postgres || first.is_empty() || !first.iter().all(modifies) {
        return statements;
    }
    let last = statements.len() - 1;
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    for (i, statement) in statements.into_iter().enumerate() {
        let renumbered = renumber(&statement.sql, values.len());
        if i < last {
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "w{i} AS ({renumbered})");
        } else {
            sql.push(' ');
            sql.push_str(&renumbered);
        }
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    vec![Statement::from_sql_and_values(DbBackend::Postgres, sql, Values(values))]
}

/// `sql` with each PostgreSQL parameter `$n` outside quotes made `$<n + offset>`.
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(open) => {
                if c == open {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$'
                && !(previous.is_alphanumeric() || previous == '_' || previous == '$')
                && chars.peek().is_some_and(char::is_ascii_digit) =>
            {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(n) => {
                        let _ = write!(out, "${}", n + offset);
                    }
                    Err(_) => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
                previous = '0';
                continue;
            }
            None => out.push(c),
        }
        previous = c;
    }
    out
}

/// One SQLite statement string running `statements` in order, their values in order;
/// `None` when there is none.
fn join(statements: Vec<Statement>) -> Option<Statement> {
    let mut sql = String::new();
    let mut values = Vec::new();
    for statement in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&statement.sql);
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    (!sql.is_empty()).then(|| Statement::from_sql_and_values(DbBackend::Sqlite, sql, Values(values)))
}

#[cfg(test)]
mod tests {
    use sea_orm::{Database, TransactionTrait};

    use super::*;

    fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    #[tokio::test]
    async fn sqlite_runs_every_statement_with_its_own_values_in_one_call() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("CREATE TABLE t (a INTEGER NOT NULL, b TEXT)")
            .await
            .unwrap();
        let statements = vec![
            statement("INSERT INTO t (a, b) VALUES (?, ?)", vec![1.into(), "one".into()]),
            statement(
                "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)",
                vec![2.into(), "two".into(), 3.into(), "three".into()],
            ),
            statement("UPDATE t SET b = b || ? WHERE a = ?", vec!["!".into(), 2.into()]),
        ];
        execute_all(&db, statements).await.unwrap();
        let rows: Vec<(i64, String)> = db
            .query_all_raw(statement("SELECT a, b FROM t ORDER BY a", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
            .collect();
        assert_eq!(
            rows,
            vec![(1, "one".to_owned()), (2, "two!".to_owned()), (3, "three".to_owned())]
        );
    }

    #[tokio::test]
    async fn rows_come_back_from_every_statement_and_changes_sees_the_statement_before() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); CREATE TABLE log (n INTEGER)",
        )
        .await
        .unwrap();
        db.execute_unprepared("INSERT INTO t (id, n) VALUES (1, 10)")
            .await
            .unwrap();
        // Inserted only when the update before it changed a row.
        let guarded = |id: i64| {
            vec![
                statement(
                    "UPDATE t SET n = n + 1 WHERE id = ? RETURNING n, ?",
                    vec![id.into(), (id * 100).into()],
                ),
                statement(
                    "INSERT INTO log (n) SELECT n FROM t WHERE id = ? AND changes() = 1",
                    vec![id.into()],
                ),
                statement(
                    "INSERT INTO log (n) SELECT n + 1000 FROM t WHERE id = ? AND changes() = 1",
                    vec![id.into()],
                ),
            ]
        };
        let rows = query_all(&db, [guarded(2), guarded(1)].concat()).await.unwrap();
        let returned: Vec<(i64, i64)> = rows
            .iter()
            .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
            .collect();
        assert_eq!(returned, vec![(11, 100)]);
        let logged: Vec<i64> = db
            .query_all_raw(statement("SELECT n FROM log ORDER BY n", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        assert_eq!(logged, vec![11, 1011]);
    }

    #[test]
    fn parameters_are_renumbered_outside_quotes_only() {
        assert_eq!(
            renumber("UPDATE t SET a = $1, b = '$2', \"c$3\" = $3 WHERE x$1 = $12", 4),
            "UPDATE t SET a = $5, b = '$2', \"c$3\" = $7 WHERE x$1 = $16"
        );
        assert_eq!(renumber("SELECT 'it''s $1', $1", 1), "SELECT 'it''s $1', $2");
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn only_writes_before_the_last_are_joined_and_only_on_postgres() {
        let pg =
            |sql: &str, values: Vec<sea_orm::Value>| Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        let writes = vec![
            pg("INSERT INTO p (id) VALUES ($1)", vec![1.into()]),
            pg("update p SET n = $1 WHERE id = $2", vec![5.into(), 2.into()]),
            pg("SELECT pg_notify($1, $2)", vec!["c".into(), "x".into()]),
        ];
        let joined = independent(DbBackend::Postgres, writes.clone());
        assert_eq!(joined.len(), 1);
        assert_eq!(
            joined[0].sql,
            "WITH w0 AS (INSERT INTO p (id) VALUES ($1)), w1 AS (update p SET n = $2 WHERE id = $3) \
             SELECT pg_notify($4, $5)"
        );
        assert_eq!(joined[0].values.as_ref().map(|v| v.0.len()), Some(5));
        assert_eq!(independent(DbBackend::Sqlite, writes.clone()).len(), 3);
        // A SELECT that is not last would not run inside a WITH: left as it is.
        let reads = vec![writes[2].clone(), writes[0].clone()];
        assert_eq!(independent(DbBackend::Postgres, reads).len(), 2);
        assert_eq!(independent(DbBackend::Postgres, vec![writes[0].clone()]).len(), 1);
        assert!(independent(DbBackend::Postgres, Vec::new()).is_empty());
    }

    /// On the test database (PostgreSQL with `TEST_DATABASE_URL`): rows inserted beside the
    /// rows they reference, an update and the last statement, all written; a broken
    /// reference fails the whole statement.
    #[tokio::test]
    async fn independent_writes_are_written_together_and_fail_together() {
        let db = testkit::database("kernel_statements_").await;
        let backend = db.get_database_backend();
        let on_pg = backend == DbBackend::Postgres;
        let mark = |n: usize| if on_pg { format!("${n}") } else { "?".to_owned() };
        let stmt = |sql: String, values: Vec<sea_orm::Value>| Statement::from_sql_and_values(backend, sql, values);
        db.execute_unprepared(
            "CREATE TABLE p (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); \
             CREATE TABLE c (id BIGINT PRIMARY KEY, p BIGINT NOT NULL REFERENCES p (id)); \
             INSERT INTO p (id, n) VALUES (2, 10)",
        )
        .await
        .unwrap();
        let turn = |parent: i64, child: i64| {
            vec![
                stmt(
                    format!("INSERT INTO p (id, n) VALUES ({}, {})", mark(1), mark(2)),
                    vec![parent.into(), 0i64.into()],
                ),
                stmt(
                    format!("INSERT INTO c (id, p) VALUES ({}, {})", mark(1), mark(2)),
                    vec![child.into(), child.into()],
                ),
                stmt(
                    format!("UPDATE p SET n = n + {} WHERE id = {}", mark(1), mark(2)),
                    vec![1i64.into(), 2i64.into()],
                ),
                stmt(
                    format!("INSERT INTO c (id, p) VALUES ({}, {})", mark(1), mark(2)),
                    vec![(child + 100).into(), 2i64.into()],
                ),
            ]
        };
        let joined = independent(backend, turn(1, 1));
        assert_eq!(joined.len(), if on_pg { 1 } else { 4 });
        execute_all(&db, joined).await.unwrap();
        // Child 3 references parent 3, which is not the parent inserted beside it.
        let txn = db.begin().await.unwrap();
        assert!(execute_all(&txn, independent(backend, turn(4, 3))).await.is_err());
        txn.rollback().await.unwrap();
        let rows = |sql: &'static str| {
            let db = db.clone();
            async move {
                db.query_all_raw(Statement::from_string(backend, sql))
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
                    .collect::<Vec<(i64, i64)>>()
            }
        };
        assert_eq!(rows("SELECT id, n FROM p ORDER BY id").await, vec![(1, 0), (2, 11)]);
        assert_eq!(rows("SELECT id, p FROM c ORDER BY id").await, vec![(1, 1), (101, 2)]);
    }

    #[tokio::test]
    async fn a_failing_statement_stops_the_rest_and_the_transaction_undoes_the_others() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("CREATE TABLE t (a INTEGER NOT NULL)")
            .await
            .unwrap();
        let txn = db.begin().await.unwrap();
        let statements = vec![
            statement("INSERT INTO t (a) VALUES (?)", vec![1.into()]),
            statement("INSERT INTO t (a) VALUES (?)", vec![Option::<i64>::None.into()]),
            statement("INSERT INTO t (a) VALUES (?)", vec![3.into()]),
        ];
        assert!(execute_all(&txn, statements).await.is_err());
        txn.rollback().await.unwrap();
        let count = db
            .query_one_raw(statement("SELECT count(*) FROM t", vec![]))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(count, 0);
    }
}
