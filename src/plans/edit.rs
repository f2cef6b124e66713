//! Changes a person makes to a finished plan's routes on the planner's page, before anything
//! is solved again: put a site on a vehicle's day (moving it from wherever it was, or adding a
//! site the plan left out), or drop it. The page keeps them in its address as a list of
//! tokens (`put.point-3.vehicle-1.2026-12-10`, `drop.point-3`), so undo is the list without its
//! last token and any state of an edit can be linked to. Plan check (`planning::evaluate`)
//! then answers with the edited plan's times, totals and every broken rule.

use chrono::NaiveDate;

use super::result::PlanResult;
use crate::geo::Wgs84Point;
use crate::planning::instance::{Instance, RouteInput, StopInput};

/// At most this many edits are kept in one state of a plan's page.
pub const MAX_EDITS: usize = 50;

/// One change to a plan's routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Put `site` on `vehicle`'s route of `date`, where it adds the least distance, taking it
    /// off any other route (a site the plan left out is added).
    Put {
        site: String,
        vehicle: String,
        date: NaiveDate,
    },
    /// Take `site` off the plan.
    Drop { site: String },
}

impl Edit {
    /// The edit written as a token (what the page's address carries).
    #[must_use]
    pub fn token(&self) -> String {
        match self {
            Edit::Put {
                site,
                vehicle,
                date,
            } => format!("put.{site}.{vehicle}.{date}"),
            Edit::Drop { site } => format!("drop.{site}"),
        }
    }

