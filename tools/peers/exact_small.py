#!/usr/bin/env python3
"""Exact optimum of a *tiny* plan instance, to check the peers (and the planner) against.

    python3 exact_small.py INSTANCE.json [--out PLAN.json]

Enumerates, for every bloodmobile-day, every set of sites it could serve in one route (the best
order found by trying all orders), then a dynamic programme over subsets of sites picks disjoint
routes maximising the objective. Exponential: at most 16 sites with allowed copies, and each site
at most once in the plan (min_days_between_visits >= the span of days), no fixed stops.
Reads v1 and v2 instances (a stop is worth value[d] x donors / expected[d], and lasts the site's
extra_service_min longer). Pure standard library; uses evaluate.py's instance model and checks its plan with evaluate().
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

import evaluate as ev


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance")
    ap.add_argument("--out")
    args = ap.parse_args()
    t0 = time.perf_counter()
    inst = ev.Instance.load(args.instance)
    rules = inst.rules
    span = (inst.days[-1] - inst.days[0]).days
    if rules["min_days_between_visits"] <= span or inst.fixed:
        sys.exit("exact_small: needs each site at most once in the plan and no fixed stops")
    sites = [s["id"] for s in inst.sites]
    rvs = [(v, d, date) for d, date in enumerate(inst.days) for v in inst.vehicles
           if date not in v["unavailable_dates"]]
    allowed = {
        (si, d)
        for si, s in enumerate(inst.sites)
        for d, date in enumerate(inst.days)
        if s["expected"][d] >= rules["min_expected_donors"]
        and not inst.is_forbidden(s["id"], date)
        and inst.last_visit_allows(s, date)
    }
    used_sites = sorted({si for si, _ in allowed})
    if len(used_sites) > 16:
        sys.exit(f"exact_small: {len(used_sites)} sites, at most 16")
    bit = {si: 1 << k for k, si in enumerate(used_sites)}
    full = (1 << len(used_sites)) - 1
    legs: dict[tuple[str, str], tuple[float, float]] = {}

    def leg(a: str, b: str) -> tuple[float, float]:
        if (a, b) not in legs:
            legs[(a, b)] = inst.leg(a, b)
        return legs[(a, b)]

    def best_route(v: dict, d: int, members: tuple[int, ...]):
        """(value, order) of the best feasible order of these sites, or None."""
        donors = [min(inst.sites[si]["expected"][d], v["max_donors"]) for si in members]
        if sum(donors) > v["max_donors"] + ev.EPS:
            return None
        service = {si: inst.stop_minutes(v, dn, sites[si]) for si, dn in zip(members, donors)}
        best = None
        for order in itertools.permutations(members):
            t, km, here = float(v["day_start_min"]), 0.0, v["station"]
            for si in order:
                k, m = leg(here, sites[si])
                km, t, here = km + k, t + m + service[si], sites[si]
            k, m = leg(here, v["station"])
            km, t = km + k, t + m
            if t <= v["day_end_min"] + ev.EPS and (best is None or km < best[0]):
                best = (km, order)
        if best is None:
            return None
        worth = sum(inst.worth(sites[si], d, dn) for si, dn in zip(members, donors))
        value = worth - best[0] * v["cost_per_km"] * rules["ml_per_yuan"]
        return value, best[1]

    # For each routing vehicle: best value of a route over exactly the sites of each mask.
    tables = []
    for v, d, _ in rvs:
        cand = [si for si in used_sites if (si, d) in allowed]
        routes = {0: (0.0, ())}
        frontier = [()]
        while frontier:
            nxt = []
            for members in frontier:
                for si in cand:
                    if members and si <= members[-1]:
                        continue
                    grown = members + (si,)
                    # Removing a stop never makes a route infeasible, so grow feasible sets only.
                    if any(sum(bit[x] for x in grown if x != y) not in routes for y in grown):
                        continue
                    r = best_route(v, d, grown)
                    if r is not None:
                        routes[sum(bit[x] for x in grown)] = r
                        nxt.append(grown)
            frontier = nxt
        tables.append(routes)

    # F[mask] = best value with the routing vehicles so far visiting exactly `mask`.
    neg = float("-inf")
    F = [neg] * (full + 1)
    F[0] = 0.0
    choice = []
    for routes in tables:
        G = [neg] * (full + 1)
        pick = [0] * (full + 1)
        items = list(routes.items())
        for m in range(full + 1):
            if F[m] == neg:
                continue
            for s, (val, _) in items:
                if s & m:
                    continue
                if F[m] + val > G[m | s]:
                    G[m | s] = F[m] + val
                    pick[m | s] = s
        F = G
        choice.append(pick)
    best_mask = max(range(full + 1), key=lambda m: F[m])
    # Walk back.
    plan_routes = []
    m = best_mask
    for k in range(len(rvs) - 1, -1, -1):
        s = choice[k][m]
        v, d, date = rvs[k]
        if s:
            order = tables[k][s][1]
            plan_routes.append({"vehicle": v["id"], "date": str(date),
                                "stops": [{"site": sites[si]} for si in order]})
        m ^= s
    plan_routes.reverse()
    plan = {"format": ev.PLAN_FORMAT, "routes": plan_routes}
    result = ev.evaluate(inst, plan)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(plan, fh, indent=1)
            fh.write("\n")
    print(
        f"exact: objective {result['objective']:.3f} mL (DP {F[best_mask]:.3f}), "
        f"{result['routes_count']} routes, {result['stops_count']} stops, feasible "
        f"{result['feasible']}, {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0 if result["feasible"] else 1


if __name__ == "__main__":
    sys.exit(main())
