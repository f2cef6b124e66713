//! An exact solver for tiny instances (up to 16 sites), to measure how far the planner is from
//! the optimum. Every subset of sites is a possible route: its best order comes from the
//! Held-Karp recursion, and a second recursion over the routes picks disjoint subsets with the
//! highest total. Exponential: 12 sites and 6 vehicle-days take milliseconds, 16 sites about a
//! second.
//!
//! It assumes what the benchmark instances satisfy: each site is visited at most once in the
//! plan, no fixed stops, and travel time grows with distance (the shortest tour is also the
//! quickest), which holds for the straight-line travel model.

use crate::planning::instance::{PLAN_FORMAT, PlanInput, RouteInput, StopInput};
use crate::planning::problem::Problem;

/// Most sites the exact solver takes.
pub const MAX_SITES: usize = 16;

/// Why the exact solver does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotApplicable(String);

/// The best plan and its objective.
///
/// # Errors
/// More than [`MAX_SITES`] sites, fixed stops, or a plan that could visit a site twice.
pub fn solve(p: &Problem) -> Result<(PlanInput, f64), NotApplicable> {
    let n = p.n_sites();
    if n > MAX_SITES {
        return Err(NotApplicable(format!("more than {MAX_SITES} sites")));
    }
    if !p.fixed.is_empty() {
        return Err(NotApplicable("fixed stops".into()));
    }
    if !p.single_visit() {
        return Err(NotApplicable("sites could be visited twice".into()));
    }
    let mut routes: Vec<(usize, usize)> = Vec::new();
    for d in 0..p.n_days {
        for v in 0..p.vehicles.len() {
            if p.vehicles[v].available[d] {
                routes.push((v, d));
            }
        }
    }
    let sites: Vec<usize> = (0..n).collect();
    let (value, orders) = best_assignment(p, &routes, &sites);
    let instance = &p.instance;
    let plan = PlanInput {
        format: Some(PLAN_FORMAT.to_owned()),
        routes: routes
            .iter()
            .zip(orders)
            .filter(|(_, order)| !order.is_empty())
            .map(|(&(v, d), order)| RouteInput {
                vehicle: instance.vehicles[v].id.clone(),
                date: instance.days[d],
                depart: None,
                stops: order
                    .iter()
                    .map(|&s| StopInput {
                        site: instance.sites[s].id.clone(),
                        start: None,
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok((plan, value))
}

/// The best way to serve some of `sites` (site indices, at most [`MAX_SITES`], each at most
/// once) on `routes` ((vehicle, day) pairs, each empty to begin with): the total value and
/// each route's stops in order. The planner uses it on small neighbourhoods.
pub fn best_assignment(
    p: &Problem,
    routes: &[(usize, usize)],
    sites: &[usize],
) -> (f64, Vec<Vec<usize>>) {
    let n = sites.len();
    assert!(n <= MAX_SITES, "at most {MAX_SITES} sites");
    let full = (1usize << n) - 1;
    // The best value and order of every subset on every route.
    let tables: Vec<RouteTable> = routes
        .iter()
        .map(|&(v, d)| route_table(p, v, d, sites))
        .collect();
    // best[k][mask]: the best total of routes k.. using only sites outside `mask`.
    let size = full + 1;
    let mut best = vec![vec![0.0f64; size]; routes.len() + 1];
    let mut choice = vec![vec![0usize; size]; routes.len()];
    for k in (0..routes.len()).rev() {
        for mask in 0..size {
            let free = full & !mask;
            let mut top = best[k + 1][mask];
            let mut pick = 0;
            // Every non-empty subset of the free sites.
            let mut sub = free;
            while sub > 0 {
                if let Some((value, _)) = &tables[k][sub] {
                    let total = value + best[k + 1][mask | sub];
                    if total > top + 1e-9 {
                        top = total;
                        pick = sub;
                    }
                }
                sub = (sub - 1) & free;
            }
            best[k][mask] = top;
            choice[k][mask] = pick;
        }
    }
    let mut mask = 0;
    let mut orders = Vec::with_capacity(routes.len());
    for (k, table) in tables.iter().enumerate() {
        let sub = choice[k][mask];
        if sub == 0 {
            orders.push(Vec::new());
            continue;
        }
        let (_, order) = table[sub].as_ref().expect("chosen subsets are feasible");
        orders.push(order.clone());
        mask |= sub;
    }
    (best[0][0], orders)
}

/// Per subset of sites (by bit mask): the route's value and stops in order, if feasible.
type RouteTable = Vec<Option<(f64, Vec<usize>)>>;

/// For every subset of `sites`, the best (value, order) of vehicle `v`'s route through it on
/// day `d`, or `None` when it breaks a rule.
fn route_table(
    p: &Problem,
    v: usize,
    d: usize,
    sites_in: &[usize],
) -> Vec<Option<(f64, Vec<usize>)>> {
    let n = sites_in.len();
    let size = 1usize << n;
    let vehicle = &p.vehicles[v];
    let window = vehicle.day_end - vehicle.day_start;
    let allowed: Vec<bool> = sites_in
        .iter()
        .map(|&s| p.barrier[s][d].is_none())
        .collect();
    let node = |i: usize| p.node(sites_in[i]);
    let donors_of = |i: usize| p.donors(v, sites_in[i], d);
    // km[mask][last]: the shortest path from the station through `mask` ending at `last`.
    let mut km = vec![f64::INFINITY; size * n.max(1)];
    let mut parent = vec![usize::MAX; size * n.max(1)];
    for s in 0..n {
        if allowed[s] {
            km[(1 << s) * n + s] = p.km(vehicle.station, node(s));
        }
    }
    for mask in 1..size {
        for last in 0..n {
            let here = km[mask * n + last];
            if !here.is_finite() {
                continue;
            }
            for next in 0..n {
                if mask & (1 << next) != 0 || !allowed[next] {
                    continue;
                }
                let m2 = mask | (1 << next);
                let c = here + p.km(node(last), node(next));
                if c < km[m2 * n + next] {
                    km[m2 * n + next] = c;
                    parent[m2 * n + next] = last;
                }
            }
        }
    }
    let mut table = vec![None; size];
    for mask in 1..size {
        let sites: Vec<usize> = (0..n).filter(|s| mask & (1 << s) != 0).collect();
        if sites.iter().any(|&s| !allowed[s]) {
            continue;
        }
        let donors: f64 = sites.iter().map(|&s| donors_of(s)).sum();
        if donors > vehicle.max_donors + 1e-9 {
            continue;
        }
        let Some((last, tour_km)) = sites
            .iter()
            .map(|&l| (l, km[mask * n + l] + p.km(node(l), vehicle.station)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        else {
            continue;
        };
        let mut order = Vec::with_capacity(sites.len());
        let (mut m, mut at) = (mask, last);
        loop {
            order.push(at);
            let prev = parent[m * n + at];
            m &= !(1 << at);
            if prev == usize::MAX {
                break;
            }
            at = prev;
        }
        order.reverse();
        // Time along this (shortest) tour.
        let mut t = 0.0;
        let mut from = vehicle.station;
        for &s in &order {
            t += p.minutes(from, node(s)) + p.stay(v, donors_of(s));
            from = node(s);
        }
        t += p.minutes(from, vehicle.station);
        if t > window {
            continue;
        }
        let value = donors * p.ml_per_donor - tour_km * vehicle.ml_per_km;
        table[mask] = Some((value, order.into_iter().map(|i| sites_in[i]).collect()));
    }
    table
}
