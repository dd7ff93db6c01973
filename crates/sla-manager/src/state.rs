//! The state every handler shares.

use common::config::SecretToken;

use crate::manager::Manager;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service's work.
    pub manager: Manager,
    /// The token `PUT /slaset` requires, if any.
    pub api_token: Option<SecretToken>,
}
