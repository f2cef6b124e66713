//! An exact solver for tiny instances (up to 16 sites), to measure how far the planner is from
//! the optimum. Every subset of sites is a possible route: its best order comes from the
//! Held-Karp recursion, and a second recursion over the routes picks disjoint subsets with the
//! highest total. Exponential: 12 sites and 6 vehicle-days take milliseconds, 16 sites about a
//! second.
//!
//! It assumes what the benchmark instances satisfy: each site is visited at most once in the
//! plan, and no fixed stops. With the straight-line travel model time grows with distance, so
//! the shortest order of a subset is also the quickest and one path per (subset, last site)
//! is enough. With a travel matrix a longer order may be quicker and keep the working window
//! when the shortest does not, so every path that is shorter or quicker than all others is
//! kept (a Pareto front per subset and last site) and the shortest one that keeps the window
//! is taken.

use crate::planning::instance::{PLAN_FORMAT, PlanInput, RouteInput, StopInput, Travel};
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
    if !matches!(p.instance.travel, Travel::StraightLine { .. }) {
        return route_table_pareto(p, v, d, sites_in);
    }
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
    let worth_of = |i: usize| p.worth(v, sites_in[i], d);
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
            t += p.minutes(from, node(s)) + p.stay(v, sites_in[s], donors_of(s));
            from = node(s);
        }
        t += p.minutes(from, vehicle.station);
        if t > window {
            continue;
        }
        let worth: f64 = order.iter().map(|&s| worth_of(s)).sum();
        let value = worth - tour_km * vehicle.ml_per_km;
        table[mask] = Some((value, order.into_iter().map(|i| sites_in[i]).collect()));
    }
    table
}

/// A path from the station through some sites: its km and travel minutes, and where it came
/// from (the previous site and the index of its label there; `usize::MAX` at the first stop).
#[derive(Clone, Copy)]
struct Label {
    km: f64,
    minutes: f64,
    prev: usize,
    prev_label: usize,
}

