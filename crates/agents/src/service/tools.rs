//! [`ToolService`]: the rules of tools (function definitions agents may call).

use kernel::FieldError;
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use super::{check, name_contains, reject};
use crate::entities::{agent_tool, tool};
use crate::error::{AgentError, Result};
use crate::schemas::{HTTP_REFUSED, HTTP_REQUIRED, HttpSpec, HttpSpecInput, Tool, ToolCreate, ToolKind, ToolUpdate};

/// Creates, reads, updates and deletes the tools of their owners.
#[derive(Clone)]
pub struct ToolService {
    db: DatabaseConnection,
}

impl ToolService {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a tool; `409` when the owner already has a tool of that name.
    pub async fn create(&self, owner_id: Uuid, input: ToolCreate) -> Result<Tool> {
        check(&input)?;
        let http = input.http.map(|spec| resolve_spec(spec, None)).transpose()?;
        self.ensure_name_free(owner_id, &input.name, None).await?;
        let now = kernel::clock::now();
        let model = tool::Model {
            id: kernel::ids::new_id(),
            owner_id,
            name: input.name,
            description: input.description,
            parameters: Value::Object(input.parameters),
            kind: input.kind.unwrap_or_default().into(),
            approval: input.approval.unwrap_or_default().into(),
            http: http.as_ref().map(stored_spec),
            created_at: now,
            updated_at: now,
        };
        tool::Entity::insert(model.clone().into_active_model())
            .exec_without_returning(&self.db)
            .await?;
        Ok(model.into())
    }

    /// The owner's tool with this id ([`AgentError::ToolNotFound`] otherwise).
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<Tool> {
        Ok(self.owned(owner_id, id).await?.into())
    }

    /// The owner's tool row with this id, if there is one.
    pub async fn find_owned(&self, owner_id: Uuid, id: Uuid) -> Result<Option<tool::Model>> {
        Ok(tool::Entity::find_by_id(id)
            .filter(tool::Column::OwnerId.eq(owner_id))
            .one(&self.db)
            .await?)
    }

    /// The owner's tool row with this id ([`AgentError::ToolNotFound`] otherwise).
    async fn owned(&self, owner_id: Uuid, id: Uuid) -> Result<tool::Model> {
        self.find_owned(owner_id, id).await?.ok_or(AgentError::ToolNotFound)
    }

    /// A page of the owner's tools, newest first, optionally filtered by a name substring (any case).
    pub async fn list(&self, owner_id: Uuid, q: Option<&str>, page: &PageParams) -> Result<Page<Tool>> {
        let mut select = tool::Entity::find().filter(tool::Column::OwnerId.eq(owner_id));
        if let Some(filter) = name_contains(tool::Column::Name, q) {
            select = select.filter(filter);
        }
        let columns = KeysetColumns {
            created_at: tool::Column::CreatedAt,
            id: tool::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |t| Cursor {
            created_at: t.created_at,
            id: t.id,
        })
        .await?;
        Ok(page.map(Tool::from))
    }

    /// Applies a partial update; `404` for a missing or foreign tool, `409` for a taken name,
    /// `422` naming `http` when the result would not be consistent (`http` exactly for
    /// `http` tools; changing the kind to `client` drops the stored `http`).
    pub async fn update(&self, owner_id: Uuid, id: Uuid, input: ToolUpdate) -> Result<Tool> {
        check(&input)?;
        let current = self.owned(owner_id, id).await?;
        let kind = input.kind.unwrap_or_else(|| current.kind.into());
        let http = match input.http {
            Some(Some(spec)) => Some(resolve_spec(spec, current.http_spec().as_ref())?),
            Some(None) => None,
            None if input.kind == Some(ToolKind::Client) => None,
            None => current.http_spec(),
        };
        match (kind, &http) {
            (ToolKind::Http, None) => reject(vec![FieldError::new("http", HTTP_REQUIRED)])?,
            (ToolKind::Client, Some(_)) => reject(vec![FieldError::new("http", HTTP_REFUSED)])?,
            _ => {}
        }
        if let Some(name) = input.name.as_deref().filter(|name| *name != current.name) {
            self.ensure_name_free(owner_id, name, Some(id)).await?;
        }
        let mut model = current.into_active_model();
        model.kind = Set(kind.into());
        model.http = Set(http.as_ref().map(stored_spec));
        if let Some(approval) = input.approval {
            model.approval = Set(approval.into());
        }
        if let Some(name) = input.name {
            model.name = Set(name);
        }
        if let Some(description) = input.description {
            model.description = Set(description);
        }
        if let Some(parameters) = input.parameters {
            model.parameters = Set(Value::Object(parameters));
        }
        model.updated_at = Set(kernel::clock::now());
        Ok(model.update(&self.db).await?.into())
    }

    /// Deletes the tool and detaches it from every agent; `404` for a missing or foreign tool.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        let txn = self.db.begin().await?;
        let deleted = tool::Entity::delete_many()
            .filter(tool::Column::Id.eq(id))
            .filter(tool::Column::OwnerId.eq(owner_id))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(AgentError::ToolNotFound);
        }
        // The foreign key cascades too; deleting explicitly keeps this true wherever it is off.
        agent_tool::Entity::delete_many()
            .filter(agent_tool::Column::ToolId.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// `409` when another tool of the owner already has this name.
    async fn ensure_name_free(&self, owner_id: Uuid, name: &str, except: Option<Uuid>) -> Result<()> {
        let mut taken = tool::Entity::find()
            .filter(tool::Column::OwnerId.eq(owner_id))
            .filter(tool::Column::Name.eq(name));
        if let Some(id) = except {
            taken = taken.filter(tool::Column::Id.ne(id));
        }
        if taken.count(&self.db).await? > 0 {
            return Err(AgentError::ToolNameTaken(name.to_owned()));
        }
        Ok(())
    }
}

/// The spec to store for `input` (defaults filled in, `•••` header values taken from
/// `stored`); `422` naming each `http.headers.<Name>` whose masked value has nothing to keep.
fn resolve_spec(input: HttpSpecInput, stored: Option<&HttpSpec>) -> Result<HttpSpec> {
    HttpSpec::from_input(input, stored).map_err(|names| {
        AgentError::Invalid(
            names
                .into_iter()
                .map(|name| {
                    FieldError::new(
                        format!("http.headers.{name}"),
                        "is the mask `•••` but the tool has no stored value of this header: send the value",
                    )
                })
                .collect(),
        )
    })
}

/// The stored form of a spec, header values unmasked.
fn stored_spec(spec: &HttpSpec) -> Value {
    serde_json::json!({
        "method": spec.method.as_str(),
        "url": spec.url,
        "headers": spec.headers,
        "timeout_ms": spec.timeout_ms,
        "max_response_bytes": spec.max_response_bytes,
    })
}
