//! [`McpServerService`]: the rules of MCP servers. A create, a change of `url` or
//! `headers`, and a refresh contact the server (initialize, `tools/list`) and store the
//! tools it offers; a server that cannot be reached leaves everything unchanged.

use std::collections::BTreeMap;

use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, FieldError, Page, PageParams};
use outbound::OutboundClient;
use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use secrets::SecretService;
use serde_json::Value;
use uuid::Uuid;

use crate::client::{Session, Timeouts};
use crate::entities::mcp_server;
use crate::error::{McpError, Result};
use crate::schemas::server::{stored_allowed, stored_headers};
use crate::schemas::{MASK, McpHeaders, McpServer, McpServerCreate, McpServerUpdate, McpTool};

/// Creates, reads, updates, deletes and refreshes the MCP servers of their owners.
#[derive(Clone)]
pub struct McpServerService {
    db: DatabaseConnection,
    secrets: SecretService,
    outbound: OutboundClient,
    timeouts: Timeouts,
}

impl McpServerService {
    /// A service over `db`, filling header secrets from `secrets` and reaching servers
    /// through `outbound` (the guard: internal addresses refused unless allowlisted).
    pub fn new(db: DatabaseConnection, secrets: SecretService, outbound: OutboundClient) -> Self {
        Self {
            db,
            secrets,
            outbound,
            timeouts: Timeouts::default(),
        }
    }

    /// The same service with other time limits (connect and list; call is the runtime's).
    pub fn with_timeouts(mut self, connect: std::time::Duration, list: std::time::Duration) -> Self {
        self.timeouts.connect = connect;
        self.timeouts.list = list;
        self
    }

    /// The time limits of this service.
    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The outbound client servers are reached through.
    pub(crate) fn outbound(&self) -> &OutboundClient {
        &self.outbound
    }

    /// Creates a server after listing its tools: `409` for a label in use, `422` naming
    /// `url` when the server cannot be reached or refuses.
    pub async fn create(&self, owner_id: Uuid, input: McpServerCreate) -> Result<McpServer> {
        kernel::rules::check(&input).map_err(McpError::Invalid)?;
        self.ensure_label_free(owner_id, &input.label, None).await?;
        let headers = input.headers.0;
        let tools = self.contact(owner_id, &input.url, &headers).await?;
        let now = kernel::clock::now();
        let model = mcp_server::Model {
            id: kernel::ids::new_id(),
            owner_id,
            label: input.label,
            url: input.url,
            headers: to_json(&headers),
            allowed_tools: input.allowed_tools.as_ref().map(to_json),
            approval: input.approval.into(),
            tools: to_json(&tools),
            created_at: now,
            updated_at: now,
            refreshed_at: now,
        };
        mcp_server::Entity::insert(model.clone().into_active_model())
            .exec_without_returning(&self.db)
            .await?;
        Ok(McpServer::from_model(model))
    }

    /// The owner's server with this id ([`McpError::NotFound`] otherwise).
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<McpServer> {
        Ok(McpServer::from_model(self.owned(owner_id, id).await?))
    }

