//! Keyset pagination: `Page<T>` and the opaque cursor over `(created_at, id)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, IntoCondition, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Select,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Error, Result};

/// Default page size.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest page size a client may ask for.
pub const MAX_LIMIT: u64 = 100;

/// One page of a list, newest first unless the endpoint says otherwise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    #[schema(schema_with = items_schema::<T>)]
    pub items: Vec<T>,
    /// Opaque cursor of the next page; `null` on the last page (always present).
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// Number of items matching the filter, over all pages.
    pub total: u64,
}

/// The OpenAPI schema of `items`: an array of references to `T`'s named schema. utoipa
/// inlines a generic argument's whole schema, which generators turn into one more model per
/// page (`PageAgentItemsItem`) instead of reusing `Agent`.
fn items_schema<T: ToSchema>() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(T::name()))
        .description(Some("The items of this page."))
        .build()
}

impl<T> Page<T> {
    /// Converts every item, keeping cursor and total.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
        }
    }
}

/// Position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the last item returned.
    pub created_at: DateTime<Utc>,
    /// `id` of the last item returned.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text form handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.created_at.timestamp_micros(), self.id))
    }

    /// Parses a client-supplied cursor; anything malformed is a `422` on `cursor`.
    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::invalid("cursor", "is not a cursor returned by this list");
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let (micros, id) = raw.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self { created_at, id })
    }
}

/// Direction of a listing over `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Newest first (the default of every list).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// Validated paging parameters.
#[derive(Debug, Clone, Default)]
pub struct PageParams {
    /// Page size, 1..=100.
    pub limit: u64,
    /// Where to continue, if not at the start.
    pub cursor: Option<Cursor>,
    /// Listing order.
    pub direction: Direction,
}

impl PageParams {
    /// Checks raw `limit` and `cursor` query values, naming the failing one.
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let cursor = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self {
            limit,
            cursor,
            direction: Direction::NewestFirst,
        })
    }

    /// The same parameters, listing oldest first.
    pub fn oldest_first(mut self) -> Self {
        self.direction = Direction::OldestFirst;
        self
    }
}

/// The columns a keyset page is ordered by.
pub struct KeysetColumns<C> {
    /// The creation time column.
    pub created_at: C,
    /// The primary key column (UUID v7, so it breaks ties in time order).
    pub id: C,
}

/// Runs `select` as one keyset page of models (see [`fetch_page_as`]).
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    columns: KeysetColumns<E::Column>,
    params: &PageParams,
    key: impl Fn(&E::Model) -> Cursor,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let decode = |row: &QueryResult| Ok(E::Model::from_query_result(row, "")?);
    fetch_page_as(db, select, columns, params, decode, key).await
}

/// The column alias under which the total rides along with every row of a page.
const TOTAL: &str = "page_total";

/// Runs `select` as one keyset page, decoding each row with `decode` (which may read
/// columns `select` adds to the entity's): applies the cursor, orders by
/// `(created_at, id)` and fetches one row more than asked to know whether a next page
/// exists. One round trip: the number of matches rides along as a scalar sub-query; only
/// a page that comes back empty after a cursor costs a second query to count.
pub async fn fetch_page_as<E, C, T>(
    db: &C,
    select: Select<E>,
    columns: KeysetColumns<E::Column>,
    params: &PageParams,
    decode: impl Fn(&QueryResult) -> Result<T>,
    key: impl Fn(&T) -> Cursor,
) -> Result<Page<T>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let count = || {
        let mut count = select.as_query().clone();
        count.clear_selects().clear_order_by().expr(Expr::cust("COUNT(*)"));
        count
    };
    let (order, after) = match params.direction {
        Direction::NewestFirst => (Order::Desc, true),
        Direction::OldestFirst => (Order::Asc, false),
    };
    let mut query = select.clone();
    if let Some(cursor) = params.cursor {
        query = query.filter(after_cursor(&columns, cursor, after));
    }
    let query = query
        .expr_as(Expr::SubQuery(None, Box::new(count().into())), TOTAL)
        .order_by(columns.created_at, order.clone())
        .order_by(columns.id, order)
        .limit(params.limit + 1);
    let rows = db.query_all(query.as_query()).await?;
    let total = match rows.first() {
        Some(row) => row.try_get::<i64>("", TOTAL)?,
        None if params.cursor.is_none() => 0,
        None => db
            .query_one(&count())
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or(0),
    };
    let items = rows.iter().map(decode).collect::<Result<Vec<T>>>()?;
    Ok(keyset_page(items, params.limit, total, key))
}

/// The page made of `items` read with one more than `limit` (the extra one only says that a
/// next page exists) and the `total` number of matches; for keyset reads written by hand.
pub fn keyset_page<T>(mut items: Vec<T>, limit: u64, total: i64, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|item| key(item).encode())
    } else {
        None
    };
    Page {
        items,
        next_cursor,
        total: u64::try_from(total).unwrap_or(0),
    }
}

fn after_cursor<C: ColumnTrait>(columns: &KeysetColumns<C>, cursor: Cursor, descending: bool) -> Condition {
    let (time_past, id_past) = if descending {
        (columns.created_at.lt(cursor.created_at), columns.id.lt(cursor.id))
    } else {
        (columns.created_at.gt(cursor.created_at), columns.id.gt(cursor.id))
    };
    Condition::any()
        .add(time_past)
        .add(
            Condition::all()
                .add(columns.created_at.eq(cursor.created_at))
                .add(id_past),
        )
        .into_condition()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor {
            created_at: crate::clock::now(),
            id: crate::ids::new_id(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn garbage_cursor_is_a_422_on_cursor() {
        for bad in [
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("12|not-a-uuid"),
            &URL_SAFE_NO_PAD.encode("nope"),
        ] {
            match Cursor::decode(bad) {
                Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "cursor"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(PageParams::parse(None, None).unwrap().limit, 20);
        assert!(PageParams::parse(Some(0), None).is_err());
        assert!(PageParams::parse(Some(101), None).is_err());
        assert_eq!(PageParams::parse(Some(100), Some("")).unwrap().limit, 100);
    }
}
