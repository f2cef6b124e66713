//! The multi-day planner: which vehicle visits which sites on which day, in which order.
//!
//! It is a prize-collecting vehicle routing problem over many days: every (vehicle, day) is a
//! route from the vehicle's station and back within the working window and the day's donor
//! capacity; a stop's prize is what it is worth on that day (its site's `value`, by default its
//! expected donors in millilitres: market days and weekends draw more), less the travel it adds.
//! The load a stop puts on the vehicle is its donors, apart from its worth: a site with a high
//! value but few donors is preferred to one with many donors worth less. The method is adaptive large neighbourhood
//! search:
//!
//! 1. **Construction.** Fixed stops first, then cheapest-first greedy insertion: repeatedly the
//!    (site, route, position) with the highest gain per minute of the day it uses.
//! 2. **Improvement.** Each iteration removes a few stops (at random, a spatial cluster, the
//!    weakest, or whole routes), reinserts greedily from the removed sites and the unscheduled
//!    sites near them (with noise, by gain or gain per minute), re-orders the changed routes
//!    exactly when short (Held-Karp) or by 2-opt, and accepts the result by simulated
//!    annealing; the best plan seen is kept. Operators that produced improvements are chosen
//!    more often (adaptive weights).
//! 3. **Finish.** A last greedy pass inserts anything that still fits at a gain.
//!
//! The search is single-threaded and driven by a seeded generator and an iteration budget, so
//! the same instance and seed give the same plan. A time limit stops it early if reached
//! (then the plan depends on the machine's speed, and the result says so).

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use crate::planning::evaluate::{self, CheckedPlan};
use crate::planning::exact;
use crate::planning::instance::{PLAN_FORMAT, PlanInput, RouteInput, StopInput};
use crate::planning::problem::{Barrier, Problem};

/// How long to search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SolveOptions {
    pub seed: u64,
    /// Improvement iterations; `None` picks a budget from the instance's size.
    pub iterations: Option<u64>,
    /// Stop early after this long.
    pub time_limit: Duration,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            seed: 1,
            iterations: None,
            time_limit: Duration::from_secs(60),
        }
    }
}

/// Why the search stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    Iterations,
    TimeLimit,
}

/// What the search did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SolveStats {
    pub seed: u64,
    pub iterations: u64,
    pub iteration_budget: u64,
    pub stopped_by: StoppedBy,
    pub seconds: f64,
    pub construction_objective: f64,
}

/// Why a candidate is not in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    Forbidden,
    IntervalNotElapsed,
    BelowMinimumDonors,
    NoVehicleAvailable,
    NoDayWithEnoughTime,
    NotWorthTheTravel,
    DisplacedByBetterStops,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unscheduled {
    pub site: String,
    pub name: String,
    pub reason: ReasonKind,
    /// The reason in words.
    pub message: String,
    /// The site's best day (where a stop is worth the most among the days it could be
    /// visited), if any, and the donors expected then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_date: Option<chrono::NaiveDate>,
    pub best_expected: f64,
}

/// A solved plan: the checked plan, the candidates left out and why, and the search figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Solved {
    #[serde(flatten)]
    pub plan: CheckedPlan,
    pub unscheduled: Vec<Unscheduled>,
    pub solver: SolveStats,
}

/// Progress reports: (iterations done, budget, best objective so far).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, f64);

/// Solves `problem`.
pub fn solve(problem: &Problem, options: &SolveOptions, progress: Option<Progress<'_>>) -> Solved {
    let started = Instant::now();
    let mut search = Search::new(problem, options.seed);
    search.construct();
    let construction_objective = search.state.objective();
    let budget = options
        .iterations
        .unwrap_or_else(|| default_iterations(problem));
    let (iterations, mut stopped_by) =
        search.improve(budget, started, options.time_limit, progress);
    search.deadline = Some(started + options.time_limit);
    let mut best = search.best.clone();
    search.state = best.clone();
    if !search.fill() {
        stopped_by = StoppedBy::TimeLimit;
    }
    if search.state.objective() > best.objective() {
        best = search.state.clone();
    }
    let plan_input = best.to_plan(problem);
    let plan = evaluate::check(problem, &plan_input);
    let unscheduled = reasons(problem, &best);
    Solved {
        plan,
        unscheduled,
        solver: SolveStats {
            seed: options.seed,
            iterations,
            iteration_budget: budget,
            stopped_by,
            seconds: started.elapsed().as_secs_f64(),
            construction_objective,
        },
    }
}

/// The default budget: enough for the search to settle on the benchmark's sizes, in a few
/// seconds on a small machine.
pub fn default_iterations(problem: &Problem) -> u64 {
    let routes = (problem.vehicles.len() * problem.n_days) as u64;
    let sites = problem.n_sites() as u64;
    (2_000 + 40 * routes * 10 + 10 * sites).min(60_000)
}

const EPS: f64 = 1e-9;

#[derive(Clone, Debug)]
struct Route {
    v: usize,
    d: usize,
    stops: Vec<usize>,
    /// Minutes from leaving the station to being back.
    duration: f64,
    donors: f64,
    /// What the stops are worth (mL), apart from the donors they load the vehicle with.
    worth: f64,
    km: f64,
}

#[derive(Clone, Debug)]
struct State {
    routes: Vec<Route>,
    /// The routes each site is visited on.
    visits: Vec<Vec<usize>>,
    fixed: Vec<bool>,
    ml_per_km: Vec<f64>,
}

impl State {
    fn objective(&self) -> f64 {
        self.routes
            .iter()
            .map(|r| r.worth - r.km * self.ml_per_km[r.v])
            .sum()
    }

