//! What answers when no route matches: `405` with `Allow` when the path exists with other
//! methods, `404` otherwise — both problem+json. The route table is the OpenAPI document.

use std::sync::Arc;

use actix_web::dev::ResourceDef;
use actix_web::{HttpRequest, HttpResponse, web};
use kernel::Error;
use utoipa::openapi::OpenApi;

/// Known paths and the methods each one serves.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    /// The table of every operation in `doc`.
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_owned())
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods served at `path`, if the path is known.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// The default service.
pub async fn unmatched(req: HttpRequest, table: web::Data<Arc<RouteTable>>) -> Result<HttpResponse, Error> {
    Err(match table.allowed(req.path()) {
        Some(allow) => Error::MethodNotAllowed { allow },
        None => Error::NotFound(format!("no route for {} {}", req.method(), req.path())),
    })
}
