#!/usr/bin/env python3
"""Solves a donornet plan instance with Google OR-Tools routing (the benchmark's first peer).

    ortools_solve.py INSTANCE.json --time-limit SECONDS [--out PLAN.json] [--summary SUMMARY.json]
        [--first-solution PATH_CHEAPEST_ARC] [--transit auto|matrix|callback] [--limit-search-only]

Model (issue 5: "one routing vehicle per bloodmobile-day, each site an optional node in one
disjunction over its day copies, time and capacity dimensions, GUIDED_LOCAL_SEARCH"):

- nodes: one depot node per station, then one node per copy (site, day, vehicle class; see
  peers_common.py) for the days the site is allowed. A copy's prize is the stop's worth (v2:
  value[d] x donors / expected[d]; v1: donors x ml_per_donor), its demand the donors, its
  service time setup + the site's extra_service_min + donation + teardown;
- routing vehicles: one per bloodmobile and available day, starting and ending at its station
  node; a copy of day d may only be served by that day's routing vehicles of its class
  (SetAllowedVehiclesForIndex);
- one AddDisjunction per site over all its copies, max_cardinality 1, penalty = the site's best
  prize (P_max). Prize differences between days are put on the arcs: an arc entering a copy
  costs its km cost plus (P_max - prize of the copy). The objective is then
  travel + sum over visited sites (P_max - prize) + sum over skipped sites P_max
  = sum over all sites P_max - (collected - travel): minimising it maximises the README's
  objective exactly (up to integer rounding);
- time dimension in seconds: transit(i, j) = travel(i, j) + service(j), both rounded up (the
  service is charged on arrival, which leaves every route's duration unchanged and lets all
  copies of a place share one matrix row), no slack, cumul at start fixed to 0 (= day_start),
  capacity per vehicle = day_end - day_start;
- capacity dimension: donors in thousandths (rounded up), capacity = max_donors x 1000;
- first solution PATH_CHEAPEST_ARC (default), then GUIDED_LOCAL_SEARCH until the time limit.

`--time-limit` is the whole wall budget by default: model building is subtracted from the
search's time limit (`--limit-search-only` gives the search the full limit instead).
Transit costs go to OR-Tools as C++-side matrices (RegisterTransitMatrix) when the node count is
moderate, else as Python callbacks over the small place x place matrices (`--transit`).
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
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # noqa: E402
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE  # noqa: E402

import peers_common as pc  # noqa: E402

# Above this many nodes, transits are Python callbacks instead of C++-side matrices: OR-Tools
# holds 8 N^2 bytes per matrix and converting it from Python takes ~0.03 us per entry.
MATRIX_MAX_NODES = 10000
# Local search operators switched on beyond OR-Tools' defaults (see --operator).
DEFAULT_OPERATORS: list[str] = []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance")
    ap.add_argument("--time-limit", type=float, required=True, help="seconds")
    ap.add_argument("--seed", type=int, default=None,
                    help="accepted for a uniform command line; OR-Tools' routing search is deterministic")
    ap.add_argument("--out", help="plan file (default: stdout)")
    ap.add_argument("--summary", help="summary JSON file")
    ap.add_argument(
        "--first-solution",
        default="PATH_CHEAPEST_ARC",
        choices=list(routing_enums_pb2.FirstSolutionStrategy.Value.keys()),
    )
    ap.add_argument("--transit", choices=["auto", "matrix", "callback"], default="auto")
    ap.add_argument("--limit-search-only", action="store_true",
                    help="give the search the full --time-limit (default: minus model building)")
    ap.add_argument("--prize-on", choices=["arcs", "dimension"], default="arcs",
                    help="where a copy's prize shortfall (best prize of its site - its prize) is charged")
    ap.add_argument("--operator", action="append", default=[], metavar="NAME[=false]",
                    help="switch a local search operator on (or off), e.g. use_extended_swap_active")
    ap.add_argument("--log", action="store_true", help="OR-Tools search log on stderr")
    args = ap.parse_args()
    version = importlib.metadata.version("ortools")

    inst = pc.ev.Instance.load(args.instance)
    model = pc.Model(inst)
    copies, rvs = model.copies, model.rvehicles
    n_dep = model.n_stations
    n_nodes = n_dep + len(copies)
    details = {**model.describe(), "nodes": n_nodes, "seed_ignored": args.seed, "first_solution_strategy": args.first_solution,
               "metaheuristic": "GUIDED_LOCAL_SEARCH"}

    def give_up(status: str) -> int:
        return pc.finish(solver="ortools", version=version, inst=inst, plan=model.plan([]),
                         status=status, t0=T0, first_solution_s=None, out=args.out,
                         summary=args.summary, details=details)

    if not rvs or not copies:
        # Nothing can be visited: the empty plan is the optimum.
        return pc.finish(solver="ortools", version=version, inst=inst, plan=model.plan([]),
                         status="solved", t0=T0, first_solution_s=time.perf_counter() - T0,
                         out=args.out, summary=args.summary, details=details)

    # Node data. Depot node k = station k (place k); copy node n_dep + c.
    node_place = np.array(list(range(n_dep)) + [c.place for c in copies], dtype=np.int64)
    node_service = np.array([0] * n_dep + [c.service_s for c in copies], dtype=np.int64)
    node_demand = [0] * n_dep + [c.demand for c in copies]
    best_prize = {si: max(copies[c].prize for c in cs) for si, cs in model.copies_of_site.items()}
    node_adjust = np.array([0] * n_dep + [best_prize[c.site] - c.prize for c in copies], dtype=np.int64)

    manager = pywrapcp.RoutingIndexManager(
        n_nodes, len(rvs), [rv.place for rv in rvs], [rv.place for rv in rvs]
    )
    routing = pywrapcp.RoutingModel(manager)
    use_matrix = args.transit == "matrix" or (args.transit == "auto" and n_nodes <= MATRIX_MAX_NODES)
    details["transit"] = "matrix" if use_matrix else "callback"

    # Every transit depends on the place of the node left and on the node entered only, so the
    # N x N matrices are built from one row per place, shared by all the copies of that place.
    # Time: travel (seconds, rounded up) + the service at the node entered. Charging a stop's
    # service on arrival rather than on departure gives every route the same total duration
    # (the return to the station has no service), and sites have no time windows.
    tt_rows = (model.travel_s[:, node_place] + node_service[None, :]).tolist()
    if use_matrix:
        time_cb = routing.RegisterTransitMatrix([tt_rows[p] for p in node_place.tolist()])
    else:
        place_l = node_place.tolist()
        index_to_node = manager.IndexToNode

        def time_fn(i: int, j: int) -> int:
            return tt_rows[place_l[index_to_node(i)]][index_to_node(j)]

        time_cb = routing.RegisterTransitCallback(time_fn)
    routing.AddDimensionWithVehicleCapacity(
        time_cb, 0, [rv.horizon_s for rv in rvs], True, "time"
    )

    # Donors.
    demand_cb = routing.RegisterUnaryTransitVector(node_demand)
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [model.classes[rv.cls].max_donors * pc.DONOR_SCALE for rv in rvs], True, "donors"
    )

    # Arc costs: km cost (per cost per km) + the prize shortfall of the copy entered.
    cost_cbs: dict[float, int] = {}
    keep_alive = [time_fn] if not use_matrix else []  # Python callbacks outlive the solve
    for v_i, rv in enumerate(rvs):
        cpk = model.classes[rv.cls].cost_per_km
        if cpk not in cost_cbs:
            rows = model.km_cost(cpk)[:, node_place]
            if args.prize_on == "arcs":
                rows = rows + node_adjust[None, :]
            rows = rows.tolist()
            if use_matrix:
                cost_cbs[cpk] = routing.RegisterTransitMatrix([rows[p] for p in node_place.tolist()])
            else:
                place_l = node_place.tolist()
                index_to_node = manager.IndexToNode

                def cost_fn(i: int, j: int, rows=rows, place_l=place_l) -> int:
                    return rows[place_l[index_to_node(i)]][index_to_node(j)]

                keep_alive.append(cost_fn)
                cost_cbs[cpk] = routing.RegisterTransitCallback(cost_fn)
        routing.SetArcCostEvaluatorOfVehicle(cost_cbs[cpk], v_i)

    if args.prize_on == "dimension":
        # The same shortfall as a unary dimension whose span cost (coefficient 1) is the sum of
        # the shortfalls along the route: arc costs stay pure travel for GLS to penalise.
        shortfall_cb = routing.RegisterUnaryTransitVector(node_adjust.tolist())
        routing.AddDimension(shortfall_cb, 0, int(node_adjust.sum()) + 1, True, "shortfall")
        routing.GetDimensionOrDie("shortfall").SetSpanCostCoefficientForAllVehicles(1)
    details["prize_on"] = args.prize_on

    # Which routing vehicles may serve each copy; one disjunction per site.
    # OR-Tools 9.15.6755's SWIG wrapper refuses every Python sequence for
    # SetAllowedVehiclesForIndex's absl::Span<const int> (9.14 accepts a list). The fallback
    # restricts the node's vehicle variable to the same set (-1 = unperformed), which is the
    # constraint CloseModel derives from the allowed set anyway.
    allowed_api = True
    for c_i, c in enumerate(copies):
        index = manager.NodeToIndex(n_dep + c_i)
        if len(c.allowed) == len(rvs):
            continue
        if allowed_api:
            try:
                routing.SetAllowedVehiclesForIndex(c.allowed, index)
                continue
            except TypeError:
                allowed_api = False
        routing.VehicleVar(index).SetValues([-1] + c.allowed)
    details["allowed_vehicles_via"] = "SetAllowedVehiclesForIndex" if allowed_api else "VehicleVar.SetValues"
    for si, cs in model.copies_of_site.items():
        indices = [manager.NodeToIndex(n_dep + c) for c in cs]
        if copies[cs[0]].required:
            if len(indices) > 1:
                routing.AddDisjunction(indices)  # exactly one, no penalty: mandatory
            # a single required copy stays out of any disjunction: OR-Tools must perform it
        else:
            routing.AddDisjunction(indices, best_prize[si], 1)

    first_solution = [None]

    def on_solution() -> None:
        if first_solution[0] is None:
            first_solution[0] = time.perf_counter() - T0

    routing.AddAtSolutionCallback(on_solution)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, args.first_solution
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    built = time.perf_counter() - T0
    search_limit = args.time_limit if args.limit_search_only else max(0.1, args.time_limit - built)
    params.time_limit.FromMilliseconds(int(search_limit * 1000))
    params.log_search = args.log
    operators = list(DEFAULT_OPERATORS) + args.operator
    for op in operators:
        name, _, value = op.partition("=")
        on = value.lower() not in ("false", "0", "off", "no")
        setattr(params.local_search_operators, name, BOOL_TRUE if on else BOOL_FALSE)
    details["extra_operators"] = operators
    details["build_seconds"] = built
    details["search_limit_seconds"] = search_limit

    pc.arm_watchdog(solver="ortools", version=version, inst=inst, t0=T0, time_limit=args.time_limit,
                    out=args.out, summary=args.summary, details=details)
    solution = routing.SolveWithParameters(params)
    status_code = routing.status()
    details["routing_status"] = routing_enums_pb2.RoutingSearchStatus.Value.Name(status_code)
    if solution is None:
        return give_up("no_solution")

    routes = []
    for v_i in range(len(rvs)):
        idx = routing.Start(v_i)
        seq = []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            seq.append(manager.IndexToNode(idx) - n_dep)
            idx = solution.Value(routing.NextVar(idx))
        routes.append((v_i, seq))
    # The model's own objective, back in mL: sum of best prizes minus the minimised cost.
    details["model_objective_ml"] = (sum(best_prize.values()) - solution.ObjectiveValue()) / pc.COST_SCALE
    return pc.finish(solver="ortools", version=version, inst=inst, plan=model.plan(routes),
                     status="solved", t0=T0, first_solution_s=first_solution[0], out=args.out,
                     summary=args.summary, details=details)


if __name__ == "__main__":
    sys.exit(main())
