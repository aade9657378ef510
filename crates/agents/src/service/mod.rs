//! Business rules of agents and tools: [`AgentService`] and [`ToolService`].

mod agents;
mod by_id;
mod by_owner;
mod catalog;
mod links;
mod runnable;
mod tools;

pub use agents::{AgentService, ProviderNames};
pub use catalog::CATALOG_MAX;
pub use runnable::RunnableTool;
pub use tools::ToolService;

use garde::Validate;
use kernel::FieldError;

use crate::error::{AgentError, Result};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::SimpleExpr;

/// Runs a body's garde rules, listing every failing field (the same rules the HTTP
/// extractor runs, so library callers cannot skip them).
fn check<T: Validate<Context = ()>>(value: &T) -> Result<()> {
    kernel::rules::check(value).map_err(AgentError::Invalid)
}

/// `lower(column) LIKE '%q%'` with the LIKE wildcards of `q` taken literally; `None` for a blank `q`.
fn name_contains(column: impl ColumnTrait, q: Option<&str>) -> Option<SimpleExpr> {
    let q = q.map(str::trim).filter(|q| !q.is_empty())?;
    Some(kernel::search::contains_ignoring_case(column, q))
}

/// Fails with every collected field error, if there is any.
fn reject(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AgentError::Invalid(errors))
    }
}
