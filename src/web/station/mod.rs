//! The blood station staff's pages (issue 15), desktop first, a tablet on the drive day; on
//! the same shell, catalogue, map and services as the officials' pages. Everything lives under
//! `/station/`:
//!
//! - `network`: the network map of a region, with the villages out of reach and the suggested
//!   new sites, and a card for each village and point;
//! - `drives`: the drives' calendar and a drive's page (lifecycle, checklists, bookings);
//! - `planner`: the plans made, the form that makes one, two plans side by side;
//! - `plan`: one plan (progress; map, timeline, stops; sites left out; edits checked at once;
//!   accept into drives; route sheets and downloads);
//! - `forecast`: the turnout forecast of a point on a date, explained village by village;
//! - `results`: a drive's and a stop's results, the results report and its downloads, the
//!   forecast's calibration over time;
//! - `checkin`: a stop's check-in desk on a tablet (`/station/stops/{id}/checkin`);
//! - `admin`: accounts, API tokens, the audit log and the outbox (`/station/admin`);
//! - `recruitment`: one-to-one recruitment: the hub (`/station/recruitment`), a need's page and
//!   the recruiter's call screen (`/station/recruitment/calls`);
//! - `appeals`: appeals with their text, QR code, sends and first-hours chart, the station's
//!   appeal template and the chat groups (`/station/appeals`, `/station/chat-groups`);
//! - `roster`: the donor roster (issue 16): the list, masked, enrolling one donor, a sheet
//!   import, one donor with the number shown on purpose and deletion on request.
//! - `inventory`: the blood inventory board, a station's stock sheet, levels and history, and
//!   the linkage between stations (issue 17; `/station/inventory`).
//!
//! Staff (and admins) plan and run drives; officials and viewers read what their regions
//! reach (the services' policy decides, as for the API), and see no buttons that would change
//! anything.

mod admin;
mod appeals;
mod checkin;
mod drives;
mod forecast;
mod inventory;
mod network;
mod plan;
mod planner;
mod recruitment;
mod results;
mod roster;

use axum::Router;

use crate::registry::{Acting, regions};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::templates::PlaceLink;

/// The regions a reader picks from on a filter (a list beside the code field: names, not
/// 12-digit codes to remember).
async fn region_choices(state: &AppState, page: &Page) -> Result<Vec<PlaceLink>, PageError> {
    let acting = Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
    Ok(regions::choices(&state.db, &acting)
        .await?
        .into_iter()
        .map(|r| PlaceLink {
            code: r.code.to_string(),
            name: r.name,
            current: false,
        })
        .collect())
}

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .merge(roster::routes(upload_limit))
        .merge(network::routes())
        .merge(drives::routes())
        .merge(planner::routes())
        .merge(plan::routes())
        .merge(forecast::routes())
        .merge(admin::routes())
        .merge(results::routes())
        .merge(checkin::routes())
        .merge(recruitment::routes())
        .merge(appeals::routes())
        .merge(inventory::routes())
}