/// [`route_table`] when time need not follow distance (a travel matrix): per (subset, last
/// site) every path that no other path beats on both km and travel minutes, so that the
/// shortest order keeping the working window is found even when the shortest order does not
/// keep it.
fn route_table_pareto(p: &Problem, v: usize, d: usize, sites_in: &[usize]) -> RouteTable {
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
    let worth_of = |i: usize| p.worth(v, sites_in[i], d);
    let stay: Vec<f64> = (0..n)
        .map(|i| p.stay(v, sites_in[i], donors_of(i)))
        .collect();
    let mut stays = vec![0.0f64; size];
    for mask in 1..size {
        let low = mask.trailing_zeros() as usize;
        stays[mask] = stays[mask & (mask - 1)] + stay[low];
    }
    let mut labels: Vec<Vec<Label>> = vec![Vec::new(); size * n.max(1)];
    for s in 0..n {
        let minutes = p.minutes(vehicle.station, node(s));
        if allowed[s] && minutes + stay[s] <= window {
            labels[(1 << s) * n + s].push(Label {
                km: p.km(vehicle.station, node(s)),
                minutes,
                prev: usize::MAX,
                prev_label: usize::MAX,
            });
        }
    }
    for mask in 1..size {
        for last in 0..n {
            if labels[mask * n + last].is_empty() {
                continue;
            }
            for next in 0..n {
                if mask & (1 << next) != 0 || !allowed[next] {
                    continue;
                }
                let m2 = mask | (1 << next);
                let (leg_km, leg_minutes) = (
                    p.km(node(last), node(next)),
                    p.minutes(node(last), node(next)),
                );
                for k in 0..labels[mask * n + last].len() {
                    let from = labels[mask * n + last][k];
                    let new = Label {
                        km: from.km + leg_km,
                        minutes: from.minutes + leg_minutes,
                        prev: last,
                        prev_label: k,
                    };
                    // Even without the way back it would not fit the day.
                    if new.minutes + stays[m2] > window {
                        continue;
                    }
                    let front = &mut labels[m2 * n + next];
                    if front
                        .iter()
                        .any(|l| l.km <= new.km && l.minutes <= new.minutes)
                    {
                        continue;
                    }
                    front.retain(|l| !(new.km <= l.km && new.minutes <= l.minutes));
                    front.push(new);
                }
            }
        }
    }
    let mut table = vec![None; size];
    for mask in 1..size {
        let sites: Vec<usize> = (0..n).filter(|s| mask & (1 << s) != 0).collect();
        let donors: f64 = sites.iter().map(|&s| donors_of(s)).sum();
        if donors > vehicle.max_donors + 1e-9 {
            continue;
        }
        // Every complete tour, shortest first; the first whose time, added up stop by stop
        // as plan check does, keeps the window.
        let mut tours: Vec<(f64, usize, usize)> = Vec::new();
        for &last in &sites {
            for (k, l) in labels[mask * n + last].iter().enumerate() {
                let back = p.minutes(node(last), vehicle.station);
                if l.minutes + back + stays[mask] <= window + 1e-9 {
                    tours.push((l.km + p.km(node(last), vehicle.station), last, k));
                }
            }
        }
        tours.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (tour_km, last, k) in tours {
            let mut order = Vec::with_capacity(sites.len());
            let (mut m, mut at, mut label) = (mask, last, k);
            loop {
                order.push(at);
                let l = labels[m * n + at][label];
                m &= !(1 << at);
                if l.prev == usize::MAX {
                    break;
                }
                (at, label) = (l.prev, l.prev_label);
            }
            order.reverse();
            let mut t = 0.0;
            let mut from = vehicle.station;
            for &s in &order {
                t += p.minutes(from, node(s)) + stay[s];
                from = node(s);
            }
            t += p.minutes(from, vehicle.station);
            if t > window {
                continue;
            }
            let worth: f64 = order.iter().map(|&s| worth_of(s)).sum();
            let value = worth - tour_km * vehicle.ml_per_km;
            table[mask] = Some((value, order.into_iter().map(|i| sites_in[i]).collect()));
            break;
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    use super::*;
    use crate::planning::evaluate;
    use crate::planning::instance::Instance;
    use crate::planning::testing::{site, with_matrix};

    fn objective(p: &Problem, plan: &PlanInput) -> f64 {
        let checked = evaluate::check(p, plan);
        assert!(checked.is_feasible(), "{:?}", checked.violations);
        checked.totals.objective
    }

    /// One vehicle, one day: station -> A -> B -> station is 3 km but 300 minutes, the other
    /// way round 6 km and 30 minutes. Each stop takes 20 + 10 x 15 / 5 + 10 = 60 minutes, and
    /// the day (08:00-12:00) 240: only the longer order fits both stops in.
    fn shortest_order_too_slow() -> Instance {
        let mut instance = with_matrix(1, vec![site("A", &[10.0]), site("B", &[10.0])], &[]);
        instance.vehicles[0].day_end = 12 * 60;
        let Travel::Matrix { km, minutes, .. } = &mut instance.travel else {
            unreachable!()
        };
        // ids: st, A, B.
        *km = vec![
            vec![0.0, 1.0, 2.0],
            vec![2.0, 0.0, 1.0],
            vec![1.0, 2.0, 0.0],
        ];
        *minutes = vec![
            vec![0.0, 100.0, 10.0],
            vec![10.0, 0.0, 100.0],
            vec![100.0, 10.0, 0.0],
        ];
        instance
    }

    #[test]
    fn with_a_matrix_the_quicker_order_is_taken_when_the_shortest_does_not_fit() {
        let p = Problem::new(shortest_order_too_slow()).unwrap();
        let (plan, value) = solve(&p).unwrap();
        let stops: Vec<&str> = plan.routes[0]
            .stops
            .iter()
            .map(|s| s.site.as_str())
            .collect();
        assert_eq!(stops, ["B", "A"]);
        // 20 donors x 400 mL - 6 km x 3 yuan x 1.5 mL a yuan.
        assert!((value - (8000.0 - 27.0)).abs() < 1e-6, "{value}");
        assert!((objective(&p, &plan) - value).abs() < 1e-6);
    }

    /// The best plan by trying every order of every subset of sites on each route.
    fn brute_force(p: &Problem) -> f64 {
        let n = p.n_sites();
        let routes: Vec<(String, chrono::NaiveDate)> = p
            .instance
            .days
            .iter()
            .flat_map(|d| p.instance.vehicles.iter().map(|v| (v.id.clone(), *d)))
            .collect();
        // Each site goes to no route (0) or to route k + 1; every order of each route.
        fn orders(sites: &[usize]) -> Vec<Vec<usize>> {
            if sites.is_empty() {
                return vec![Vec::new()];
            }
            let mut all = Vec::new();
            for i in 0..sites.len() {
                let mut rest = sites.to_vec();
                let first = rest.remove(i);
                for mut tail in orders(&rest) {
                    tail.insert(0, first);
                    all.push(tail);
                }
            }
            all
        }
        let mut best = 0.0f64;
        let choices = routes.len() + 1;
        for code in 0..choices.pow(n as u32) {
            let mut groups = vec![Vec::new(); routes.len()];
            let mut c = code;
            for s in 0..n {
                if c % choices > 0 {
                    groups[c % choices - 1].push(s);
                }
                c /= choices;
            }
            let per_route: Vec<Vec<Vec<usize>>> = groups.iter().map(|g| orders(g)).collect();
            let mut pick = vec![0usize; routes.len()];
            loop {
                let plan = PlanInput {
                    format: None,
                    routes: routes
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| !groups[*k].is_empty())
                        .map(|(k, (vehicle, date))| RouteInput {
                            vehicle: vehicle.clone(),
                            date: *date,
                            depart: None,
                            stops: per_route[k][pick[k]]
                                .iter()
                                .map(|&s| StopInput {
                                    site: p.instance.sites[s].id.clone(),
                                    start: None,
                                })
                                .collect(),
                        })
                        .collect(),
                };
                let checked = evaluate::check(p, &plan);
                if checked.is_feasible() {
                    best = best.max(checked.totals.objective);
                }
                let mut k = 0;
                while k < pick.len() {
                    pick[k] += 1;
                    if pick[k] < per_route[k].len() {
                        break;
                    }
                    pick[k] = 0;
                    k += 1;
                }
                if k == pick.len() {
                    break;
                }
            }
        }
        best
    }

    #[test]
    fn with_random_matrices_the_optimum_is_the_brute_force_optimum() {
        for seed in 0..30u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let n = rng.random_range(3..=5usize);
            let days = rng.random_range(1..=2usize);
            let sites = (0..n)
                .map(|i| {
                    let expected: Vec<f64> = (0..days)
                        .map(|_| f64::from(rng.random_range(5..40u32)))
                        .collect();
                    site(&format!("s{i}"), &expected)
                })
                .collect();
            let mut instance = with_matrix(days, sites, &[]);
            if seed % 2 == 1 {
                // v2: values apart from the donors (the load), extra minutes at some sites.
                for site in &mut instance.sites {
                    site.value = Some(
                        site.expected
                            .iter()
                            .map(|e| e * 400.0 * rng.random_range(0.5..3.0))
                            .collect(),
                    );
                    site.extra_service_min = Some(f64::from(rng.random_range(0..40u32)));
                }
            }
            // With values, a lower capacity so that some stops take fewer than expected.
            instance.vehicles[0].max_donors = if seed % 2 == 1 { 30 } else { 80 };
            instance.vehicles[0].day_end = 13 * 60;
            let Travel::Matrix { km, minutes, .. } = &mut instance.travel else {
                unreachable!()
            };
            // Asymmetric, and time not following distance.
            for i in 0..=n {
                for j in 0..=n {
                    if i != j {
                        km[i][j] = f64::from(rng.random_range(1..30u32));
                        minutes[i][j] = f64::from(rng.random_range(5..120u32));
                    }
                }
            }
            let p = Problem::new(instance).unwrap();
            let (plan, value) = solve(&p).unwrap();
            let checked = objective(&p, &plan);
            assert!(
                (checked - value).abs() < 1e-3,
                "seed {seed}: {checked} vs {value}"
            );
            let truth = brute_force(&p);
            assert!(
                (value - truth).abs() < 1e-3,
                "seed {seed}: exact {value}, brute force {truth}"
            );
        }
    }
}
