//! [`CompatError`]: why a `/v1` request cannot be answered, turned into [`kernel::Error`]
//! once, here. The `/v1` edge then adds OpenAI's `error` member to the problem
//! (`router::errors`), naming the parameter at fault as `param`.

use kernel::FieldError;

/// The result type of this crate's service.
pub type Result<T, E = CompatError> = std::result::Result<T, E>;

/// The stable `code` of an unknown model (OpenAI's own).
pub const MODEL_NOT_FOUND: &str = "model_not_found";

/// Why a `/v1` request was not answered.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// No live agent of the caller has this id or name (`404`, `param: model`).
    #[error("The model `{0}` does not exist or you do not have access to it.")]
    UnknownModel(String),
    /// No response of the caller has this id (`404`; `param` names where it came from,
    /// such as `previous_response_id`).
    #[error("No response with id `{0}` was found.")]
    UnknownResponse(String, Option<&'static str>),
    /// Fields break the rules, or ask for what is not supported (`422` naming each one:
    /// `param` is the first).
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// Anything another service reported, carried through unexamined.
    #[error(transparent)]
    Store(kernel::Error),
}

impl CompatError {
    /// A `422` naming one parameter.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(param, message)])
    }
}

impl From<kernel::Error> for CompatError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<agents::AgentError> for CompatError {
    fn from(err: agents::AgentError) -> Self {
        Self::Store(err.into())
    }
}

impl From<executions::ExecutionError> for CompatError {
    fn from(err: executions::ExecutionError) -> Self {
        Self::Store(err.into())
    }
}

impl From<CompatError> for kernel::Error {
    fn from(err: CompatError) -> Self {
        match err {
            err @ CompatError::UnknownModel(_) => {
                Self::coded(404, MODEL_NOT_FOUND, err.to_string(), [("param", "model".into())])
            }
            err @ CompatError::UnknownResponse(_, param) => Self::coded(
                404,
                "response_not_found",
                err.to_string(),
                param.map(|p| ("param", serde_json::Value::from(p))),
            ),
            CompatError::Invalid(errors) => Self::Validation(errors),
            CompatError::Store(err) => err,
        }
    }
}