    fn to_plan(&self, problem: &Problem) -> PlanInput {
        let instance = &problem.instance;
        PlanInput {
            format: Some(PLAN_FORMAT.to_owned()),
            routes: self
                .routes
                .iter()
                .filter(|r| !r.stops.is_empty())
                .map(|r| RouteInput {
                    vehicle: instance.vehicles[r.v].id.clone(),
                    date: instance.days[r.d],
                    depart: None,
                    stops: r
                        .stops
                        .iter()
                        .map(|&s| StopInput {
                            site: instance.sites[s].id.clone(),
                            start: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// An insertion: site into route at position, its gain (mL) and the minutes it adds.
#[derive(Clone, Copy, Debug)]
struct Insertion {
    site: usize,
    route: usize,
    pos: usize,
    gain: f64,
    minutes: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Destroy {
    Random,
    Related,
    Worst,
    Routes,
}

const DESTROYS: [Destroy; 4] = [
    Destroy::Random,
    Destroy::Related,
    Destroy::Worst,
    Destroy::Routes,
];

struct Search<'p> {
    p: &'p Problem,
    rng: Pcg64Mcg,
    state: State,
    best: State,
    /// Per site, the nearest other sites.
    near: Vec<Vec<usize>>,
    /// Per day, sites by value (what a stop taking every expected donor is worth), most first
    /// (allowed ones only).
    by_prize: Vec<Vec<usize>>,
    /// Window length per route, minutes.
    window: Vec<f64>,
    weights: [f64; 4],
    /// When the final local search must stop (the time limit).
    deadline: Option<Instant>,
}

const NEAR: usize = 24;

impl<'p> Search<'p> {
    fn new(p: &'p Problem, seed: u64) -> Self {
        let n_vehicles = p.vehicles.len();
        let mut routes = Vec::with_capacity(p.n_days * n_vehicles);
        let mut window = Vec::with_capacity(p.n_days * n_vehicles);
        for d in 0..p.n_days {
            for (v, vehicle) in p.vehicles.iter().enumerate() {
                routes.push(Route {
                    v,
                    d,
                    stops: Vec::new(),
                    duration: 0.0,
                    donors: 0.0,
                    worth: 0.0,
                    km: 0.0,
                });
                window.push(if vehicle.available[d] {
                    vehicle.day_end - vehicle.day_start
                } else {
                    -1.0
                });
            }
        }
        let n = p.n_sites();
        let mut fixed = vec![false; n];
        for &(s, _, _) in &p.fixed {
            fixed[s] = true;
        }
        let near = (0..n)
            .map(|s| {
                let mut others: Vec<(f64, usize)> = (0..n)
                    .filter(|&o| o != s)
                    .map(|o| (p.km(p.node(s), p.node(o)), o))
                    .collect();
                let k = NEAR.min(others.len());
                if k > 0 && k < others.len() {
                    others.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
                }
                others.truncate(k);
                others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                others.into_iter().map(|(_, o)| o).collect()
            })
            .collect();
        let by_prize = (0..p.n_days)
            .map(|d| {
                let mut sites: Vec<usize> = (0..n).filter(|&s| p.barrier[s][d].is_none()).collect();
                sites.sort_by(|&a, &b| p.value[b][d].total_cmp(&p.value[a][d]).then(a.cmp(&b)));
                sites
            })
            .collect();
        let state = State {
            routes,
            visits: vec![Vec::new(); n],
            fixed,
            ml_per_km: p.vehicles.iter().map(|v| v.ml_per_km).collect(),
        };
        Search {
            p,
            rng: Pcg64Mcg::seed_from_u64(seed),
            best: state.clone(),
            state,
            near,
            by_prize,
            window,
            weights: [1.0; 4],
            deadline: None,
        }
    }

    /// May site `s` be visited on route `r` at all (ignoring time and capacity)?
    fn allowed(&self, s: usize, r: usize) -> bool {
        let route = &self.state.routes[r];
        self.window[r] >= 0.0
            && self.p.barrier[s][route.d].is_none()
            && self.state.visits[s]
                .iter()
                .all(|&o| self.p.far_enough(self.state.routes[o].d, route.d))
    }

    /// The best place for `s` in route `r`, if it fits.
    fn best_insertion(&self, s: usize, r: usize) -> Option<Insertion> {
        if !self.allowed(s, r) {
            return None;
        }
        let p = self.p;
        let route = &self.state.routes[r];
        let donors = p.donors(route.v, s, route.d);
        if route.donors + donors > p.vehicles[route.v].max_donors + EPS {
            return None;
        }
        let stay = p.stay(route.v, s, donors);
        let slack = self.window[r] - route.duration - stay;
        if slack < 0.0 {
            return None;
        }
        let node = p.node(s);
        let station = p.vehicles[route.v].station;
        let mut best: Option<(f64, f64, usize)> = None;
        let len = route.stops.len();
        for pos in 0..=len {
            let prev = if pos == 0 {
                station
            } else {
                p.node(route.stops[pos - 1])
            };
            let next = if pos == len {
                station
            } else {
                p.node(route.stops[pos])
            };
            let (dt, dk) = if len == 0 {
                (
                    p.minutes(station, node) + p.minutes(node, station),
                    p.km(station, node) + p.km(node, station),
                )
            } else {
                (
                    p.minutes(prev, node) + p.minutes(node, next) - p.minutes(prev, next),
                    p.km(prev, node) + p.km(node, next) - p.km(prev, next),
                )
            };
            if dt > slack {
                continue;
            }
            if best.is_none_or(|(k, _, _)| dk < k) {
                best = Some((dk, dt, pos));
            }
        }
        let (dk, dt, pos) = best?;
        Some(Insertion {
            site: s,
            route: r,
            pos,
            gain: p.worth_of(s, route.d, donors) - dk * self.p.vehicles[route.v].ml_per_km,
            minutes: dt + stay,
        })
    }

    fn insert(&mut self, ins: Insertion) {
        let route = &mut self.state.routes[ins.route];
        route.stops.insert(ins.pos, ins.site);
        self.state.visits[ins.site].push(ins.route);
        self.recompute(ins.route);
    }

    fn remove(&mut self, r: usize, pos: usize) -> usize {
        let s = self.state.routes[r].stops.remove(pos);
        self.state.visits[s].retain(|&o| o != r);
        self.recompute(r);
        s
    }

    fn recompute(&mut self, r: usize) {
        let p = self.p;
        let route = &mut self.state.routes[r];
        let station = p.vehicles[route.v].station;
        let (mut t, mut km, mut donors, mut worth) = (0.0, 0.0, 0.0, 0.0);
        let mut at = station;
        for &s in &route.stops {
            let node = p.node(s);
            let dn = p.donors(route.v, s, route.d);
            t += p.minutes(at, node) + p.stay(route.v, s, dn);
            km += p.km(at, node);
            donors += dn;
            worth += p.worth_of(s, route.d, dn);
            at = node;
        }
        if !route.stops.is_empty() {
            t += p.minutes(at, station);
            km += p.km(at, station);
        }
        route.duration = t;
        route.km = km;
        route.donors = donors;
        route.worth = worth;
    }

    /// The routes of available vehicle-days.
    fn route_ids(&self) -> Vec<usize> {
        (0..self.window.len())
            .filter(|&r| self.window[r] >= 0.0)
            .collect()
    }

    fn construct(&mut self) {
        // Fixed stops first, each where it fits best (or at the end of its day's route when it
        // fits nowhere: plan check then reports what it breaks).
        for k in 0..self.p.fixed.len() {
            let (s, d, v) = self.p.fixed[k];
            let n_vehicles = self.p.vehicles.len();
            let candidates: Vec<usize> = (0..n_vehicles)
                .filter(|&x| v.is_none_or(|v| v == x))
                .map(|x| d * n_vehicles + x)
                .collect();
            let best = candidates
                .iter()
                .filter_map(|&r| self.best_insertion(s, r))
                .max_by(|a, b| a.gain.total_cmp(&b.gain));
            let ins = best.unwrap_or_else(|| {
                let r = candidates[0];
                Insertion {
                    site: s,
                    route: r,
                    pos: self.state.routes[r].stops.len(),
                    gain: 0.0,
                    minutes: 0.0,
                }
            });
            self.insert(ins);
        }
        let sites: Vec<usize> = (0..self.p.n_sites())
            .filter(|&s| !self.state.fixed[s])
            .collect();
        let routes = self.route_ids();
        self.greedy(&sites, &routes, 0.0, true);
        self.improve_order_all();
        self.best = self.state.clone();
    }

    /// Greedy insertion of `sites` into `routes` until nothing fits at a gain. Scores by gain
    /// per minute used (`per_minute`) or by gain, each multiplied by a random factor within
    /// `noise`.
    fn greedy(&mut self, sites: &[usize], routes: &[usize], noise: f64, per_minute: bool) {
        let mut pending: Vec<usize> = sites
            .iter()
            .copied()
            .filter(|&s| !self.p.single_visit() || self.state.visits[s].is_empty())
            .collect();
        pending.sort_unstable();
        pending.dedup();
        // table[i][j]: best insertion of pending[i] into routes[j].
        let mut table: Vec<Vec<Option<(Insertion, f64)>>> = pending
            .iter()
            .map(|&s| {
                routes
                    .iter()
                    .map(|&r| self.scored(s, r, noise, per_minute))
                    .collect()
            })
            .collect();
        loop {
            let mut pick: Option<(usize, usize, f64)> = None;
            for (i, row) in table.iter().enumerate() {
                for (j, cell) in row.iter().enumerate() {
                    if let Some((ins, score)) = cell
                        && ins.gain > EPS
                        && pick.is_none_or(|(_, _, best)| *score > best)
                    {
                        pick = Some((i, j, *score));
                    }
                }
            }
            let Some((i, j, _)) = pick else { break };
            let ins = table[i][j].expect("picked").0;
            self.insert(ins);
            let single = self.p.single_visit();
            if single {
                table.swap_remove(i);
                pending.swap_remove(i);
            } else {
                for (jj, &r) in routes.iter().enumerate() {
                    table[i][jj] = self.scored(pending[i], r, noise, per_minute);
                }
            }
            for (ii, &s) in pending.iter().enumerate() {
                table[ii][j] = self.scored(s, routes[j], noise, per_minute);
            }
        }
    }

    fn scored(
        &mut self,
        s: usize,
        r: usize,
        noise: f64,
        per_minute: bool,
    ) -> Option<(Insertion, f64)> {
        let ins = self.best_insertion(s, r)?;
        let base = if per_minute {
            ins.gain / ins.minutes.max(1.0)
        } else {
            ins.gain
        };
        let factor = if noise > 0.0 {
            1.0 + self.rng.random_range(-noise..=noise)
        } else {
            1.0
        };
        Some((ins, base * factor))
    }

    fn improve(
        &mut self,
        budget: u64,
        started: Instant,
        limit: Duration,
        mut progress: Option<Progress<'_>>,
    ) -> (u64, StoppedBy) {
        let stops_total: usize = self.state.routes.iter().map(|r| r.stops.len()).sum();
        if stops_total == 0 && self.p.n_sites() == 0 {
            return (0, StoppedBy::Iterations);
        }
        let mut current_obj = self.state.objective();
        let mut best_obj = current_obj;
        // The temperature's scale: a donor's worth (the highest rate when values are given
        // without an `ml_per_donor`).
        let per_donor = if self.p.ml_per_donor > 0.0 {
            self.p.ml_per_donor
        } else {
            self.p.max_rate
        };
        let start_temp = per_donor * 2.0;
        let mut scores = [0.0f64; 4];
        let mut uses = [0u32; 4];
        for it in 0..budget {
            if it % 64 == 0 {
                if started.elapsed() > limit {
                    return (it, StoppedBy::TimeLimit);
                }
                if let Some(report) = progress.as_mut()
                    && it % 1024 == 0
                {
                    report(it, budget, best_obj);
                }
            }
            let temp = start_temp * (1.0 - it as f64 / budget as f64);
            let saved = self.state.clone();
            let op = self.pick_destroy();
            let (removed, touched) = self.destroy(op);
            self.repair(&removed, &touched);
            let obj = self.state.objective();
            let accept = obj > current_obj + EPS
                || (temp > EPS && self.rng.random::<f64>() < ((obj - current_obj) / temp).exp());
            let k = DESTROYS.iter().position(|d| *d == op).expect("known");
            uses[k] += 1;
            if obj > best_obj + EPS {
                best_obj = obj;
                self.best = self.state.clone();
                scores[k] += 5.0;
            } else if obj > current_obj + EPS {
                scores[k] += 2.0;
            } else if accept {
                scores[k] += 0.5;
            }
            if accept {
                current_obj = obj;
            } else {
                self.state = saved;
            }
            if it % 200 == 199 {
                for k in 0..4 {
                    if uses[k] > 0 {
                        self.weights[k] = (0.7 * self.weights[k]
                            + 0.3 * scores[k] / f64::from(uses[k]))
                        .max(0.05);
                    }
                }
                scores = [0.0; 4];
                uses = [0; 4];
            }
        }
        if let Some(report) = progress.as_mut() {
            report(budget, budget, best_obj);
        }
        (budget, StoppedBy::Iterations)
    }

    fn pick_destroy(&mut self) -> Destroy {
        let total: f64 = self.weights.iter().sum();
        let mut x = self.rng.random::<f64>() * total;
        for (k, w) in self.weights.iter().enumerate() {
            if x < *w {
                return DESTROYS[k];
            }
            x -= w;
        }
        DESTROYS[3]
    }

    /// Removes some stops; returns the removed sites and the routes changed.
    fn destroy(&mut self, op: Destroy) -> (Vec<usize>, Vec<usize>) {
        let stops: Vec<(usize, usize)> = self
            .state
            .routes
            .iter()
            .enumerate()
            .flat_map(|(r, route)| route.stops.iter().map(move |&s| (r, s)))
            .filter(|&(_, s)| !self.state.fixed[s])
            .collect();
        if stops.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let max_q = (stops.len() / 5).clamp(1, 12);
        let q = self.rng.random_range(1..=max_q);
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        match op {
            Destroy::Random => {
                let mut pool = stops.clone();
                for _ in 0..q {
                    let i = self.rng.random_range(0..pool.len());
                    chosen.push(pool.swap_remove(i));
                }
            }
            Destroy::Related => {
                let (r0, s0) = stops[self.rng.random_range(0..stops.len())];
                chosen.push((r0, s0));
                for &o in &self.near[s0] {
                    if chosen.len() >= q {
                        break;
                    }
                    for &r in &self.state.visits[o] {
                        if !self.state.fixed[o] && !chosen.contains(&(r, o)) {
                            chosen.push((r, o));
                        }
                    }
                }
            }
            Destroy::Worst => {
                let mut scored: Vec<(f64, (usize, usize))> = stops
                    .iter()
                    .map(|&(r, s)| {
                        let route = &self.state.routes[r];
                        let dn = self.p.donors(route.v, s, route.d);
                        let per_min = self.p.worth_of(s, route.d, dn) / self.p.stay(route.v, s, dn);
                        let jitter = 1.0 + 0.3 * self.rng.random::<f64>();
                        (per_min * jitter, (r, s))
                    })
                    .collect();
                scored.sort_by(|a, b| a.0.total_cmp(&b.0));
                chosen.extend(scored.into_iter().take(q).map(|(_, x)| x));
            }
            Destroy::Routes => {
                let used: Vec<usize> = (0..self.state.routes.len())
                    .filter(|&r| {
                        self.state.routes[r]
                            .stops
                            .iter()
                            .any(|&s| !self.state.fixed[s])
                    })
                    .collect();
                let k = self.rng.random_range(1..=2.min(used.len()));
                let mut pool = used;
                for _ in 0..k {
                    let r = pool.swap_remove(self.rng.random_range(0..pool.len()));
                    for &s in &self.state.routes[r].stops {
                        if !self.state.fixed[s] {
                            chosen.push((r, s));
                        }
                    }
                }
            }
        }
        let mut touched = Vec::new();
        let mut removed = Vec::new();
        for (r, s) in chosen {
            if let Some(pos) = self.state.routes[r].stops.iter().position(|&x| x == s) {
                self.remove(r, pos);
                removed.push(s);
                if !touched.contains(&r) {
                    touched.push(r);
                }
            }
        }
        (removed, touched)
    }

    fn repair(&mut self, removed: &[usize], touched: &[usize]) {
        // Candidates: the removed sites, unscheduled sites near them and near the changed
        // routes' stops, and a few of each changed day's richest unscheduled sites.
        let mut candidates: Vec<usize> = removed.to_vec();
        let unscheduled = |st: &State, s: usize| st.visits[s].is_empty();
        for &s in removed {
            for &o in self.near[s].iter().take(12) {
                if unscheduled(&self.state, o) {
                    candidates.push(o);
                }
            }
        }
        for &r in touched {
            let route = &self.state.routes[r];
            for &s in &route.stops {
                for &o in self.near[s].iter().take(6) {
                    if unscheduled(&self.state, o) {
                        candidates.push(o);
                    }
                }
            }
            let d = route.d;
            let mut taken = 0;
            for &s in &self.by_prize[d] {
                if taken >= 8 {
                    break;
                }
                if unscheduled(&self.state, s) && self.rng.random::<f64>() < 0.5 {
                    candidates.push(s);
                    taken += 1;
                }
            }
        }
        if !self.p.single_visit() {
            // Sites may be visited again: any of them may go anywhere allowed.
            candidates.extend(removed.iter().copied());
        }
        // Removed sites may go to any route; the others only to the changed routes and their
        // neighbours' routes.
        let mut routes: Vec<usize> = touched.to_vec();
        for &s in removed {
            for &o in self.near[s].iter().take(6) {
                routes.extend(self.state.visits[o].iter().copied());
            }
        }
        let extra = self.rng.random_range(0..3);
        let usable = self.route_ids();
        for _ in 0..extra.min(usable.len()) {
            routes.push(usable[self.rng.random_range(0..usable.len())]);
        }
        routes.sort_unstable();
        routes.dedup();
        let per_minute = self.rng.random::<f64>() < 0.5;
        let noise = if self.rng.random::<f64>() < 0.5 {
            0.0
        } else {
            0.15
        };
        self.greedy(&candidates, &routes, noise, per_minute);
        for &r in &routes {
            self.improve_order(r);
        }
        // Shorter routes may now take one more stop.
        self.greedy(&candidates, &routes, 0.0, per_minute);
    }

    /// (duration, km, donors, worth) of vehicle `v`'s day `d` through `seq`.
    fn measure(&self, v: usize, d: usize, seq: &[usize]) -> (f64, f64, f64, f64) {
        let p = self.p;
        let station = p.vehicles[v].station;
        let (mut t, mut km, mut donors, mut worth) = (0.0, 0.0, 0.0, 0.0);
        let mut at = station;
        for &s in seq {
            let node = p.node(s);
            let dn = p.donors(v, s, d);
            t += p.minutes(at, node) + p.stay(v, s, dn);
            km += p.km(at, node);
            donors += dn;
            worth += p.worth_of(s, d, dn);
            at = node;
        }
        if !seq.is_empty() {
            t += p.minutes(at, station);
            km += p.km(at, station);
        }
        (t, km, donors, worth)
    }

    /// The value (mL) of route `r` through `seq` in the best order found, if it keeps the
    /// working window and capacity: the given order, else the shortest one (up to 9 stops).
    fn best_feasible(&self, r: usize, mut seq: Vec<usize>) -> Option<(f64, Vec<usize>)> {
        let route = &self.state.routes[r];
        let (v, d) = (route.v, route.d);
        let vehicle = &self.p.vehicles[v];
        let (t, km, donors, worth) = self.measure(v, d, &seq);
        if donors > vehicle.max_donors + EPS {
            return None;
        }
        let value = |km: f64| worth - km * vehicle.ml_per_km;
        if t <= self.window[r] {
            return Some((value(km), seq));
        }
        if seq.len() < 3 || seq.len() > 9 {
            return None;
        }
        seq = held_karp(self.p, vehicle.station, &seq);
        let (t, km, _, _) = self.measure(v, d, &seq);
        (t <= self.window[r]).then(|| (value(km), seq))
    }

    fn route_value(&self, r: usize) -> f64 {
        let route = &self.state.routes[r];
        route.worth - route.km * self.p.vehicles[route.v].ml_per_km
    }

    /// `seq` with `s` inserted where it adds the least travel.
    fn with_inserted(&self, r: usize, seq: &[usize], s: usize) -> Vec<usize> {
        let p = self.p;
        let station = p.vehicles[self.state.routes[r].v].station;
        let node = |i: usize| {
            if i == 0 || i > seq.len() {
                station
            } else {
                p.node(seq[i - 1])
            }
        };
        let x = p.node(s);
        let pos = (0..=seq.len())
            .min_by(|&a, &b| {
                let da = p.km(node(a), x) + p.km(x, node(a + 1)) - p.km(node(a), node(a + 1));
                let db = p.km(node(b), x) + p.km(x, node(b + 1)) - p.km(node(b), node(b + 1));
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        let mut out = seq.to_vec();
        out.insert(pos, s);
        out
    }

    fn set_route(&mut self, r: usize, seq: Vec<usize>) {
        for &s in &self.state.routes[r].stops {
            self.state.visits[s].retain(|&o| o != r);
        }
        for &s in &seq {
            self.state.visits[s].push(r);
        }
        self.state.routes[r].stops = seq;
        self.recompute(r);
    }

    /// Deterministic local search to a local optimum: insertions that need a re-ordered route,
    /// replacing a stop by an unscheduled site, and exchanging stops between two routes.
    /// Single-visit plans only (the interval rule then reduces to "at most once").
    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() > d)
    }

    /// Returns false when the time limit cut it short.
    fn polish(&mut self) -> bool {
        if !self.p.single_visit() {
            return true;
        }
        let routes = self.route_ids();
        for _pass in 0..20 {
            if self.out_of_time() {
                return false;
            }
            let mut improved = false;
            // Insert, re-ordering when needed.
            for &r in &routes {
                for u in 0..self.p.n_sites() {
                    if !self.state.visits[u].is_empty() || !self.allowed(u, r) {
                        continue;
                    }
                    let seq = self.with_inserted(r, &self.state.routes[r].stops, u);
                    let before = self.route_value(r);
                    if let Some((value, seq)) = self.best_feasible(r, seq)
                        && value > before + 1e-6
                    {
                        self.set_route(r, seq);
                        improved = true;
                    }
                }
            }
            // Replace a stop by an unscheduled site.
            for &r in &routes {
                let mut i = 0;
                while i < self.state.routes[r].stops.len() {
                    let s = self.state.routes[r].stops[i];
                    if self.state.fixed[s] {
                        i += 1;
                        continue;
                    }
                    let route = &self.state.routes[r];
                    let (v, d) = (route.v, route.d);
                    let before = self.route_value(r);
                    let dn_s = self.p.donors(v, s, d);
                    let worth_s = self.p.worth_of(s, d, dn_s);
                    let travel_bound = route.km * self.p.vehicles[v].ml_per_km;
                    // No stop taking at most the vehicle's donors is worth more than this.
                    let cap_worth = self.p.max_rate * self.p.vehicles[v].max_donors;
                    let rest: Vec<usize> =
                        route.stops.iter().copied().filter(|&x| x != s).collect();
                    let mut best: Option<(f64, Vec<usize>)> = None;
                    for &u in &self.by_prize[d] {
                        let dn_u = self.p.donors(v, u, d);
                        // Sorted by value: every further site is worth at most this one's value
                        // (and at most what the vehicle's capacity holds), so nothing further
                        // can beat the stop it replaces.
                        if self.p.value[u][d].min(cap_worth) - worth_s + travel_bound <= 1e-6 {
                            break;
                        }
                        if !self.state.visits[u].is_empty() || !self.allowed(u, r) {
                            continue;
                        }
                        if route.donors - dn_s + dn_u > self.p.vehicles[v].max_donors + EPS {
                            continue;
                        }
                        let seq = self.with_inserted(r, &rest, u);
                        if let Some((value, seq)) = self.best_feasible(r, seq)
                            && value > before + 1e-6
                            && best.as_ref().is_none_or(|(b, _)| value > *b)
                        {
                            best = Some((value, seq));
                        }
                    }
                    if let Some((_, seq)) = best {
                        self.set_route(r, seq);
                        improved = true;
                    }
                    i += 1;
                }
            }
            // Exchange stops between two routes (other days or vehicles).
            for a in 0..routes.len() {
                for b in (a + 1)..routes.len() {
                    let (r1, r2) = (routes[a], routes[b]);
                    if self.state.routes[r1].stops.is_empty()
                        && self.state.routes[r2].stops.is_empty()
                    {
                        continue;
                    }
                    if self.exchange(r1, r2) {
                        improved = true;
                    }
                }
            }
            if self.out_of_time() {
                return false;
            }
            if !improved && !self.exact_groups() {
                break;
            }
        }
        true
    }

    /// Re-plans small groups of nearby routes exactly: their stops and the best unscheduled
    /// sites near them (at most `POOL` sites) are assigned to the group's routes by the exact
    /// solver. Returns true when anything improved.
    fn exact_groups(&mut self) -> bool {
        const POOL: usize = 12;
        let routes = self.route_ids();
        let centre = |st: &State, r: usize| -> Option<(f64, f64)> {
            let stops = &st.routes[r].stops;
            if stops.is_empty() {
                return None;
            }
            let (mut x, mut y) = (0.0, 0.0);
            for &s in stops {
                x += self.p.instance.sites[s].lon;
                y += self.p.instance.sites[s].lat;
            }
            Some((x / stops.len() as f64, y / stops.len() as f64))
        };
        let has_fixed = |st: &State, r: usize| st.routes[r].stops.iter().any(|&s| st.fixed[s]);
        let mut improved = false;
        for &r in &routes {
            let Some(c) = centre(&self.state, r) else {
                continue;
            };
            if has_fixed(&self.state, r) {
                continue;
            }
            // The two nearest routes with stops, and one empty route if any.
            let mut others: Vec<(f64, usize)> = routes
                .iter()
                .copied()
                .filter(|&o| o != r && !has_fixed(&self.state, o))
                .filter_map(|o| {
                    centre(&self.state, o).map(|(x, y)| ((x - c.0).powi(2) + (y - c.1).powi(2), o))
                })
                .collect();
            others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let near: Vec<usize> = others.iter().take(2).map(|&(_, o)| o).collect();
            for &o in &near {
                groups.push(vec![r, o]);
            }
            if near.len() == 2 {
                groups.push(vec![r, near[0], near[1]]);
            }
            if let Some(&empty) = routes
                .iter()
                .find(|&&o| self.state.routes[o].stops.is_empty())
            {
                groups.push(vec![r, empty]);
            }
            for group in groups {
                if self.exact_group(&group, POOL) {
                    improved = true;
                }
            }
        }
        improved
    }

    fn exact_group(&mut self, group: &[usize], pool_max: usize) -> bool {
        let mut pool: Vec<usize> = group
            .iter()
            .flat_map(|&r| self.state.routes[r].stops.iter().copied())
            .collect();
        if pool.len() > pool_max {
            return false;
        }
        let days: Vec<usize> = group.iter().map(|&r| self.state.routes[r].d).collect();
        let mut extra: Vec<(f64, usize)> = Vec::new();
        for &s in &pool {
            for &o in &self.near[s] {
                if self.state.visits[o].is_empty() && !extra.iter().any(|&(_, x)| x == o) {
                    let best = days
                        .iter()
                        .filter(|&&d| self.p.barrier[o][d].is_none())
                        .map(|&d| self.p.value[o][d])
                        .fold(f64::NEG_INFINITY, f64::max);
                    if best.is_finite() {
                        extra.push((best, o));
                    }
                }
            }
        }
        for &d in &days {
            for &o in self.by_prize[d].iter().take(3) {
                if self.state.visits[o].is_empty() && !extra.iter().any(|&(_, x)| x == o) {
                    extra.push((self.p.value[o][d], o));
                }
            }
        }
        extra.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        pool.extend(
            extra
                .into_iter()
                .map(|(_, o)| o)
                .take(pool_max - pool.len()),
        );
        let pairs: Vec<(usize, usize)> = group
            .iter()
            .map(|&r| (self.state.routes[r].v, self.state.routes[r].d))
            .collect();
        let before: f64 = group.iter().map(|&r| self.route_value(r)).sum();
        let (value, orders) = exact::best_assignment(self.p, &pairs, &pool);
        if value <= before + 1e-6 {
            return false;
        }
        // Check each new route keeps the window as measured here (the exact solver keeps it
        // too, with a travel matrix as well; this guards the planner's own arithmetic).
        for (k, &r) in group.iter().enumerate() {
            let (t, _, _, _) = self.measure(pairs[k].0, pairs[k].1, &orders[k]);
            if t > self.window[r] {
                return false;
            }
        }
        for &r in group {
            self.set_route(r, Vec::new());
        }
        for (k, &r) in group.iter().enumerate() {
            self.set_route(r, orders[k].clone());
        }
        true
    }

    /// The best exchange of one stop of `r1` with one of `r2` (or a move of one stop to the
    /// other route), applied when it gains.
    fn exchange(&mut self, r1: usize, r2: usize) -> bool {
        let before = self.route_value(r1) + self.route_value(r2);
        let s1: Vec<Option<usize>> = std::iter::once(None)
            .chain(self.state.routes[r1].stops.iter().map(|&s| Some(s)))
            .collect();
        let s2: Vec<Option<usize>> = std::iter::once(None)
            .chain(self.state.routes[r2].stops.iter().map(|&s| Some(s)))
            .collect();
        let (v1, d1) = (self.state.routes[r1].v, self.state.routes[r1].d);
        let (v2, d2) = (self.state.routes[r2].v, self.state.routes[r2].d);
        let bound = (self.state.routes[r1].km * self.p.vehicles[v1].ml_per_km)
            + (self.state.routes[r2].km * self.p.vehicles[v2].ml_per_km);
        let mut best: Option<(f64, Vec<usize>, Vec<usize>)> = None;
        for &x in &s1 {
            for &y in &s2 {
                if x.is_none() && y.is_none() {
                    continue;
                }
                if x.is_some_and(|x| self.state.fixed[x]) || y.is_some_and(|y| self.state.fixed[y])
                {
                    continue;
                }
                // Worth gained by the change in days, plus all travel saved, bounds the gain.
                let worth =
                    |v: usize, s: Option<usize>, d: usize| s.map_or(0.0, |s| self.p.worth(v, s, d));
                let gain_bound =
                    worth(v2, x, d2) + worth(v1, y, d1) - worth(v1, x, d1) - worth(v2, y, d2)
                        + bound;
                if gain_bound <= 1e-6 {
                    continue;
                }
                let allowed_in = |s: Option<usize>, r: usize| {
                    s.is_none_or(|s| {
                        let route = &self.state.routes[r];
                        self.p.barrier[s][route.d].is_none()
                    })
                };
                if !allowed_in(x, r2) || !allowed_in(y, r1) {
                    continue;
                }
                let rest1: Vec<usize> = self.state.routes[r1]
                    .stops
                    .iter()
                    .copied()
                    .filter(|&s| Some(s) != x)
                    .collect();
                let rest2: Vec<usize> = self.state.routes[r2]
                    .stops
                    .iter()
                    .copied()
                    .filter(|&s| Some(s) != y)
                    .collect();
                let new1 = match y {
                    Some(y) => self.with_inserted(r1, &rest1, y),
                    None => rest1,
                };
                let new2 = match x {
                    Some(x) => self.with_inserted(r2, &rest2, x),
                    None => rest2,
                };
                let Some((val1, new1)) = self.best_feasible(r1, new1) else {
                    continue;
                };
                let Some((val2, new2)) = self.best_feasible(r2, new2) else {
                    continue;
                };
                let total = val1 + val2;
                if total > before + 1e-6 && best.as_ref().is_none_or(|(b, _, _)| total > *b) {
                    best = Some((total, new1, new2));
                }
            }
        }
        match best {
            Some((_, new1, new2)) => {
                self.set_route(r1, new1);
                self.set_route(r2, new2);
                true
            }
            None => false,
        }
    }

    /// A last pass: anything that still fits anywhere at a gain.
    /// Returns false when the time limit cut it short.
    fn fill(&mut self) -> bool {
        let sites: Vec<usize> = (0..self.p.n_sites()).collect();
        let routes = self.route_ids();
        self.improve_order_all();
        self.greedy(&sites, &routes, 0.0, false);
        self.polish()
    }

    fn improve_order_all(&mut self) {
        for r in 0..self.state.routes.len() {
            self.improve_order(r);
        }
    }

    /// Re-orders route `r` for the least travel: exactly (Held-Karp) up to 10 stops, else by
    /// 2-opt.
    fn improve_order(&mut self, r: usize) {
        let n = self.state.routes[r].stops.len();
        if n < 3 {
            return;
        }
        let before = self.state.routes[r].km;
        let order = if n <= 10 {
            self.held_karp(r)
        } else {
            self.two_opt(r)
        };
        let old = std::mem::replace(&mut self.state.routes[r].stops, order);
        self.recompute(r);
        if self.state.routes[r].km > before + EPS {
            self.state.routes[r].stops = old;
            self.recompute(r);
        }
    }

    fn held_karp(&self, r: usize) -> Vec<usize> {
        let route = &self.state.routes[r];
        held_karp(self.p, self.p.vehicles[route.v].station, &route.stops)
    }

    fn two_opt(&self, r: usize) -> Vec<usize> {
        let p = self.p;
        let route = &self.state.routes[r];
        let station = p.vehicles[route.v].station;
        let mut order = route.stops.clone();
        let node = |order: &[usize], i: usize| {
            if i == 0 || i > order.len() {
                station
            } else {
                p.node(order[i - 1])
            }
        };
        let n = order.len();
        let mut improved = true;
        while improved {
            improved = false;
            for i in 1..n {
                for j in (i + 1)..=n {
                    let (a, b) = (node(&order, i - 1), node(&order, i));
                    let (c, d) = (node(&order, j), node(&order, j + 1));
                    let delta = p.km(a, c) + p.km(b, d) - p.km(a, b) - p.km(c, d);
                    if delta < -1e-7 {
                        order[i - 1..j].reverse();
                        improved = true;
                    }
                }
            }
        }
        order
    }
}

/// The order of `stops` with the least travel from `station` and back (Held-Karp; up to about
/// 12 stops).
fn held_karp(p: &Problem, station: usize, stops: &[usize]) -> Vec<usize> {
    let nodes: Vec<usize> = stops.iter().map(|&s| p.node(s)).collect();
    let n = nodes.len();
    if n < 3 {
        return stops.to_vec();
    }
    let full = (1usize << n) - 1;
    let mut cost = vec![f64::INFINITY; (1 << n) * n];
    let mut parent = vec![usize::MAX; (1 << n) * n];
    for j in 0..n {
        cost[(1 << j) * n + j] = p.km(station, nodes[j]);
    }
    for mask in 1..=full {
        for j in 0..n {
            if mask & (1 << j) == 0 {
                continue;
            }
            let c = cost[mask * n + j];
            if !c.is_finite() {
                continue;
            }
            for k in 0..n {
                if mask & (1 << k) != 0 {
                    continue;
                }
                let next = mask | (1 << k);
                let nc = c + p.km(nodes[j], nodes[k]);
                if nc < cost[next * n + k] - EPS {
                    cost[next * n + k] = nc;
                    parent[next * n + k] = j;
                }
            }
        }
    }
    let (mut last, _) = (0..n)
        .map(|j| (j, cost[full * n + j] + p.km(nodes[j], station)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("non-empty");
    let mut order = Vec::with_capacity(n);
    let mut mask = full;
    loop {
        order.push(stops[last]);
        let prev = parent[mask * n + last];
        mask &= !(1 << last);
        if prev == usize::MAX {
            break;
        }
        last = prev;
    }
    order.reverse();
    order
}

/// Why each candidate left out of `state` is left out.
fn reasons(p: &Problem, state: &State) -> Vec<Unscheduled> {
    let instance = &p.instance;
    let search_like = |s: usize, v: usize, d: usize| -> bool {
        // Fits alone on an empty day of vehicle v?
        let vehicle = &p.vehicles[v];
        let node = p.node(s);
        let donors = p.donors(v, s, d);
        let duration = p.minutes(vehicle.station, node)
            + p.stay(v, s, donors)
            + p.minutes(node, vehicle.station);
        vehicle.available[d] && duration <= vehicle.day_end - vehicle.day_start
    };
    let mut out = Vec::new();
    for s in 0..p.n_sites() {
        if !state.visits[s].is_empty() {
            continue;
        }
        let site = &instance.sites[s];
        let open: Vec<usize> = (0..p.n_days)
            .filter(|&d| p.barrier[s][d].is_none())
            .collect();
        // The best day: where a stop is worth the most.
        let best_of = |days: &[usize]| {
            days.iter()
                .copied()
                .max_by(|&a, &b| p.value[s][a].total_cmp(&p.value[s][b]).then(b.cmp(&a)))
        };
        let best_open = best_of(&open);
        let (reason, message, best_day) = if open.is_empty() {
            let barriers: Vec<Barrier> = (0..p.n_days).filter_map(|d| p.barrier[s][d]).collect();
            let max_expected = (0..p.n_days)
                .map(|d| p.expected[s][d])
                .fold(0.0f64, f64::max);
            if barriers.iter().all(|b| *b == Barrier::Forbidden) {
                (
                    ReasonKind::Forbidden,
                    "forbidden on every day of the plan".to_owned(),
                    None,
                )
            } else if barriers.contains(&Barrier::Interval)
                && !barriers.contains(&Barrier::BelowMinimum)
            {
                let until = site
                    .last_visit
                    .and_then(|d| d.checked_add_days(chrono::Days::new(p.min_gap.unsigned_abs())));
                (
                    ReasonKind::IntervalNotElapsed,
                    format!(
                        "last visited on {}; the next visit is due from {} ({} days)",
                        site.last_visit.map(|d| d.to_string()).unwrap_or_default(),
                        until.map_or_else(|| "beyond the calendar".to_owned(), |d| d.to_string()),
                        p.min_gap
                    ),
                    None,
                )
            } else {
                (
                    ReasonKind::BelowMinimumDonors,
                    format!(
                        "at most {max_expected:.1} donors expected on any day, below the minimum of {}",
                        instance.rules.min_expected_donors
                    ),
                    None,
                )
            }
        } else if !open
            .iter()
            .any(|&d| (0..p.vehicles.len()).any(|v| p.vehicles[v].available[d]))
        {
            (
                ReasonKind::NoVehicleAvailable,
                "no vehicle is available on the days it could be visited".to_owned(),
                best_open,
            )
        } else {
            let fits: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&d| (0..p.vehicles.len()).any(|v| search_like(s, v, d)))
                .collect();
            if fits.is_empty() {
                (
                    ReasonKind::NoDayWithEnoughTime,
                    "too far for a vehicle's working day: the drive there and back with the stop itself takes longer than the day".to_owned(),
                    best_open,
                )
            } else {
                let best = best_of(&fits).expect("non-empty");
                // Would it pay for its own travel on an empty day?
                let pays = fits.iter().any(|&d| {
                    (0..p.vehicles.len()).any(|v| {
                        let vehicle = &p.vehicles[v];
                        let node = p.node(s);
                        let km = p.km(vehicle.station, node) + p.km(node, vehicle.station);
                        search_like(s, v, d) && p.worth(v, s, d) > km * vehicle.ml_per_km
                    })
                });
                if pays {
                    (
                        ReasonKind::DisplacedByBetterStops,
                        format!(
                            "displaced by better stops on every day it fits: on its best day, {} ({:.1} expected), the vehicles' days are full with stops that yield more",
                            instance.days[best], p.expected[s][best]
                        ),
                        Some(best),
                    )
                } else {
                    (
                        ReasonKind::NotWorthTheTravel,
                        "the blood it is expected to yield is worth less than the travel to it"
                            .to_owned(),
                        Some(best),
                    )
                }
            }
        };
        out.push(Unscheduled {
            site: site.id.clone(),
            name: site.name.clone(),
            reason,
            message,
            best_date: best_day.map(|d| instance.days[d]),
            best_expected: best_day.map_or(0.0, |d| p.expected[s][d]),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::instance::{self, FixedStop, Instance};
    use crate::planning::synthetic::{self, Township};
    use crate::planning::testing::{day, site, with_matrix};
    use proptest::prelude::{ProptestConfig, any, prop_assert, prop_assert_eq, proptest};

    fn quick() -> SolveOptions {
        SolveOptions {
            seed: 7,
            iterations: Some(300),
            time_limit: Duration::from_secs(60),
        }
    }

    fn reason_of(solved: &Solved, id: &str) -> Option<ReasonKind> {
        solved
            .unscheduled
            .iter()
            .find(|u| u.site == id)
            .map(|u| u.reason)
    }

    fn scheduled(solved: &Solved) -> Vec<(String, chrono::NaiveDate)> {
        solved
            .plan
            .routes
            .iter()
            .flat_map(|r| r.stops.iter().map(|s| (s.site.clone(), r.date)))
            .collect()
    }

    #[test]
    fn every_unscheduled_site_gets_the_reason_that_applies() {
        // One vehicle, one day. GOOD and BIG fill the day; SMALL would fit the time but not
        // the donors; FAR is 300 minutes away; FEW expects 5; SHUT is forbidden; RECENT was
        // visited 30 days ago.
        let mut inst = with_matrix(
            1,
            vec![
                site("GOOD", &[70.0]),
                site("BIG", &[75.0]),
                site("SMALL", &[12.0]),
                site("FAR", &[60.0]),
                site("FEW", &[5.0]),
                site("SHUT", &[60.0]),
                site("RECENT", &[60.0]),
            ],
            &[
                ("st", "GOOD", 5.0, 10.0),
                ("st", "BIG", 5.0, 10.0),
                ("GOOD", "BIG", 2.0, 5.0),
                ("st", "SMALL", 5.0, 10.0),
                ("GOOD", "SMALL", 2.0, 5.0),
                ("BIG", "SMALL", 2.0, 5.0),
                ("st", "FAR", 200.0, 300.0),
                ("st", "FEW", 5.0, 10.0),
                ("st", "SHUT", 5.0, 10.0),
                ("st", "RECENT", 5.0, 10.0),
            ],
        );
        inst.forbidden.push(instance::ForbiddenStop {
            site: "SHUT".into(),
            date: None,
        });
        inst.sites[6].last_visit = Some(day(1) - chrono::Days::new(30));
        let problem = Problem::new(inst).unwrap();
        let solved = solve(&problem, &quick(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        let mut stops: Vec<String> = scheduled(&solved).into_iter().map(|(s, _)| s).collect();
        stops.sort();
        assert_eq!(stops, ["BIG", "GOOD"]);
        assert_eq!(
            reason_of(&solved, "SMALL"),
            Some(ReasonKind::DisplacedByBetterStops)
        );
        assert_eq!(
            reason_of(&solved, "FAR"),
            Some(ReasonKind::NoDayWithEnoughTime)
        );
        assert_eq!(
            reason_of(&solved, "FEW"),
            Some(ReasonKind::BelowMinimumDonors)
        );
        assert_eq!(reason_of(&solved, "SHUT"), Some(ReasonKind::Forbidden));
        assert_eq!(
            reason_of(&solved, "RECENT"),
            Some(ReasonKind::IntervalNotElapsed)
        );
        let recent = solved
            .unscheduled
            .iter()
            .find(|u| u.site == "RECENT")
            .unwrap();
        assert!(recent.message.contains("2027-04-30"), "{}", recent.message);
        assert_eq!(solved.unscheduled.len(), 5);
    }

    #[test]
    fn a_site_not_worth_its_travel_says_so() {
        let mut inst = with_matrix(1, vec![site("A", &[12.0])], &[("st", "A", 100.0, 60.0)]);
        // 12 donors x 400 mL = 4,800 mL; 200 km x 20 yuan x 1.5 = 6,000.
        inst.vehicles[0].cost_per_km = 20.0;
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert!(solved.plan.routes.is_empty());
        assert_eq!(reason_of(&solved, "A"), Some(ReasonKind::NotWorthTheTravel));
    }

    #[test]
    fn no_vehicle_on_the_only_day_is_a_reason_too() {
        let mut inst = with_matrix(1, vec![site("A", &[40.0])], &[("st", "A", 5.0, 10.0)]);
        inst.vehicles[0].unavailable = vec![day(1)];
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert_eq!(
            reason_of(&solved, "A"),
            Some(ReasonKind::NoVehicleAvailable)
        );
    }

    #[test]
    fn a_site_worth_more_with_fewer_donors_is_preferred() {
        // One vehicle taking 50 donors a day. BIG expects 50 (worth 20,000 mL); RICH only 20,
        // but a shortage makes them worth 30,000; SMALL expects 30 (12,000). By donors BIG
        // alone fills the day; by worth RICH and SMALL (42,000) beat it.
        let mut inst = with_matrix(
            1,
            vec![
                site("BIG", &[50.0]),
                site("RICH", &[20.0]),
                site("SMALL", &[30.0]),
            ],
            &[
                ("st", "BIG", 5.0, 10.0),
                ("st", "RICH", 5.0, 10.0),
                ("st", "SMALL", 5.0, 10.0),
                ("BIG", "RICH", 2.0, 5.0),
                ("BIG", "SMALL", 2.0, 5.0),
                ("RICH", "SMALL", 2.0, 5.0),
            ],
        );
        inst.vehicles[0].max_donors = 50;
        inst.sites[1].value = Some(vec![30_000.0]);
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        let mut stops: Vec<String> = scheduled(&solved).into_iter().map(|(s, _)| s).collect();
        stops.sort();
        assert_eq!(stops, ["RICH", "SMALL"]);
        assert_eq!(
            reason_of(&solved, "BIG"),
            Some(ReasonKind::DisplacedByBetterStops)
        );
        assert!((solved.plan.totals.value - 42_000.0).abs() < 1e-6);
        assert!((solved.plan.totals.ml - 20_000.0).abs() < 1e-6);
    }

    #[test]
    fn extra_service_minutes_can_leave_a_stop_out_of_the_day() {
        // Two stops of 20 donors fill 2 x (30 + 60) minutes and the drives (3 x 10) of a
        // 240-minute day; 45 more minutes at B do not fit: only the better one is made.
        let mut inst = with_matrix(
            1,
            vec![site("A", &[20.0]), site("B", &[21.0])],
            &[
                ("st", "A", 5.0, 10.0),
                ("st", "B", 5.0, 10.0),
                ("A", "B", 2.0, 10.0),
            ],
        );
        inst.vehicles[0].day_end = inst.vehicles[0].day_start + 240;
        let both = solve(&Problem::new(inst.clone()).unwrap(), &quick(), None);
        assert_eq!(both.plan.totals.stops, 2);
        inst.sites[1].extra_service_min = Some(45.0);
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        assert_eq!(scheduled(&solved), [("B".to_owned(), day(1))]);
    }

    #[test]
    fn a_market_day_draws_the_stop_to_it() {
        // The same site, 40 donors on day 1, 52 on day 2 (a market day): one visit, on day 2.
        let inst = with_matrix(2, vec![site("A", &[40.0, 52.0])], &[("st", "A", 5.0, 10.0)]);
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert_eq!(scheduled(&solved), [("A".to_owned(), day(2))]);
    }

    #[test]
    fn fixed_stops_are_kept_even_when_worse() {
        let mut inst = with_matrix(2, vec![site("A", &[40.0, 52.0])], &[("st", "A", 5.0, 10.0)]);
        inst.fixed.push(FixedStop {
            site: "A".into(),
            date: day(1),
            vehicle: None,
        });
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        assert_eq!(scheduled(&solved), [("A".to_owned(), day(1))]);
    }

    #[test]
    fn a_shorter_interval_allows_a_second_visit() {
        let mut inst = with_matrix(8, vec![site("A", &[40.0; 8])], &[("st", "A", 5.0, 10.0)]);
        inst.rules.min_days_between_visits = 7;
        let solved = solve(&Problem::new(inst).unwrap(), &quick(), None);
        assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
        // Days 1 and 8, the only pair 7 days apart.
        assert_eq!(
            scheduled(&solved),
            [("A".to_owned(), day(1)), ("A".to_owned(), day(8))]
        );
    }

    fn hierarchy() -> Vec<Township> {
        (0..6)
            .map(|t| Township {
                code: format!("41110210{t}000"),
                name: format!("township {t}"),
                county: format!("41110{}", t % 2),
                villages: (1..=14)
                    .map(|v| (format!("41110210{t}{v:03}"), format!("village {t}-{v}")))
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn the_same_instance_and_seed_give_the_same_plan() {
        let inst = synthetic::generate(
            &hierarchy(),
            &synthetic::Shape {
                name: "det".into(),
                sites: 60,
                days: 6,
                vehicles: 2,
                first_day: day(1),
                seed: 3,
            },
        );
        let problem = Problem::new(inst).unwrap();
        let options = SolveOptions {
            iterations: Some(2_000),
            ..quick()
        };
        let a = solve(&problem, &options, None);
        let b = solve(&problem, &options, None);
        assert_eq!(a.plan, b.plan);
        assert_eq!(a.unscheduled, b.unscheduled);
        assert!(a.plan.totals.stops > 10);
    }

    #[test]
    fn tiny_instances_are_solved_to_the_optimum() {
        let townships = hierarchy();
        for seed in 0..12 {
            let problem = Problem::new(synthetic::tiny(&townships, seed)).unwrap();
            let (_, optimum) = exact::solve(&problem).unwrap();
            let solved = solve(&problem, &SolveOptions::default(), None);
            assert!(solved.plan.is_feasible());
            assert!(
                solved.plan.totals.objective >= optimum - 1e-6,
                "seed {seed}: {} < {optimum}",
                solved.plan.totals.objective
            );
        }
    }

    #[test]
    fn tiny_v2_instances_are_solved_to_the_optimum() {
        // Values 0.5 to 3 times the donors' mL, per site and day, and extra minutes a stop.
        let townships = hierarchy();
        for seed in 0..12 {
            let instance = synthetic::with_values(synthetic::tiny(&townships, seed), seed);
            let problem = Problem::new(instance).unwrap();
            let (_, optimum) = exact::solve(&problem).unwrap();
            let solved = solve(&problem, &SolveOptions::default(), None);
            assert!(solved.plan.is_feasible());
            assert!(
                solved.plan.totals.objective >= optimum - 1e-6,
                "seed {seed}: {} < {optimum}",
                solved.plan.totals.objective
            );
        }
    }

    /// A random small instance: straight-line travel around a station, random expected donors,
    /// days off, forbidden stops, recent visits, and sometimes a short interval; with `v2`,
    /// values 0.5 to 3 times the donors' mL per site and day and extra minutes at the sites.
    fn random_instance(
        seed: u64,
        n_sites: usize,
        n_days: usize,
        n_vehicles: usize,
        v2: bool,
    ) -> Instance {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut inst = with_matrix(n_days, Vec::new(), &[]);
        inst.travel = instance::Travel::default();
        inst.vehicles = (0..n_vehicles)
            .map(|i| {
                let mut v = crate::planning::testing::vehicle(&format!("v{i}"));
                v.max_donors = rng.random_range(40..200);
                v.beds = rng.random_range(1..8);
                v.day_end = v.day_start + rng.random_range(120..600);
                if rng.random::<f64>() < 0.3 {
                    v.unavailable = vec![day(rng.random_range(1..=n_days as u32))];
                }
                v
            })
            .collect();
        for s in 0..n_sites {
            let mut x = site(&format!("s{s}"), &[]);
            x.lon = 114.0 + rng.random_range(-0.3..0.3);
            x.lat = 33.6 + rng.random_range(-0.3..0.3);
            x.expected = (0..n_days).map(|_| rng.random_range(0.0..90.0)).collect();
            if rng.random::<f64>() < 0.1 {
                x.last_visit = Some(day(1) - chrono::Days::new(rng.random_range(1..300)));
            }
            inst.sites.push(x);
            if rng.random::<f64>() < 0.1 {
                inst.forbidden.push(instance::ForbiddenStop {
                    site: format!("s{s}"),
                    date: (rng.random::<f64>() < 0.5)
                        .then(|| day(rng.random_range(1..=n_days as u32))),
                });
            }
        }
        if rng.random::<f64>() < 0.3 {
            inst.rules.min_days_between_visits = rng.random_range(1..4);
        }
        if v2 {
            synthetic::with_values(inst, seed)
        } else {
            inst
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the instance, the planner's plan passes plan check, and every candidate is
        /// either scheduled or has a reason.
        #[test]
        fn every_plan_passes_plan_check(
            seed in any::<u64>(),
            n_sites in 0usize..14,
            n_days in 1usize..5,
            n_vehicles in 1usize..3,
            v2 in any::<bool>(),
        ) {
            let problem =
                Problem::new(random_instance(seed, n_sites, n_days, n_vehicles, v2)).unwrap();
            let solved = solve(&problem, &SolveOptions { iterations: Some(200), ..quick() }, None);
            let plan = PlanInput {
                format: None,
                routes: solved.plan.routes.iter().map(|r| RouteInput {
                    vehicle: r.vehicle.clone(),
                    date: r.date,
                    depart: None,
                    stops: r.stops.iter().map(|s| StopInput { site: s.site.clone(), start: None }).collect(),
                }).collect(),
            };
            let checked = evaluate::check(&problem, &plan);
            prop_assert!(checked.is_feasible(), "{:?}", checked.violations);
            prop_assert_eq!(&checked, &solved.plan);
            let mut visited: Vec<&str> = solved.plan.routes.iter()
                .flat_map(|r| r.stops.iter().map(|s| s.site.as_str())).collect();
            visited.sort_unstable();
            visited.dedup();
            prop_assert_eq!(visited.len() + solved.unscheduled.len(), n_sites);
        }

        /// On instances small enough for the exact solver, v1 or v2, the planner reaches its
        /// optimum (the planner re-plans groups of routes exactly, so tiny instances are
        /// solved to the optimum).
        #[test]
        fn small_plans_reach_the_exact_optimum(
            seed in any::<u64>(),
            n_sites in 0usize..9,
            n_days in 1usize..3,
            v2 in any::<bool>(),
        ) {
            let mut instance = random_instance(seed, n_sites, n_days, 1, v2);
            instance.rules.min_days_between_visits = 180;
            let problem = Problem::new(instance).unwrap();
            let (_, optimum) = exact::solve(&problem).unwrap();
            let solved = solve(&problem, &SolveOptions { iterations: Some(300), ..quick() }, None);
            prop_assert!(solved.plan.is_feasible(), "{:?}", solved.plan.violations);
            prop_assert!(
                solved.plan.totals.objective >= optimum - 1e-6,
                "{} < {optimum}", solved.plan.totals.objective
            );
        }
    }
}
