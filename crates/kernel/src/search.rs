//! Substring search in SQL, the same on SQLite and PostgreSQL.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};

/// `lower(column) LIKE '%<q, lower-cased>%' ESCAPE '\'`: a case-insensitive substring match
/// in which `%`, `_` and `\` of `q` stand for themselves, not for wildcards.
pub fn contains_ignoring_case(column: impl ColumnTrait, q: &str) -> SimpleExpr {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
