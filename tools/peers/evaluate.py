#!/usr/bin/env python3
"""Independent evaluator of donornet plans (pure Python standard library).

Given a plan instance (`donornet.plan-instance.v1` or `.v2`) and a plan (`donornet.plan.v1`), computes
each route's timing, kilometres and donors, the objective in millilitres, and every violated
constraint. It is written from the README ("Plan instances") and `src/planning/instance.rs`,
independently of the Rust code, so the two can be cross-checked.

    python3 evaluate.py INSTANCE.json PLAN.json [--json] [--quiet]

Exit status: 0 when the plan is feasible, 1 when it violates a constraint, 2 on unreadable input.

Semantics (README, "Plan instances"):
- a route is one vehicle on one day; it leaves its station at `day_start` (or a later `depart`),
  drives to each stop in turn and must be back by `day_end`;
- at a stop: arrive; set up (`setup_min`); donors are taken from `start` (arrival + setup, or the
  stop's own `start` if later) for `donors x bed_minutes_per_donor / beds` minutes until `end`;
  pack up (`teardown_min`); leave;
- donors at a stop = min(expected, vehicle max_donors) where expected = site.expected[day] less
  `repeat_loss` x the donors earlier stops of the plan took at that site (never below 0);
- travel: `straight_line` = haversine km (mean Earth radius 6371.0088 km, as geo's Haversine) x
  `detour`, minutes = km / speed_kmh x 60; or the `matrix` model's km and minutes;
- v2 (issue 17): a site may give `value` (one number >= 0 per day: what a stop that day is worth
  in mL-equivalents when all `expected` donors are taken; default expected x ml_per_donor) and
  `extra_service_min` (>= 0, default 0: minutes added to every stop there, counted with the
  setup, so donations start that much later); a stop's worth = value[d] x donors / expected[d]
  (expected[d] as in the file; 0 when it is 0), which is donors x ml_per_donor by default;
- objective = sum over stops of their worth - sum over routes km x cost_per_km x ml_per_yuan;
- feasible when every route's vehicle exists and is available that day (a planning day), at most
  one route per vehicle and day, each route is back by day_end and takes at most max_donors, each
  stop expects at least min_expected_donors, no stop is forbidden, every fixed stop is made, and
  the interval rule holds (two stops at a site, or a stop and the site's last_visit, at least
  min_days_between_visits days apart).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys

INSTANCE_FORMAT = "donornet.plan-instance.v1"
INSTANCE_FORMAT_V2 = "donornet.plan-instance.v2"
INSTANCE_FORMATS = (INSTANCE_FORMAT, INSTANCE_FORMAT_V2)
PLAN_FORMAT = "donornet.plan.v1"
EARTH_RADIUS_KM = 6371.0088
# Float slack when comparing times (minutes) and donor counts.
EPS = 1e-6


def parse_clock(s: str) -> int:
    """"HH:MM" -> minutes after midnight ("24:00" allowed)."""
    if s == "24:00":
        return 24 * 60
    try:
        t = dt.datetime.strptime(s, "%H:%M")
    except (TypeError, ValueError):
        raise ValueError(f"expected a time of day as HH:MM, got {s!r}") from None
    return t.hour * 60 + t.minute


def fmt_clock(minutes: float) -> str:
    """Minutes after midnight -> "HH:MM" (seconds shown when not whole)."""
    whole = int(math.floor(minutes + 1e-9))
    sec = round((minutes - whole) * 60)
    if sec >= 60:
        whole, sec = whole + 1, sec - 60
    s = f"{whole // 60:02d}:{whole % 60:02d}"
    return s + (f":{sec:02d}" if sec else "")


def parse_date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = math.radians(lat2 - lat1)
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return EARTH_RADIUS_KM * 2.0 * math.asin(math.sqrt(a))


class Instance:
    """A parsed plan instance with the lookups solvers and the evaluator need."""

    def __init__(self, raw: dict):
        if raw.get("format") not in INSTANCE_FORMATS:
            raise ValueError(f"format: expected one of {INSTANCE_FORMATS!r}, got {raw.get('format')!r}")
        self.raw = raw
        self.v2 = raw["format"] == INSTANCE_FORMAT_V2
        self.name = raw.get("name", "")
        self.days = [parse_date(d) for d in raw["days"]]
        if not self.days or any(a >= b for a, b in zip(self.days, self.days[1:])):
            raise ValueError("days: must be non-empty, ascending, without repeats")
        self.day_index = {d: i for i, d in enumerate(self.days)}
        self.stations = raw["stations"]
        self.station_by_id = {s["id"]: s for s in self.stations}
        self.vehicles = []
        for v in raw["vehicles"]:
            v = dict(v)
            v["day_start_min"] = parse_clock(v["day_start"])
            v["day_end_min"] = parse_clock(v["day_end"])
            v["unavailable_dates"] = {parse_date(d) for d in v.get("unavailable", [])}
            if v["station"] not in self.station_by_id:
                raise ValueError(f"vehicle {v['id']}: no such station {v['station']!r}")
            if v["beds"] < 1 or v["max_donors"] < 1:
                raise ValueError(f"vehicle {v['id']}: beds and max_donors must be at least 1")
            self.vehicles.append(v)
        self.vehicle_by_id = {v["id"]: v for v in self.vehicles}
        self.sites = raw["sites"]
        self.site_by_id = {s["id"]: s for s in self.sites}
        for s in self.sites:
            if len(s["expected"]) != len(self.days):
                raise ValueError(f"site {s['id']}: expected needs one value per day")
            for field in ("value", "extra_service_min"):
                if field in s and not self.v2:
                    raise ValueError(f"site {s['id']}: {field} needs format {INSTANCE_FORMAT_V2!r}")
            if s.get("value") is not None:
                value = s["value"]
                if not isinstance(value, list) or len(value) != len(self.days) or not all(
                    _finite_non_negative(x) for x in value
                ):
                    raise ValueError(
                        f"site {s['id']}: value needs one finite number >= 0 per day"
                    )
            if s.get("extra_service_min") is not None and not _finite_non_negative(
                s["extra_service_min"]
            ):
                raise ValueError(f"site {s['id']}: extra_service_min must be a finite number >= 0")
        rules = {
            "min_expected_donors": 10.0,
            "min_days_between_visits": 180,
            "ml_per_donor": 400.0,
            "ml_per_yuan": 1.5,
            "bed_minutes_per_donor": 15.0,
        }
        rules.update(raw.get("rules") or {})
        self.rules = rules
        # Per site: value per day (mL-equivalents when all expected donors come) and extra minutes.
        self.site_value = {
            s["id"]: (
                [float(x) for x in s["value"]]
                if s.get("value") is not None
                else [float(e) * rules["ml_per_donor"] for e in s["expected"]]
            )
            for s in self.sites
        }
        self.site_extra = {s["id"]: float(s.get("extra_service_min") or 0.0) for s in self.sites}
        self.travel = raw.get("travel") or {"model": "straight_line", "detour": 1.3, "speed_kmh": 40.0}
        if self.travel["model"] == "matrix":
            ids = self.travel["ids"]
            self._mindex = {pid: i for i, pid in enumerate(ids)}
            for pid in list(self.station_by_id) + list(self.site_by_id):
                if pid not in self._mindex:
                    raise ValueError(f"travel.ids: {pid!r} is not in the matrix")
        elif self.travel["model"] != "straight_line":
            raise ValueError(f"travel.model: unknown {self.travel['model']!r}")
        self.fixed = [
            {"site": f["site"], "date": parse_date(f["date"]), "vehicle": f.get("vehicle")}
            for f in raw.get("fixed", [])
        ]
        self.forbidden = [
            {"site": f["site"], "date": parse_date(f["date"]) if f.get("date") else None}
            for f in raw.get("forbidden", [])
        ]

    @classmethod
    def load(cls, path: str) -> "Instance":
        with open(path, encoding="utf-8") as fh:
            return cls(json.load(fh))

    def position(self, place_id: str) -> tuple[float, float]:
        p = self.station_by_id.get(place_id) or self.site_by_id[place_id]
        return p["lon"], p["lat"]

    def leg(self, a: str, b: str) -> tuple[float, float]:
        """(km, minutes) from place a to place b (station or site ids)."""
        if self.travel["model"] == "matrix":
            i, j = self._mindex[a], self._mindex[b]
            return float(self.travel["km"][i][j]), float(self.travel["minutes"][i][j])
        (lon1, lat1), (lon2, lat2) = self.position(a), self.position(b)
        km = haversine_km(lon1, lat1, lon2, lat2) * self.travel["detour"]
        return km, km / self.travel["speed_kmh"] * 60.0

    def is_forbidden(self, site_id: str, date: dt.date) -> bool:
        return any(f["site"] == site_id and f["date"] in (None, date) for f in self.forbidden)

    def last_visit_allows(self, site: dict, date: dt.date) -> bool:
        lv = site.get("last_visit")
        if not lv:
            return True
        return (date - parse_date(lv)).days >= self.rules["min_days_between_visits"]

    def vehicle_available(self, v: dict, date: dt.date) -> bool:
        return date in self.day_index and date not in v["unavailable_dates"]

    def stop_minutes(self, v: dict, donors: float, site_id: str | None = None) -> float:
        """Setup + the site's extra minutes + donation + teardown at one stop."""
        return (
            v["setup_min"]
            + (self.site_extra[site_id] if site_id is not None else 0.0)
            + donors * self.rules["bed_minutes_per_donor"] / v["beds"]
            + v["teardown_min"]
        )

    def worth(self, site_id: str, day: int, donors: float) -> float:
        """What a stop taking `donors` at the site on day index `day` is worth, in mL:
        value[day] x donors / expected[day] (0 when expected is 0)."""
        expected = float(self.site_by_id[site_id]["expected"][day])
        if expected <= 0.0:
            return 0.0
        return self.site_value[site_id][day] * donors / expected


