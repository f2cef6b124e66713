//! The blood station staff's pages (issue 15), desktop first, a tablet on the drive day; on
//! the same shell, catalogue, map and services as the officials' pages. Everything lives under
//! `/station/`:
//!
//! Staff (and admins) plan and run drives; officials and viewers read what their regions
//! reach (the services' policy decides, as for the API), and see no buttons that would change
//! anything.

mod drives;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(drives::routes())
}
