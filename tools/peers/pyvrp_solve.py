#!/usr/bin/env python3
"""Solves a donornet plan instance with PyVRP (the benchmark's second peer).

    pyvrp_solve.py INSTANCE.json --time-limit SECONDS --seed N [--out PLAN.json]
        [--summary SUMMARY.json] [--limit-search-only]

Model (prize-collecting VRP with client groups; PyVRP 0.14's ProblemData, built directly):

- locations: the stations, then every site once per vehicle class (one class when the
  vehicles are alike; see peers_common.py). Depots: one per station;
- clients: one per copy (site, day, class) allowed that day, at the site's location, with
  prize = the stop's worth (v2: value[d] x donors / expected[d]; v1: donors x ml_per_donor),
  required=False, delivery = donors, service duration = setup + the site's extra_service_min +
  donors x bed_minutes / beds + teardown; the copies of a site form one mutually exclusive,
  optional ClientGroup (a site at most once). PyVRP charges the prizes of unvisited clients,
  so visiting a site's copy on day d gains exactly that copy's prize;
- vehicle types: one per bloodmobile-day (num_available 1), at its station's depot, capacity
  max_donors, and its day's shift on a global clock: day d (index in `days`) runs from
  d x 86400 + day_start to d x 86400 + day_end seconds (tw_early = start_late = day_start,
  tw_late = day_end). A copy of day d has its time window inside day d, so only that day's
  vehicles can serve it: serving it from another day would need (large) time warp, and PyVRP
  only returns solutions without time warp as feasible. That is how a day's copies are made
  unreachable by other days' vehicles while all copies of a site share one location (the
  distance/duration matrices stay sites x sites). With several vehicle classes, each class has
  its own routing profile in which the other classes' locations cannot be reached in time;
- distance matrix (per profile) = the travel cost itself, round(km x cost_per_km x ml_per_yuan
  x 100), with unit_distance_cost 1; duration matrix = travel seconds rounded up. Prizes in
  the same 0.01 mL unit. Objective = distance cost + uncollected prizes, i.e. maximising
  collected - travel;
- stopping criterion MaxRuntime.

`--time-limit` is the whole wall budget by default: MaxRuntime's clock starts at the process
start, so model building and PyVRP's preprocessing inside solve() (neighbourhood, the first
local search, which always completes) count too. `--limit-search-only` gives the search loop
the full limit, as plain MaxRuntime does.
Writes the plan (donornet.plan.v1) to --out (or stdout), a summary JSON to --summary and a
one-line report on stderr.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pyvrp  # noqa: E402
from pyvrp import (  # noqa: E402
    Client,
    ClientGroup,
    Depot,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
    Location,
    ProblemData,
    SolveParams,
    VehicleType,
)
from pyvrp import Activity, ActivityType, PenaltyManager, RandomNumberGenerator, Solution  # noqa: E402
from pyvrp.IteratedLocalSearch import IteratedLocalSearch  # noqa: E402
from pyvrp.search import LocalSearch, PerturbationManager  # noqa: E402
from pyvrp.stop import MaxRuntime  # noqa: E402

import peers_common as pc  # noqa: E402

DAY_S = 86400


class WallMaxRuntime(MaxRuntime):
    """PyVRP's MaxRuntime with its clock started at `start` (the process start) instead of at
    its first call, so PyVRP's own preprocessing in solve() (neighbourhood, first local search)
    counts against the budget too."""

    def __init__(self, max_runtime: float, start: float):
        super().__init__(max_runtime)
        self._start_runtime = start


class FirstFeasible(IteratedLocalSearchCallbacks):
    """Notes the wall time at which the search first holds a feasible solution."""

    def __init__(self) -> None:
        self.seconds: float | None = None

    def _see(self, sol) -> None:
        if self.seconds is None and sol.is_feasible():
            self.seconds = time.perf_counter() - T0

    def on_start(self, ils) -> None:
        self._see(ils.initial_solution)

    def on_best(self, best) -> None:
        # The ILS only replaces its best by a feasible solution (an infeasible one costs "max").
        self._see(best)


def same_day_neighbours(data: ProblemData, copies: list, k: int) -> dict:
    """Granular neighbourhood: for each client, the k nearest clients (by travel cost, the
    cheaper direction) among the copies of the same day and vehicle class, the only clients it
    can share a route with. O(n^2 / days) time and memory, where PyVRP's compute_neighbours is
    O(n^2) over all clients (6 GB and 35 s at 28,000 clients)."""
    dist = data.distance_matrix(0)
    loc = np.array([c.location for c in data.clients()])
    key = np.array([c.day * 1000 + c.cls for c in copies])
    act = [Activity(ActivityType.CLIENT, i) for i in range(len(copies))]
    neighbours = {}
    for g in np.unique(key):
        idx = np.nonzero(key == g)[0]
        sub = dist[np.ix_(loc[idx], loc[idx])].astype(np.float64)
        prox = np.minimum(sub, sub.T)
        np.fill_diagonal(prox, np.inf)
        kk = min(k, len(idx) - 1)
        if kk <= 0:
            for a in idx:
                neighbours[act[a]] = []
            continue
        near = np.argpartition(prox, kk - 1, axis=1)[:, :kk] if kk < len(idx) - 1 else np.argsort(prox, axis=1)[:, :kk]
        for row, a in enumerate(idx):
            cand = near[row][np.argsort(prox[row, near[row]])]
            neighbours[act[a]] = [act[idx[b]] for b in cand]
    return neighbours


def solve_same_day(data, stop, seed, params, display, clients, copies):
    """pyvrp.solve() (0.14.1) with the same-day neighbourhood in place of compute_neighbours;
    everything else as PyVRP does it."""
    rng = RandomNumberGenerator(seed=seed)
    neighbours = same_day_neighbours(data, copies, params.neighbourhood.num_neighbours)
    ls = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))
    pm = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    init = ls(Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
    algo = IteratedLocalSearch(data, pm, ls, init, params.ils)
    return algo.run(stop, False, display, params.display_interval)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance")
    ap.add_argument("--time-limit", type=float, required=True, help="seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="plan file (default: stdout)")
    ap.add_argument("--summary", help="summary JSON file")
    ap.add_argument("--limit-search-only", action="store_true",
                    help="give the search the full --time-limit (default: minus model building)")
    ap.add_argument("--neighbourhood", choices=["same-day", "pyvrp"], default="same-day",
                    help="granular neighbourhood: the nearest copies of the same day and class "
                         "(default), or PyVRP's own compute_neighbours over all clients")
    ap.add_argument("--display", action="store_true", help="PyVRP progress on stdout")
    args = ap.parse_args()
    version = importlib.metadata.version("pyvrp")

    inst = pc.ev.Instance.load(args.instance)
    model = pc.Model(inst)
    copies, rvs = model.copies, model.rvehicles
    details = {**model.describe(), "seed": args.seed}
    if not rvs or not copies:
        return pc.finish(solver="pyvrp", version=version, inst=inst, plan=model.plan([]),
                         status="solved", t0=T0, first_solution_s=time.perf_counter() - T0,
                         out=args.out, summary=args.summary, details=details)

    n_st, n_sites, n_cls = model.n_stations, len(inst.sites), len(model.classes)

    def site_loc(site: int, cls: int) -> int:
        return n_st + cls * n_sites + site

    # Locations and their place (row of the travel matrices) and class (-1: a station).
    locations = [Location(x=s["lon"], y=s["lat"], name=s["id"]) for s in inst.stations]
    loc_place = list(range(n_st))
    loc_class = [-1] * n_st
    for c in range(n_cls):
        for si, s in enumerate(inst.sites):
            locations.append(Location(x=s["lon"], y=s["lat"], name=s["id"]))
            loc_place.append(n_st + si)
            loc_class.append(c)
    loc_place_a = np.array(loc_place)
    loc_class_a = np.array(loc_class)
    ix = np.ix_(loc_place_a, loc_place_a)
    distances, durations = [], []
    unreachable_s = (len(inst.days) + 1) * DAY_S
    for c, vc in enumerate(model.classes):
        dist = model.km_cost(vc.cost_per_km)[ix]
        dur = model.travel_s[ix].copy()
        if n_cls > 1:
            # Other classes' locations are out of reach in this class's profile: one leg there
            # outlasts the whole plan. (Not MAX_VALUE: time warp x penalty must stay far from
            # int64 overflow, which makes PyVRP's local search loop forever.)
            other = (loc_class_a != -1) & (loc_class_a != c)
            dur[other, :] = unreachable_s
            dur[:, other] = unreachable_s
            np.fill_diagonal(dur, 0)
        distances.append(np.ascontiguousarray(dist, dtype=np.int64))
        durations.append(np.ascontiguousarray(dur, dtype=np.int64))

    depots = [Depot(location=k, name=s["id"]) for k, s in enumerate(inst.stations)]

    # Groups: one optional, mutually exclusive group per site with several copies.
    group_of_site: dict[int, int] = {}
    groups: list[ClientGroup] = []
    for si, cs in model.copies_of_site.items():
        if len(cs) > 1 and not copies[cs[0]].required:
            group_of_site[si] = len(groups)
            groups.append(ClientGroup(clients=cs, required=False, name=inst.sites[si]["id"]))
        elif len(cs) > 1:
            # A fixed stop with several candidate copies (several classes): exactly one.
            group_of_site[si] = len(groups)
            groups.append(ClientGroup(clients=cs, required=True, name=inst.sites[si]["id"]))

    clients = []
    for c_i, c in enumerate(copies):
        allowed = [rvs[i] for i in c.allowed]
        early = min(rv.start_min for rv in allowed) * 60
        # Service must start in time to finish and drive back to (the nearest allowed) station.
        late = max(
            rv.end_min * 60 - c.service_s - int(model.travel_s[c.place, rv.place]) for rv in allowed
        )
        in_group = c.site in group_of_site
        clients.append(
            Client(
                location=site_loc(c.site, c.cls),
                delivery=[c.demand],
                service_duration=c.service_s,
                tw_early=c.day * DAY_S + early,
                tw_late=c.day * DAY_S + max(late, early),
                prize=c.prize,
                # In a group, "required" is the group's business; a lone required copy is required.
                required=c.required and not in_group,
                group=group_of_site.get(c.site),
                name=f"{c.site_id}@{inst.days[c.day]}",
            )
        )

    vehicle_types = []
    for rv in rvs:
        start = rv.day * DAY_S + rv.start_min * 60
        vehicle_types.append(
            VehicleType(
                num_available=1,
                capacity=[model.classes[rv.cls].max_donors * pc.DONOR_SCALE],
                start_depot=rv.place,
                end_depot=rv.place,
                tw_early=start,
                start_late=start,
                tw_late=rv.day * DAY_S + rv.end_min * 60,
                shift_duration=rv.horizon_s,
                unit_distance_cost=1,
                unit_duration_cost=0,
                profile=rv.cls,
                name=f"{rv.vehicle['id']}@{rv.date}",
            )
        )

    data = ProblemData(locations, clients, depots, vehicle_types, distances, durations, groups)
    first = FirstFeasible()
    params = SolveParams(ils=IteratedLocalSearchParams(callbacks=first))
    built = time.perf_counter() - T0
    if args.limit_search_only:
        stop = MaxRuntime(args.time_limit)
    else:
        stop = WallMaxRuntime(args.time_limit, T0)
    details["build_seconds"] = built
    details["neighbourhood"] = args.neighbourhood
    details["stop"] = "MaxRuntime from the search start" if args.limit_search_only else "MaxRuntime from the process start"
    details["clients"] = len(clients)
    details["groups"] = len(groups)

    pc.arm_watchdog(solver="pyvrp", version=version, inst=inst, t0=T0, time_limit=args.time_limit,
                    out=args.out, summary=args.summary, details=details)
    if args.neighbourhood == "pyvrp":
        result = pyvrp.solve(data, stop, seed=args.seed, collect_stats=False,
                             display=args.display, params=params)
    else:
        result = solve_same_day(data, stop, args.seed, params, args.display, clients, copies)
    details["iterations"] = result.num_iterations
    best = result.best
    if not best.is_feasible():
        details["pyvrp_cost"] = None
        return pc.finish(solver="pyvrp", version=version, inst=inst, plan=model.plan([]),
                         status="no_solution", t0=T0, first_solution_s=None, out=args.out,
                         summary=args.summary, details=details)
    routes = []
    for route in best.routes():
        visits = [act.idx for act in route if act.is_client()]
        routes.append((route.vehicle_type(), visits))
    # PyVRP's own objective in mL: collected prizes minus distance cost.
    details["model_objective_ml"] = (best.prizes() - best.distance_cost()) / pc.COST_SCALE
    return pc.finish(solver="pyvrp", version=version, inst=inst, plan=model.plan(routes),
                     status="solved", t0=T0, first_solution_s=first.seconds, out=args.out,
                     summary=args.summary, details=details)


if __name__ == "__main__":
    sys.exit(main())