def _finite_non_negative(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0


def evaluate(inst: Instance, plan: dict) -> dict:
    """Evaluates a plan; returns routes with timing, totals, the objective and violations."""
    rules = inst.rules
    violations: list[str] = []
    if plan.get("format") not in (None, PLAN_FORMAT):
        violations.append(f"plan format: expected {PLAN_FORMAT!r}, got {plan.get('format')!r}")
    routes_in = plan.get("routes", [])
    # Stops are processed in date order so repeat_loss sees earlier stops first.
    order = sorted(range(len(routes_in)), key=lambda i: (routes_in[i].get("date", ""), i))
    taken: dict[str, float] = {}  # donors already taken at a site by earlier stops
    visits: dict[str, list[tuple[dt.date, str]]] = {}  # site -> (date, where) of each stop
    seen_vehicle_days: dict[tuple[str, dt.date], int] = {}
    out_routes: list[dict | None] = [None] * len(routes_in)
    total_collected = total_travel = total_km = total_donors = 0.0
    n_stops = 0

    for ri in order:
        r = routes_in[ri]
        where = f"routes[{ri}]"
        vid = r.get("vehicle")
        v = inst.vehicle_by_id.get(vid)
        try:
            date = parse_date(r["date"])
        except (KeyError, TypeError, ValueError):
            violations.append(f"{where}: missing or invalid date {r.get('date')!r}")
            continue
        if v is None:
            violations.append(f"{where}: no such vehicle {vid!r}")
            continue
        day = inst.day_index.get(date)
        if day is None:
            violations.append(f"{where}: {date} is not a planning day")
        elif date in v["unavailable_dates"]:
            violations.append(f"{where}: vehicle {vid} is unavailable on {date}")
        key = (vid, date)
        if key in seen_vehicle_days:
            violations.append(
                f"{where}: vehicle {vid} already has a route on {date} (routes[{seen_vehicle_days[key]}])"
            )
        else:
            seen_vehicle_days[key] = ri
        station = v["station"]
        depart = v["day_start_min"]
        if r.get("depart") is not None:
            depart = parse_clock(r["depart"])
            if depart < v["day_start_min"]:
                violations.append(
                    f"{where}: departs at {r['depart']}, before day_start {v['day_start']}"
                )
        t = float(depart)
        here = station
        km = route_donors = route_worth = 0.0
        stops_out = []
        for si, stop in enumerate(r.get("stops", [])):
            sw = f"{where}.stops[{si}]"
            sid = stop.get("site")
            site = inst.site_by_id.get(sid)
            if site is None:
                violations.append(f"{sw}: no such site {sid!r}")
                continue
            leg_km, leg_min = inst.leg(here, sid)
            km += leg_km
            arrive = t + leg_min
            start = arrive + v["setup_min"] + inst.site_extra[sid]
            if stop.get("start") is not None:
                start = max(start, float(parse_clock(stop["start"])))
            expected = 0.0
            if day is not None:
                expected = max(0.0, site["expected"][day] - site.get("repeat_loss", 0.0) * taken.get(sid, 0.0))
                if expected + EPS < rules["min_expected_donors"]:
                    violations.append(
                        f"{sw}: {sid} expects {expected:.2f} donors on {date}, "
                        f"below min_expected_donors {rules['min_expected_donors']}"
                    )
            donors = min(expected, float(v["max_donors"]))
            end = start + donors * rules["bed_minutes_per_donor"] / v["beds"]
            leave = end + v["teardown_min"]
            if inst.is_forbidden(sid, date):
                violations.append(f"{sw}: {sid} is forbidden on {date}")
            if not inst.last_visit_allows(site, date):
                violations.append(
                    f"{sw}: {sid} was last visited {site['last_visit']}, fewer than "
                    f"{rules['min_days_between_visits']} days before {date}"
                )
            visits.setdefault(sid, []).append((date, sw))
            taken[sid] = taken.get(sid, 0.0) + donors
            route_donors += donors
            worth = inst.worth(sid, day, donors) if day is not None else 0.0
            route_worth += worth
            stops_out.append(
                {
                    "site": sid,
                    "arrive": arrive,
                    "start": start,
                    "end": end,
                    "leave": leave,
                    "km_from_previous": leg_km,
                    "expected": expected,
                    "donors": donors,
                    "worth_ml": worth,
                }
            )
            t = leave
            here = sid
        back = t
        if stops_out:
            leg_km, leg_min = inst.leg(here, station)
            km += leg_km
            back = t + leg_min
        else:
            back = float(depart)
        if back > v["day_end_min"] + EPS:
            violations.append(
                f"{where}: back at {fmt_clock(back)}, after day_end {v['day_end']} "
                f"({back - v['day_end_min']:.2f} min late)"
            )
        if route_donors > v["max_donors"] + EPS:
            violations.append(
                f"{where}: takes {route_donors:.2f} donors, more than max_donors {v['max_donors']}"
            )
        collected = route_worth
        travel = km * v["cost_per_km"] * rules["ml_per_yuan"]
        total_collected += collected
        total_travel += travel
        total_km += km
        total_donors += route_donors
        n_stops += len(stops_out)
        out_routes[ri] = {
            "vehicle": vid,
            "date": str(date),
            "depart": float(depart),
            "back": back,
            "km": km,
            "donors": route_donors,
            "collected_ml": collected,
            "travel_ml": travel,
            "stops": stops_out,
        }

    # Interval rule between stops of the plan at the same site.
    gap = rules["min_days_between_visits"]
    for sid, vs in visits.items():
        vs.sort()
        for (d1, w1), (d2, w2) in zip(vs, vs[1:]):
            if (d2 - d1).days < gap:
                violations.append(
                    f"{w2}: {sid} again on {d2}, {(d2 - d1).days} days after {w1} on {d1} "
                    f"(min_days_between_visits {gap})"
                )
    # Fixed stops must be made.
    for fi, f in enumerate(inst.fixed):
        made = any(
            r is not None
            and r["date"] == str(f["date"])
            and (f["vehicle"] is None or r["vehicle"] == f["vehicle"])
            and any(s["site"] == f["site"] for s in r["stops"])
            for r in out_routes
        )
        if not made:
            violations.append(
                f"fixed[{fi}]: {f['site']} on {f['date']}"
                + (f" by {f['vehicle']}" if f["vehicle"] else "")
                + " is not in the plan"
            )

    return {
        "instance": inst.name,
        "feasible": not violations,
        "objective": total_collected - total_travel,
        "collected_ml": total_collected,
        "travel_ml": total_travel,
        "km": total_km,
        "donors": total_donors,
        "routes_count": sum(1 for r in out_routes if r is not None and r["stops"]),
        "stops_count": n_stops,
        "routes": [r for r in out_routes if r is not None],
        "violations": violations,
    }


def render(result: dict, detail: bool = True) -> str:
    lines = []
    for r in result["routes"] if detail else []:
        lines.append(
            f"{r['date']} {r['vehicle']}: {len(r['stops'])} stops, {r['donors']:.1f} donors, "
            f"{r['km']:.2f} km, depart {fmt_clock(r['depart'])}, back {fmt_clock(r['back'])}"
        )
        for s in r["stops"]:
            lines.append(
                f"    {s['site']}: arrive {fmt_clock(s['arrive'])}, donors {fmt_clock(s['start'])}"
                f"-{fmt_clock(s['end'])}, leave {fmt_clock(s['leave'])}, {s['donors']:.1f} donors"
            )
    lines.append(
        f"objective {result['objective']:.3f} mL = collected {result['collected_ml']:.3f} mL"
        f" - travel {result['travel_ml']:.3f} mL ({result['km']:.3f} km);"
        f" {result['routes_count']} routes, {result['stops_count']} stops,"
        f" {result['donors']:.2f} donors"
    )
    if result["violations"]:
        lines.append(f"INFEASIBLE: {len(result['violations'])} violation(s)")
        lines.extend("  - " + v for v in result["violations"])
    else:
        lines.append("feasible")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance")
    ap.add_argument("plan")
    ap.add_argument("--json", action="store_true", help="print the full evaluation as JSON")
    ap.add_argument("--quiet", action="store_true", help="print only the summary lines")
    args = ap.parse_args(argv)
    try:
        inst = Instance.load(args.instance)
        with open(args.plan, encoding="utf-8") as fh:
            plan = json.load(fh)
    except (OSError, ValueError, KeyError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    result = evaluate(inst, plan)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    elif args.quiet:
        print(render(result, detail=False))
    else:
        print(render(result))
    return 0 if result["feasible"] else 1


if __name__ == "__main__":
    sys.exit(main())
