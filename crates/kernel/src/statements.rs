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
