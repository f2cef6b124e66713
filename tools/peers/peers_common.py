"""What the two peer solvers share: the integer model built from an instance, the plan and
summary files, timing and memory.

The model (identical for OR-Tools and PyVRP):

- a *routing vehicle* is one bloodmobile on one day of `days` when it is available;
- a *copy* is one (site, day, vehicle class) a stop could be: the site expects at least
  `min_expected_donors` that day, the stop is not forbidden, `last_visit` allows it, and some
  routing vehicle of the class that day can drive there, stop and drive back within its day.
  A vehicle class groups the vehicles whose stops look the same (max_donors, beds, setup,
  teardown, cost per km); there is one class per distinct combination, so with identical
  vehicles a copy is simply (site, day). A vehicle named by a fixed stop gets a class of its own;
- each copy has donors = min(expected, max_donors) (its load), a prize = its worth, value[d] x
  donors / expected[d] (donors x ml_per_donor when the site gives no `value`, as in v1), and a
  service time = setup + the site's extra_service_min + donors x bed_minutes_per_donor / beds +
  teardown;
- the copies of a site are mutually exclusive (a site at most once in the plan: the benchmark
  instances have min_days_between_visits >= the span of days). A site with a fixed stop keeps
  only the copies of the fixed date (and vehicle), and one of them is required.

Integer scaling, chosen so that a plan feasible in the integer model is feasible when evaluated
in floating point (evaluate.py, the Rust evaluator):

- time in whole seconds; travel and service times are rounded *up* (ceil);
- donors in thousandths of a donor, rounded up; capacity = max_donors x 1000;
- money in hundredths of a millilitre (COST_SCALE): prizes and km costs rounded to nearest.
  The objective is re-evaluated in floating point by evaluate.py for the report.
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate as ev  # noqa: E402

COST_SCALE = 100  # integer money unit: 0.01 mL
DONOR_SCALE = 1000  # integer load unit: 0.001 donor
# Slack against float noise before rounding up (a value 1e-9 over an integer is that integer).
ROUND_EPS = 1e-6


def ceil_int(x: float) -> int:
    return int(math.ceil(x - ROUND_EPS))


@dataclass
class VehicleClass:
    key: tuple
    max_donors: int
    beds: int
    setup_min: float
    teardown_min: float
    cost_per_km: float


@dataclass
class RoutingVehicle:
    vehicle: dict
    day: int
    date: str
    cls: int
    place: int  # index of its station in the place list
    start_min: int  # day_start, minutes after midnight
    end_min: int
    horizon_s: int  # (day_end - day_start) in seconds


@dataclass
class Copy:
    site: int  # index in inst.sites
    site_id: str
    place: int
    day: int
    cls: int
    donors: float
    prize_ml: float
    service_min: float
    demand: int  # donors x DONOR_SCALE, rounded up
    service_s: int  # rounded up
    prize: int  # prize_ml x COST_SCALE, rounded
    required: bool = False
    allowed: list[int] = field(default_factory=list)  # routing vehicles that may serve it


class Model:
    """The instance as routing vehicles, copies and travel matrices over places."""

    def __init__(self, inst: ev.Instance):
        self.inst = inst
        rules = inst.rules
        # Places: stations first, then sites; travel matrices are over places.
        self.place_ids = [s["id"] for s in inst.stations] + [s["id"] for s in inst.sites]
        self.place_index = {pid: i for i, pid in enumerate(self.place_ids)}
        self.n_stations = len(inst.stations)
        self.km, self.minutes = self._travel()
        self.travel_s = np.ceil(self.minutes * 60.0 - ROUND_EPS).astype(np.int64)
        np.fill_diagonal(self.travel_s, 0)
        self.travel_s = np.maximum(self.travel_s, 0)

        pinned = {f["vehicle"] for f in inst.fixed if f["vehicle"]}
        self.classes: list[VehicleClass] = []
        class_of_key: dict[tuple, int] = {}
        vehicle_class: dict[str, int] = {}
        for v in inst.vehicles:
            key = (
                v["max_donors"],
                v["beds"],
                float(v["setup_min"]),
                float(v["teardown_min"]),
                float(v["cost_per_km"]),
                v["id"] if v["id"] in pinned else None,
            )
            if key not in class_of_key:
                class_of_key[key] = len(self.classes)
                self.classes.append(
                    VehicleClass(key, v["max_donors"], v["beds"], key[2], key[3], key[4])
                )
            vehicle_class[v["id"]] = class_of_key[key]

        self.rvehicles: list[RoutingVehicle] = []
        for d, date in enumerate(inst.days):
            for v in inst.vehicles:
                if date in v["unavailable_dates"]:
                    continue
                self.rvehicles.append(
                    RoutingVehicle(
                        vehicle=v,
                        day=d,
                        date=str(date),
                        cls=vehicle_class[v["id"]],
                        place=self.place_index[v["station"]],
                        start_min=v["day_start_min"],
                        end_min=v["day_end_min"],
                        horizon_s=(v["day_end_min"] - v["day_start_min"]) * 60,
                    )
                )
        rv_by_day_class: dict[tuple[int, int], list[int]] = {}
        for i, rv in enumerate(self.rvehicles):
            rv_by_day_class.setdefault((rv.day, rv.cls), []).append(i)

        fixed_by_site: dict[str, dict] = {}
        self.ignored_fixed: list[dict] = []
        for f in inst.fixed:
            if f["site"] in fixed_by_site:
                # One disjunction per site allows one stop; a second fixed stop is left out.
                self.ignored_fixed.append(f)
            else:
                fixed_by_site[f["site"]] = f

        self.copies: list[Copy] = []
        self.copies_of_site: dict[int, list[int]] = {}
        min_exp = rules["min_expected_donors"]
        for si, site in enumerate(inst.sites):
            place = self.place_index[site["id"]]
            fixed = fixed_by_site.get(site["id"])
            for d, date in enumerate(inst.days):
                if fixed is not None and fixed["date"] != date:
                    continue
                expected = site["expected"][d]
                if fixed is None and (
                    expected < min_exp
                    or inst.is_forbidden(site["id"], date)
                    or not inst.last_visit_allows(site, date)
                ):
                    continue
                for c, vc in enumerate(self.classes):
                    rvs = rv_by_day_class.get((d, c), [])
                    if fixed is not None and fixed["vehicle"]:
                        rvs = [i for i in rvs if self.rvehicles[i].vehicle["id"] == fixed["vehicle"]]
                    if not rvs:
                        continue
                    donors = min(float(expected), float(vc.max_donors))
                    service_min = (
                        vc.setup_min
                        + inst.site_extra[site["id"]]
                        + donors * rules["bed_minutes_per_donor"] / vc.beds
                        + vc.teardown_min
                    )
                    service_s = ceil_int(service_min * 60.0)
                    allowed = [
                        i
                        for i in rvs
                        if fixed is not None
                        or int(self.travel_s[self.rvehicles[i].place, place])
                        + service_s
                        + int(self.travel_s[place, self.rvehicles[i].place])
                        <= self.rvehicles[i].horizon_s
                    ]
                    if not allowed:
                        continue
                    prize_ml = inst.worth(site["id"], d, donors)
                    self.copies_of_site.setdefault(si, []).append(len(self.copies))
                    self.copies.append(
                        Copy(
                            site=si,
                            site_id=site["id"],
                            place=place,
                            day=d,
                            cls=c,
                            donors=donors,
                            prize_ml=prize_ml,
                            service_min=service_min,
                            demand=ceil_int(donors * DONOR_SCALE),
                            service_s=service_s,
                            prize=int(round(prize_ml * COST_SCALE)),
                            required=fixed is not None,
                            allowed=allowed,
                        )
                    )

    def _travel(self) -> tuple[np.ndarray, np.ndarray]:
        inst = self.inst
        n = len(self.place_ids)
        if inst.travel["model"] == "matrix":
            ids = inst.travel["ids"]
            idx = np.array([ids.index(pid) for pid in self.place_ids])
            km = np.asarray(inst.travel["km"], dtype=float)[np.ix_(idx, idx)]
            minutes = np.asarray(inst.travel["minutes"], dtype=float)[np.ix_(idx, idx)]
            return km, minutes
        lon = np.radians([inst.position(pid)[0] for pid in self.place_ids])
        lat = np.radians([inst.position(pid)[1] for pid in self.place_ids])
        dlat = lat[None, :] - lat[:, None]
        dlon = lon[None, :] - lon[:, None]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        km = ev.EARTH_RADIUS_KM * 2.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))) * inst.travel["detour"]
        assert km.shape == (n, n)
        return km, km / inst.travel["speed_kmh"] * 60.0

    def km_cost(self, cost_per_km: float) -> np.ndarray:
        """Integer travel cost between places (COST_SCALE units) at this cost per km."""
        return np.rint(
            self.km * cost_per_km * self.inst.rules["ml_per_yuan"] * COST_SCALE
        ).astype(np.int64)

    def describe(self) -> dict:
        return {
            "sites": len(self.inst.sites),
            "days": len(self.inst.days),
            "routing_vehicles": len(self.rvehicles),
            "vehicle_classes": len(self.classes),
            "copies": len(self.copies),
            "sites_with_copies": len(self.copies_of_site),
        }

    def plan(self, routes: list[tuple[int, list[int]]]) -> dict:
        """A `donornet.plan.v1` from (routing vehicle, [copy, ...]) pairs; empty routes omitted."""
        out = []
        for rv_i, copies in sorted(routes, key=lambda r: (self.rvehicles[r[0]].day, r[0])):
            if not copies:
                continue
            rv = self.rvehicles[rv_i]
            out.append(
                {
                    "vehicle": rv.vehicle["id"],
                    "date": rv.date,
                    "stops": [{"site": self.copies[c].site_id} for c in copies],
                }
            )
        return {"format": ev.PLAN_FORMAT, "routes": out}


def peak_rss_mb() -> tuple[float, float]:
    """(self, children) peak resident set size in MiB (Linux reports ru_maxrss in KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, children


def arm_watchdog(
    *, solver: str, version: str, inst: ev.Instance, t0: float, time_limit: float,
    out: str | None, summary: str | None, details: dict,
) -> float:
    """Insurance against a solver that never returns from native code: writes an empty plan and
    a summary with status "killed" now, then ends the process (exit status 1, a traceback on
    stderr) from a C thread that needs no GIL, if it is still running after the limit plus a
    grace of max(30 s, the limit). A normal finish overwrites both files. Returns the deadline."""
    grace = max(30.0, time_limit)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump({"format": ev.PLAN_FORMAT, "routes": []}, fh)
            fh.write("\n")
    if summary:
        own, children = peak_rss_mb()
        with open(summary, "w", encoding="utf-8") as fh:
            json.dump({
                "solver": solver, "version": version, "status": "killed", "objective": 0.0,
                "first_solution_seconds": None, "seconds": time_limit + grace,
                "peak_rss_mb": own + children,
                "details": {**details, "instance": inst.name,
                            "note": f"the watchdog ended the process {grace:.0f} s after the time limit"},
            }, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
    remaining = time_limit + grace - (time.perf_counter() - t0)
    faulthandler.dump_traceback_later(max(1.0, remaining), exit=True)
    return remaining


def finish(
    *,
    solver: str,
    version: str,
    inst: ev.Instance,
    plan: dict,
    status: str,
    t0: float,
    first_solution_s: float | None,
    out: str | None,
    summary: str | None,
    details: dict,
) -> int:
    """Evaluates the plan, writes the plan and summary files, prints a report on stderr."""
    faulthandler.cancel_dump_traceback_later()
    seconds = time.perf_counter() - t0
    result = ev.evaluate(inst, plan)
    if status == "solved" and not result["feasible"]:
        status = "infeasible"
    own, children = peak_rss_mb()
    summary_obj = {
        "solver": solver,
        "version": version,
        "status": status,
        "objective": result["objective"],
        "first_solution_seconds": first_solution_s,
        "seconds": seconds,
        "peak_rss_mb": own + children,
        "details": {
            **details,
            "instance": inst.name,
            "feasible": result["feasible"],
            "violations": result["violations"][:20],
            "collected_ml": result["collected_ml"],
            "travel_ml": result["travel_ml"],
            "km": result["km"],
            "donors": result["donors"],
            "routes": result["routes_count"],
            "stops": result["stops_count"],
            "peak_rss_self_mb": own,
            "peak_rss_children_mb": children,
        },
    }
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(plan, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
    else:
        json.dump(plan, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    if summary:
        with open(summary, "w", encoding="utf-8") as fh:
            json.dump(summary_obj, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
    fs = "-" if first_solution_s is None else f"{first_solution_s:.2f}"
    print(
        f"{solver} {version}: status {status}, objective {result['objective']:.1f} mL"
        f" (collected {result['collected_ml']:.1f}, travel {result['travel_ml']:.1f}),"
        f" {result['routes_count']} routes, {result['stops_count']} stops,"
        f" feasible {result['feasible']}, first solution {fs} s, total {seconds:.2f} s,"
        f" peak RSS {own + children:.1f} MiB",
        file=sys.stderr,
    )
    for v in result["violations"][:20]:
        print(f"  violation: {v}", file=sys.stderr)
    return 0 if status in ("solved", "no_solution") else 1