    /// Reads a token; `None` for anything else.
    #[must_use]
    pub fn parse(token: &str) -> Option<Edit> {
        let parts: Vec<&str> = token.split('.').collect();
        let id = |s: &str| {
            (!s.is_empty()
                && s.len() <= 40
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .then(|| s.to_owned())
        };
        match parts.as_slice() {
            ["put", site, vehicle, date] => Some(Edit::Put {
                site: id(site)?,
                vehicle: id(vehicle)?,
                date: date.parse().ok()?,
            }),
            ["drop", site] => Some(Edit::Drop { site: id(site)? }),
            _ => None,
        }
    }

    /// The site the edit moves.
    #[must_use]
    pub fn site(&self) -> &str {
        match self {
            Edit::Put { site, .. } | Edit::Drop { site } => site,
        }
    }
}

/// A stored result's routes as plan check reads them: each with its departure and each stop
/// with its start, so that the unedited plan checks to what was solved.
///
/// # Errors
/// A stored time that is not `HH:MM`.
pub fn routes_of(result: &PlanResult) -> Result<Vec<RouteInput>, String> {
    result
        .routes
        .iter()
        .map(|r| {
            Ok(RouteInput {
                vehicle: r.vehicle.clone(),
                date: r.date,
                depart: Some(clock(&r.depart)?),
                stops: r
                    .stops
                    .iter()
                    .map(|s| {
                        Ok(StopInput {
                            site: s.site.clone(),
                            start: Some(clock(&s.opens)?),
                        })
                    })
                    .collect::<Result<_, String>>()?,
            })
        })
        .collect()
}

fn clock(hhmm: &str) -> Result<u32, String> {
    let (h, m) = hhmm
        .split_once(':')
        .ok_or_else(|| format!("expected HH:MM, got {hhmm:?}"))?;
    let h: u32 = h
        .parse()
        .map_err(|_| format!("expected HH:MM, got {hhmm:?}"))?;
    let m: u32 = m
        .parse()
        .map_err(|_| format!("expected HH:MM, got {hhmm:?}"))?;
    Ok(h * 60 + m)
}

/// `routes` with `edits` applied in order, and the edits that applied: an edit naming a site,
/// a vehicle or a day `instance` does not have changes nothing and is left out. A route an edit
/// changes loses its stored times (plan check times it from the vehicle's day start); a route
/// left without stops goes.
#[must_use]
pub fn apply(
    instance: &Instance,
    routes: &[RouteInput],
    edits: &[Edit],
) -> (Vec<RouteInput>, Vec<Edit>) {
    let mut routes = routes.to_vec();
    let mut applied = Vec::new();
    for edit in edits.iter().take(MAX_EDITS) {
        if !instance.sites.iter().any(|s| s.id == edit.site()) {
            continue;
        }
        if let Edit::Put { vehicle, date, .. } = edit
            && (!instance.vehicles.iter().any(|v| &v.id == vehicle)
                || !instance.days.contains(date))
        {
            continue;
        }
        for route in &mut routes {
            let before = route.stops.len();
            route.stops.retain(|s| s.site != edit.site());
            if route.stops.len() != before {
                untime(route);
            }
        }
        if let Edit::Put {
            site,
            vehicle,
            date,
        } = edit
        {
            let at = match routes
                .iter()
                .position(|r| &r.vehicle == vehicle && r.date == *date)
            {
                Some(at) => at,
                None => {
                    routes.push(RouteInput {
                        vehicle: vehicle.clone(),
                        date: *date,
                        depart: None,
                        stops: Vec::new(),
                    });
                    routes.len() - 1
                }
            };
            let route = &mut routes[at];
            let position = cheapest_position(instance, route, site);
            route.stops.insert(
                position,
                StopInput {
                    site: site.clone(),
                    start: None,
                },
            );
            untime(route);
        }
        routes.retain(|r| !r.stops.is_empty());
        applied.push(edit.clone());
    }
    let order = |v: &str| instance.vehicles.iter().position(|x| x.id == v);
    routes.sort_by_key(|r| (r.date, order(&r.vehicle)));
    (routes, applied)
}

fn untime(route: &mut RouteInput) {
    route.depart = None;
    for stop in &mut route.stops {
        stop.start = None;
    }
}

/// Where on `route` `site` adds the least straight-line distance (from the vehicle's station,
/// through the stops, back to it).
fn cheapest_position(instance: &Instance, route: &RouteInput, site: &str) -> usize {
    let place = |id: &str| {
        instance
            .sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| Wgs84Point::stored(s.lon, s.lat))
    };
    let home = instance
        .vehicles
        .iter()
        .find(|v| v.id == route.vehicle)
        .and_then(|v| instance.stations.iter().find(|s| s.id == v.station))
        .map(|s| Wgs84Point::stored(s.lon, s.lat));
    let Some(new) = place(site) else {
        return route.stops.len();
    };
    let mut path: Vec<Option<Wgs84Point>> = vec![home];
    path.extend(route.stops.iter().map(|s| place(&s.site)));
    path.push(home);
    let km = |a: Option<Wgs84Point>, b: Option<Wgs84Point>| match (a, b) {
        (Some(a), Some(b)) => a.distance_km(b),
        _ => 0.0,
    };
    (0..path.len() - 1)
        .map(|i| {
            let added =
                km(path[i], Some(new)) + km(Some(new), path[i + 1]) - km(path[i], path[i + 1]);
            (i, added)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(route.stops.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_and_nothing_else_reads() {
        let put = Edit::Put {
            site: "point-3".to_owned(),
            vehicle: "vehicle-1".to_owned(),
            date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
        };
        assert_eq!(put.token(), "put.point-3.vehicle-1.2026-12-10");
        assert_eq!(Edit::parse(&put.token()), Some(put));
        let drop = Edit::Drop {
            site: "region-411102001001".to_owned(),
        };
        assert_eq!(Edit::parse(&drop.token()), Some(drop));
        for bad in [
            "",
            "put.point-3.vehicle-1",
            "put.point-3.vehicle-1.2026-13-10",
            "drop.point 3",
            "drop.<script>",
            "move.point-3",
        ] {
            assert_eq!(Edit::parse(bad), None, "{bad}");
        }
    }
}
