#!/usr/bin/env python3
"""Writes a random, valid `donornet.plan-instance.v1` (or, with `--v2`, `.v2`) file for testing
the peer solvers.

    python3 make_test_instance.py OUT.json [--sites 12] [--days 3] [--vehicles 2]
        [--radius-km 20] [--seed 1] [--extras] [--v2]

Sites are scattered uniformly over a disc around one station (114.0E 33.6N by default);
expected donors are drawn from 10-80 per site and day, raised by 30% on market days (a third of
the site-days). Vehicles: 5 beds, 150 donors, 08:00-17:00, setup 20, teardown 10, 3 yuan/km.
Rules: min_expected_donors 10, 180 days between visits, 400 mL per donor, 1.5 mL per yuan,
15 bed-minutes per donor (so a stop lasts 30 + 3 min per donor). `--extras` adds a few cheap
rule cases (a recent last_visit, forbidden stops, a low-turnout day, an unavailable vehicle day)
to exercise the filters. `--v2` writes the same sites (same expected donors: the same load) in
format v2, where value and load differ: each site-day's `value` is expected x ml_per_donor times
a random factor 0.5-1.5, times 1.5-2.5 more on a quarter of the sites (a shortage bonus), and a
fifth of the sites get `extra_service_min` 20-45. These draws come from a second random
generator, so `--v2` changes nothing else in the file. Pure standard library.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--vehicles", type=int, default=2)
    ap.add_argument("--radius-km", type=float, default=20.0)
    ap.add_argument("--lon", type=float, default=114.0)
    ap.add_argument("--lat", type=float, default=33.6)
    ap.add_argument("--first-day", default="2026-12-01")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extras", action="store_true", help="add last_visit/forbidden/unavailable cases")
    ap.add_argument("--v2", action="store_true", help="format v2: value differs from load, extra minutes")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    first = dt.date.fromisoformat(args.first_day)
    days = [first + dt.timedelta(days=i) for i in range(args.days)]
    station = {"id": "st-1", "name": "test station", "lon": args.lon, "lat": args.lat}
    vehicles = [
        {
            "id": f"v-{i + 1}",
            "name": f"bloodmobile {i + 1}",
            "station": "st-1",
            "beds": 5,
            "max_donors": 150,
            "day_start": "08:00",
            "day_end": "17:00",
            "setup_min": 20,
            "teardown_min": 10,
            "cost_per_km": 3.0,
        }
        for i in range(args.vehicles)
    ]
    km_per_deg_lat = 111.195
    km_per_deg_lon = km_per_deg_lat * math.cos(math.radians(args.lat))
    sites = []
    for i in range(args.sites):
        r = args.radius_km * math.sqrt(rng.random())
        a = rng.random() * 2 * math.pi
        expected = []
        for _ in days:
            e = rng.uniform(10, 80)
            if rng.random() < 1 / 3:  # market day
                e *= 1.3
            expected.append(round(e, 1))
        sites.append(
            {
                "id": f"s{i + 1:04d}",
                "name": f"site {i + 1}",
                "lon": round(args.lon + r * math.cos(a) / km_per_deg_lon, 6),
                "lat": round(args.lat + r * math.sin(a) / km_per_deg_lat, 6),
                "expected": expected,
            }
        )
    inst = {
        "format": "donornet.plan-instance.v1",
        "name": f"test {args.sites} sites, {args.days} days, {args.vehicles} vehicles, seed {args.seed}",
        "days": [str(d) for d in days],
        "stations": [station],
        "vehicles": vehicles,
        "sites": sites,
        "travel": {"model": "straight_line", "detour": 1.3, "speed_kmh": 40},
        "rules": {
            "min_expected_donors": 10,
            "min_days_between_visits": 180,
            "ml_per_donor": 400,
            "ml_per_yuan": 1.5,
            "bed_minutes_per_donor": 15,
        },
    }
    if args.extras and len(sites) >= 4:
        # Visited 100 days before the plan: not allowed (180 days apart).
        sites[0]["last_visit"] = str(first - dt.timedelta(days=100))
        # Visited long ago: allowed again.
        sites[1]["last_visit"] = str(first - dt.timedelta(days=400))
        # Forbidden on the first day only, and one site forbidden on every day.
        inst["forbidden"] = [{"site": sites[2]["id"], "date": str(days[0])}, {"site": sites[3]["id"]}]
        # A day below min_expected_donors.
        sites[1]["expected"][0] = 4.0
        # The first vehicle stays home on the last day.
        if len(days) > 1:
            vehicles[0]["unavailable"] = [str(days[-1])]
    if args.v2:
        make_v2(inst, args.seed)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(inst, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def make_v2(inst: dict, seed: int) -> None:
    """Turns the instance into format v2 in place: per site-day values that differ from
    expected x ml_per_donor, and extra minutes at some sites. Expected donors are unchanged."""
    rng = random.Random(f"v2-{seed}")
    ml = inst["rules"]["ml_per_donor"]
    inst["format"] = "donornet.plan-instance.v2"
    for site in inst["sites"]:
        shortage = rng.uniform(1.5, 2.5) if rng.random() < 0.25 else 1.0
        site["value"] = [round(e * ml * shortage * rng.uniform(0.5, 1.5), 1) for e in site["expected"]]
        if rng.random() < 0.2:
            site["extra_service_min"] = rng.randint(20, 45)


if __name__ == "__main__":
    main()