    /// A page of the owner's servers, newest first.
    pub async fn list(&self, owner_id: Uuid, page: &PageParams) -> Result<Page<McpServer>> {
        let select = mcp_server::Entity::find().filter(mcp_server::Column::OwnerId.eq(owner_id));
        let columns = KeysetColumns {
            created_at: mcp_server::Column::CreatedAt,
            id: mcp_server::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |m| Cursor {
            created_at: m.created_at,
            id: m.id,
        })
        .await?;
        Ok(Page {
            items: page.items.into_iter().map(McpServer::from_model).collect(),
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    /// Applies a partial update; a change of `url` or `headers` lists the tools again
    /// first (`422` naming `url`, nothing changed, when the server cannot be reached).
    pub async fn update(&self, owner_id: Uuid, id: Uuid, input: McpServerUpdate) -> Result<McpServer> {
        kernel::rules::check(&input).map_err(McpError::Invalid)?;
        let mut model = self.owned(owner_id, id).await?;
        if let Some(label) = &input.label
            && *label != model.label
        {
            self.ensure_label_free(owner_id, label, Some(id)).await?;
        }
        let stored = stored_headers(&model);
        let headers = match input.headers {
            Some(headers) => Some(keep_masked(headers.unwrap_or_default(), &stored)?),
            None => None,
        };
        let url_changed = input.url.as_ref().is_some_and(|url| *url != model.url);
        let headers_changed = headers.as_ref().is_some_and(|headers| *headers != stored);
        let now = kernel::clock::now();
        if url_changed || headers_changed {
            let url = input.url.as_deref().unwrap_or(&model.url);
            let tools = self.contact(owner_id, url, headers.as_ref().unwrap_or(&stored)).await?;
            model.tools = to_json(&tools);
            model.refreshed_at = now;
        }
        if let Some(label) = input.label {
            model.label = label;
        }
        if let Some(url) = input.url {
            model.url = url;
        }
        if let Some(headers) = headers {
            model.headers = to_json(&headers);
        }
        if let Some(allowed) = input.allowed_tools {
            model.allowed_tools = allowed.as_ref().map(to_json);
        }
        if let Some(approval) = input.approval {
            model.approval = approval.into();
        }
        model.updated_at = now;
        self.store(&model).await?;
        Ok(McpServer::from_model(model))
    }

    /// Lists the server's tools again and stores them (`422` naming `url`, nothing
    /// changed, when it cannot be reached).
    pub async fn refresh(&self, owner_id: Uuid, id: Uuid) -> Result<McpServer> {
        let mut model = self.owned(owner_id, id).await?;
        let tools = self.contact(owner_id, &model.url, &stored_headers(&model)).await?;
        let now = kernel::clock::now();
        model.tools = to_json(&tools);
        model.refreshed_at = now;
        model.updated_at = now;
        self.store(&model).await?;
        Ok(McpServer::from_model(model))
    }

    /// Deletes the server; its agent links go with it (cascade), so it is detached from
    /// every agent. `404` the second time.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        let deleted = mcp_server::Entity::delete_many()
            .filter(mcp_server::Column::Id.eq(id))
            .filter(mcp_server::Column::OwnerId.eq(owner_id))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(McpError::NotFound);
        }
        Ok(())
    }

    /// The owner's servers among `ids`, in the order of `ids` (missing ones skipped): what
    /// a run of an agent linked to them offers.
    pub(crate) async fn runnable(&self, owner_id: Uuid, ids: &[Uuid]) -> Result<Vec<mcp_server::Model>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = mcp_server::Entity::find()
            .filter(mcp_server::Column::OwnerId.eq(owner_id))
            .filter(mcp_server::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
        Ok(rows)
    }

    /// The headers to send for `owner_id`: every `{{secret:NAME}}` filled in, or why not
    /// (a missing secret, by name).
    pub(crate) async fn filled_headers(
        &self,
        owner_id: Uuid,
        headers: &BTreeMap<String, String>,
    ) -> std::result::Result<Vec<(String, String)>, String> {
        let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        let names = outbound::http_tool::secret_names(&headers);
        let secrets = if names.is_empty() {
            Default::default()
        } else {
            self.secrets.resolve(owner_id, &names).await.map_err(|err| {
                tracing::warn!(error = %err, "cannot read the secrets of an MCP server's headers");
                "the secrets of the server's headers could not be read".to_owned()
            })?
        };
        let lookup = |name: &str| secrets.get(name).map(|value| value.expose().to_owned());
        outbound::http_tool::fill_headers(&headers, &lookup)
    }

    /// Connects to the server as `owner_id` and lists its tools; [`McpError::Unreachable`]
    /// with the reason otherwise.
    async fn contact(&self, owner_id: Uuid, url: &str, headers: &BTreeMap<String, String>) -> Result<Vec<McpTool>> {
        let headers = self
            .filled_headers(owner_id, headers)
            .await
            .map_err(|reason| McpError::Invalid(vec![FieldError::new("headers", reason)]))?;
        let session = Session::connect(&self.outbound, url, &headers, &self.timeouts)
            .await
            .map_err(|failure| McpError::Unreachable(failure.reason().to_owned()))?;
        session
            .list_tools(&self.timeouts)
            .await
            .map_err(|failure| McpError::Unreachable(failure.reason().to_owned()))
    }

    /// Writes every column of `model` over the owner's row ([`McpError::NotFound`] when it
    /// was deleted meanwhile).
    async fn store(&self, model: &mcp_server::Model) -> Result<()> {
        let mut changes = model.clone().into_active_model().reset_all();
        (changes.id, changes.owner_id, changes.created_at) = (NotSet, NotSet, NotSet);
        let updated = mcp_server::Entity::update_many()
            .set(changes)
            .filter(mcp_server::Column::Id.eq(model.id))
            .filter(mcp_server::Column::OwnerId.eq(model.owner_id))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(McpError::NotFound);
        }
        Ok(())
    }

    /// The owner's server row with this id ([`McpError::NotFound`] otherwise).
    async fn owned(&self, owner_id: Uuid, id: Uuid) -> Result<mcp_server::Model> {
        mcp_server::Entity::find_by_id(id)
            .filter(mcp_server::Column::OwnerId.eq(owner_id))
            .one(&self.db)
            .await?
            .ok_or(McpError::NotFound)
    }

    /// [`McpError::LabelTaken`] when another server of the owner has `label`.
    async fn ensure_label_free(&self, owner_id: Uuid, label: &str, except: Option<Uuid>) -> Result<()> {
        let mut query = mcp_server::Entity::find()
            .filter(mcp_server::Column::OwnerId.eq(owner_id))
            .filter(mcp_server::Column::Label.eq(label));
        if let Some(id) = except {
            query = query.filter(mcp_server::Column::Id.ne(id));
        }
        if query.count(&self.db).await? > 0 {
            return Err(McpError::LabelTaken(label.to_owned()));
        }
        Ok(())
    }
}

/// The headers to store: a value `•••` keeps the stored value of that header; an error
/// names each header that has none to keep.
fn keep_masked(input: McpHeaders, stored: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut headers = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in input.0 {
        if value == MASK {
            match stored.get(&name) {
                Some(kept) => {
                    headers.insert(name, kept.clone());
                }
                None => errors.push(FieldError::new(
                    format!("headers.{name}"),
                    "`•••` keeps a stored value, but this header has none",
                )),
            }
        } else {
            headers.insert(name, value);
        }
    }
    if errors.is_empty() {
        Ok(headers)
    } else {
        Err(McpError::Invalid(errors))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The allowed names of a stored server (for the runtime).
pub(crate) fn allowed_of(model: &mcp_server::Model) -> Option<Vec<String>> {
    stored_allowed(model)
}
