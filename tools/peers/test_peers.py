"""Tests of the peer tools: the evaluator against hand-computed values, and (when setup.sh has
made tools/peers/.venv) both solvers end to end on a small generated instance.

    python3 -m unittest discover -s tools/peers -p 'test_*.py' -v
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate as ev  # noqa: E402

# Sites on the station's meridian: a leg of 0.1 degree of latitude is exactly R x 0.1 degree
# (the haversine of a meridian arc), so the expected numbers below do not depend on evaluate.py.
R = 6371.0088
DEG = math.pi / 180
LEG = R * 0.1 * DEG * 1.5  # km of a 0.1-degree leg with detour 1.5; minutes too, at 60 km/h

BASE = {
    "format": "donornet.plan-instance.v1",
    "name": "hand",
    "days": ["2026-12-01", "2026-12-02", "2026-12-04"],
    "stations": [{"id": "st", "lon": 114.0, "lat": 33.6}],
    "vehicles": [
        {"id": "v1", "station": "st", "beds": 5, "max_donors": 100, "day_start": "08:00",
         "day_end": "17:00", "setup_min": 20, "teardown_min": 10, "cost_per_km": 3.0},
        {"id": "v2", "station": "st", "beds": 5, "max_donors": 100, "day_start": "08:00",
         "day_end": "17:00", "setup_min": 20, "teardown_min": 10, "cost_per_km": 3.0,
         "unavailable": ["2026-12-02"]},
    ],
    "sites": [
        {"id": "A", "lon": 114.0, "lat": 33.7, "expected": [40, 200, 50]},
        {"id": "B", "lon": 114.0, "lat": 33.5, "expected": [30, 30, 5]},
        {"id": "C", "lon": 114.0, "lat": 33.8, "expected": [60, 60, 60], "last_visit": "2026-09-01"},
    ],
    "travel": {"model": "straight_line", "detour": 1.5, "speed_kmh": 60},
    "rules": {"min_expected_donors": 10, "min_days_between_visits": 180, "ml_per_donor": 400,
              "ml_per_yuan": 1.5, "bed_minutes_per_donor": 15},
}


def load_json(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def run(inst: dict, routes: list[dict]) -> dict:
    return ev.evaluate(ev.Instance(copy.deepcopy(inst)), {"format": ev.PLAN_FORMAT, "routes": routes})


class EvaluatorTest(unittest.TestCase):
    def test_route_timing_km_and_objective(self):
        r = run(BASE, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}, {"site": "B"}]}])
        self.assertEqual(r["violations"], [])
        route = r["routes"][0]
        a, b = route["stops"]
        self.assertAlmostEqual(a["arrive"], 480 + LEG, places=9)
        self.assertAlmostEqual(a["start"], 480 + LEG + 20, places=9)
        self.assertAlmostEqual(a["end"], 480 + LEG + 20 + 40 * 3, places=9)  # 40 donors x 15 / 5
        self.assertAlmostEqual(a["leave"], 480 + LEG + 150, places=9)
        self.assertAlmostEqual(b["arrive"], 480 + 3 * LEG + 150, places=9)  # A to B is 0.2 degree
        self.assertAlmostEqual(b["leave"], 480 + 3 * LEG + 150 + 20 + 90 + 10, places=9)
        self.assertAlmostEqual(route["back"], 480 + 4 * LEG + 270, places=9)
        self.assertAlmostEqual(route["km"], 4 * LEG, places=9)
        self.assertAlmostEqual(route["donors"], 70)
        self.assertAlmostEqual(r["objective"], 70 * 400 - 4 * LEG * 3 * 1.5, places=6)
        self.assertTrue(r["feasible"])

    def test_capacity_caps_donors_and_route_limit(self):
        # A on day 2 expects 200 but the vehicle takes 100; with B's 30 the route takes 130.
        r = run(BASE, [{"vehicle": "v1", "date": "2026-12-02", "stops": [{"site": "A"}, {"site": "B"}]}])
        self.assertAlmostEqual(r["routes"][0]["stops"][0]["donors"], 100)
        self.assertTrue(any("more than max_donors 100" in v for v in r["violations"]), r["violations"])
        # Back at 08:00 + 4 legs + 450 min = 16:36: the load is the only violation.
        self.assertEqual(len(r["violations"]), 1, r["violations"])

    def test_late_return(self):
        inst = copy.deepcopy(BASE)
        inst["vehicles"][0]["day_end"] = "12:00"
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}, {"site": "B"}]}])
        self.assertTrue(any("after day_end 12:00" in v for v in r["violations"]), r["violations"])

    def test_depart_and_start(self):
        r = run(BASE, [{"vehicle": "v1", "date": "2026-12-01", "depart": "09:00",
                        "stops": [{"site": "A", "start": "11:00"}]}])
        s = r["routes"][0]["stops"][0]
        self.assertAlmostEqual(s["arrive"], 540 + LEG, places=9)
        self.assertAlmostEqual(s["start"], 660)  # later than arrival + setup
        r = run(BASE, [{"vehicle": "v1", "date": "2026-12-01", "depart": "07:00", "stops": []}])
        self.assertTrue(any("before day_start" in v for v in r["violations"]))

    def test_vehicle_and_day_rules(self):
        r = run(BASE, [
            {"vehicle": "v2", "date": "2026-12-02", "stops": []},
            {"vehicle": "vX", "date": "2026-12-01", "stops": []},
            {"vehicle": "v1", "date": "2026-12-03", "stops": []},
            {"vehicle": "v1", "date": "2026-12-01", "stops": []},
            {"vehicle": "v1", "date": "2026-12-01", "stops": []},
        ])
        text = "\n".join(r["violations"])
        self.assertIn("unavailable on 2026-12-02", text)
        self.assertIn("no such vehicle 'vX'", text)
        self.assertIn("2026-12-03 is not a planning day", text)
        self.assertIn("already has a route on 2026-12-01", text)

    def test_site_rules(self):
        inst = copy.deepcopy(BASE)
        inst["forbidden"] = [{"site": "A", "date": "2026-12-04"}]
        inst["fixed"] = [{"site": "B", "date": "2026-12-02", "vehicle": "v1"}]
        r = run(inst, [
            {"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "C"}, {"site": "A"}]},
            {"vehicle": "v1", "date": "2026-12-04", "stops": [{"site": "A"}, {"site": "B"}]},
        ])
        text = "\n".join(r["violations"])
        self.assertIn("C was last visited 2026-09-01", text)  # 91 days < 180
        self.assertIn("A is forbidden on 2026-12-04", text)
        self.assertIn("A again on 2026-12-04, 3 days after", text)
        self.assertIn("B expects 5.00 donors", text)  # below min_expected_donors 10
        self.assertIn("fixed[0]: B on 2026-12-02 by v1 is not in the plan", text)
        self.assertEqual(len(r["violations"]), 5, text)

    def test_repeat_loss(self):
        inst = copy.deepcopy(BASE)
        inst["rules"]["min_days_between_visits"] = 1
        inst["vehicles"][0]["max_donors"] = 300
        inst["sites"][0]["repeat_loss"] = 0.5
        r = run(inst, [
            {"vehicle": "v1", "date": "2026-12-02", "stops": [{"site": "A"}]},
            {"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}]},
        ])
        # Day 1 takes 40; day 2 then expects 200 - 0.5 x 40 = 180 (routes are taken by date).
        day2 = next(x for x in r["routes"] if x["date"] == "2026-12-02")
        self.assertAlmostEqual(day2["stops"][0]["donors"], 180)
        # 180 donors take 540 minutes: too long for the day.
        self.assertTrue(any("after day_end" in v for v in r["violations"]))

    def test_matrix_travel(self):
        inst = copy.deepcopy(BASE)
        ids = ["st", "A", "B", "C"]
        km = [[0, 10, 20, 30], [10, 0, 5, 6], [20, 5, 0, 7], [30, 6, 7, 0]]
        minutes = [[0, 15, 25, 35], [15, 0, 8, 9], [25, 8, 0, 10], [35, 9, 10, 0]]
        inst["travel"] = {"model": "matrix", "ids": ids, "km": km, "minutes": minutes}
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}, {"site": "B"}]}])
        route = r["routes"][0]
        self.assertAlmostEqual(route["km"], 10 + 5 + 20)
        self.assertAlmostEqual(route["back"], 480 + 15 + 150 + 8 + 120 + 25)

    def test_default_travel_and_rules(self):
        inst = copy.deepcopy(BASE)
        del inst["travel"], inst["rules"]
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}]}])
        leg = R * 0.1 * DEG * 1.3
        self.assertAlmostEqual(r["routes"][0]["km"], 2 * leg, places=9)
        self.assertAlmostEqual(r["routes"][0]["stops"][0]["arrive"], 480 + leg / 40 * 60, places=9)

    # --- format v2 (issue 17): value separate from load, extra minutes per site ---

    def v2(self) -> dict:
        inst = copy.deepcopy(BASE)
        inst["format"] = ev.INSTANCE_FORMAT_V2
        return inst

    def test_v2_value_and_extra_minutes(self):
        inst = self.v2()
        inst["sites"][0]["value"] = [30000, 100000, 7]  # A: worth 30,000 on day 1 for its 40 donors
        inst["sites"][0]["extra_service_min"] = 15
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}, {"site": "B"}]}])
        self.assertEqual(r["violations"], [])
        route = r["routes"][0]
        a, b = route["stops"]
        self.assertAlmostEqual(a["start"], 480 + LEG + 20 + 15, places=9)  # extra with the setup
        self.assertAlmostEqual(a["end"], 480 + LEG + 35 + 120, places=9)  # donation time unchanged
        self.assertAlmostEqual(a["leave"], 480 + LEG + 165, places=9)
        self.assertAlmostEqual(b["leave"], 480 + 3 * LEG + 165 + 120, places=9)  # B: no extra
        self.assertAlmostEqual(route["back"], 480 + 4 * LEG + 285, places=9)
        self.assertAlmostEqual(route["donors"], 70)  # load is still expected donors
        self.assertAlmostEqual(a["worth_ml"], 30000)
        self.assertAlmostEqual(b["worth_ml"], 30 * 400)  # B gives no value: the v1 default
        self.assertAlmostEqual(r["collected_ml"], 42000)
        self.assertAlmostEqual(r["objective"], 42000 - 4 * LEG * 3 * 1.5, places=6)

    def test_v2_worth_is_proportional_when_capped(self):
        inst = self.v2()
        inst["sites"][0]["value"] = [30000, 100000, 7]
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-02", "stops": [{"site": "A"}]}])
        # 200 expected, the vehicle takes 100: half the value.
        stop = r["routes"][0]["stops"][0]
        self.assertAlmostEqual(stop["donors"], 100)
        self.assertAlmostEqual(stop["worth_ml"], 50000)
        self.assertAlmostEqual(r["objective"], 50000 - 2 * LEG * 3 * 1.5, places=6)

    def test_v2_zero_expected_is_worth_nothing(self):
        inst = self.v2()
        inst["rules"]["min_expected_donors"] = 0
        inst["sites"][1]["expected"] = [0, 30, 5]
        inst["sites"][1]["value"] = [9999, 0, 0]
        r = run(inst, [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "B"}]}])
        self.assertEqual(r["violations"], [])
        self.assertEqual(r["routes"][0]["stops"][0]["worth_ml"], 0.0)
        self.assertAlmostEqual(r["objective"], -2 * LEG * 3 * 1.5, places=6)

    def test_v2_without_new_fields_scores_as_v1(self):
        routes = [{"vehicle": "v1", "date": "2026-12-01", "stops": [{"site": "A"}, {"site": "B"}]},
                  {"vehicle": "v1", "date": "2026-12-02", "stops": [{"site": "A"}]}]
        r1, r2 = run(BASE, routes), run(self.v2(), routes)
        self.assertEqual(r1["violations"], r2["violations"])
        self.assertAlmostEqual(r1["objective"], r2["objective"], places=9)

    def test_v2_fields_are_validated(self):
        def refused(edit, needle):
            inst = self.v2()
            edit(inst)
            with self.assertRaises(ValueError) as e:
                ev.Instance(inst)
            self.assertIn(needle, str(e.exception))

        refused(lambda i: i["sites"][0].update(value=[1, 2]), "value")
        refused(lambda i: i["sites"][0].update(value=[1, -2, 3]), "value")
        refused(lambda i: i["sites"][0].update(value=[1, float("nan"), 3]), "value")
        refused(lambda i: i["sites"][0].update(extra_service_min=-1), "extra_service_min")
        refused(lambda i: i.update(format="donornet.plan-instance.v3"), "format")
        # v1 files are read as before: the new fields belong to v2.
        for field, value in (("value", [1, 2, 3]), ("extra_service_min", 5)):
            inst = copy.deepcopy(BASE)
            inst["sites"][0][field] = value
            with self.assertRaises(ValueError) as e:
                ev.Instance(inst)
            self.assertIn(field, str(e.exception))

    def test_clock(self):
        self.assertEqual(ev.parse_clock("24:00"), 1440)
        self.assertEqual(ev.parse_clock("08:05"), 485)
        self.assertEqual(ev.fmt_clock(485.5), "08:05:30")
        with self.assertRaises(ValueError):
            ev.parse_clock("8h")


VENV_PY = os.path.join(HERE, ".venv", "bin", "python")


@unittest.skipUnless(os.path.exists(VENV_PY), "run tools/peers/setup.sh first")
class SolverTest(unittest.TestCase):
    """Each solver, 2 s on a generated 10-site instance: a feasible plan, the summary file, and
    an objective within 5% of the exact optimum."""

    GENERATOR_ARGS = ["--seed", "4", "--extras"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="peers-test-")
        cls.inst = os.path.join(cls.tmp, "inst.json")
        subprocess.run([sys.executable, os.path.join(HERE, "make_test_instance.py"), cls.inst,
                        "--sites", "10", "--days", "3", "--vehicles", "2", *cls.GENERATOR_ARGS],
                       check=True)
        exact = os.path.join(cls.tmp, "exact.json")
        subprocess.run([sys.executable, os.path.join(HERE, "exact_small.py"), cls.inst, "--out", exact],
                       check=True, capture_output=True)
        cls.optimum = ev.evaluate(ev.Instance.load(cls.inst), load_json(exact))["objective"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, script: str, solver: str):
        plan = os.path.join(self.tmp, f"{solver}.plan.json")
        summary = os.path.join(self.tmp, f"{solver}.summary.json")
        subprocess.run([VENV_PY, os.path.join(HERE, script), self.inst, "--time-limit", "2",
                        "--seed", "1", "--out", plan, "--summary", summary],
                       check=True, capture_output=True, timeout=60)
        s = load_json(summary)
        self.assertEqual(set(s) - {"details"}, {"solver", "version", "status", "objective",
                                               "first_solution_seconds", "seconds", "peak_rss_mb"})
        self.assertEqual((s["solver"], s["status"]), (solver, "solved"))
        result = ev.evaluate(ev.Instance.load(self.inst), load_json(plan))
        self.assertTrue(result["feasible"], result["violations"])
        self.assertAlmostEqual(result["objective"], s["objective"], places=6)
        self.assertGreaterEqual(result["objective"], 0.95 * self.optimum)
        self.assertLessEqual(result["objective"], self.optimum + 1e-6)
        self.assertLess(s["seconds"], 10)
        # The solver's integer model scores its plan as the evaluator does (prizes = worth).
        self.assertLess(abs(s["details"]["model_objective_ml"] - s["objective"]), 0.5)

    def test_ortools(self):
        self.check("ortools_solve.py", "ortools")

    def test_pyvrp(self):
        self.check("pyvrp_solve.py", "pyvrp")


class SolverV2Test(SolverTest):
    """The same on a v2 instance where value and load differ and some sites take longer."""

    GENERATOR_ARGS = ["--seed", "7", "--extras", "--v2"]

    def test_instance_is_v2(self):
        inst = ev.Instance.load(self.inst)
        self.assertTrue(inst.v2)
        self.assertTrue(any(s.get("extra_service_min") for s in inst.sites))
        # Value is not proportional to load: the best site by value differs from v1's ranking.
        ratios = {round(inst.site_value[s["id"]][0] / s["expected"][0], 3) for s in inst.sites}
        self.assertGreater(len(ratios), 1)


if __name__ == "__main__":
    unittest.main()
