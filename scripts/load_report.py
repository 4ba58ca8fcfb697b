#!/usr/bin/env python3
"""load_report.py: the table of scripts/load.sh and its verdict, from the files its runs leave.

Its one job: put the four oha runs side by side (total time, requests/s, percentiles, status
codes, calls that reached B) and check that they showed what the article describes. load.sh
runs it once, after the last run; standard library only.

Usage: load_report.py WORK

  WORK  the work directory holding, for each run NAME (fail-breaker, fail-none, ok-breaker,
        ok-none), NAME.json (oha's JSON) and NAME.calls (B's /api count before and after)

Writes the table to stdout, each problem to stderr. Exits 1 when the breaker did not keep calls
away from a failing B or a healthy run saw anything but 200, else 0.
"""

import json
import os
import sys

COLUMNS = [
    ("fail-breaker", "failing: breaker"),
    ("fail-none", "failing: no breaker"),
    ("ok-breaker", "healthy: breaker"),
    ("ok-none", "healthy: no breaker"),
]


def load(work, name):
    """A run's oha JSON and the calls that reached B during it."""
    with open(os.path.join(work, name + ".json")) as f:
        doc = json.load(f)
    with open(os.path.join(work, name + ".calls")) as f:
        before, after = map(int, f.read().split())
    return doc, after - before


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def codes(doc):
    """The status codes and the count of each, errors (no answer) last."""
    dist = doc.get("statusCodeDistribution") or {}
    parts = [f"{code}: {n}" for code, n in sorted(dist.items())]
    errors = sum((doc.get("errorDistribution") or {}).values())
    if errors:
        parts.append(f"errors: {errors}")
    return ", ".join(parts) or "-"


ROWS = [
    ("total time", lambda d, c: f"{d['summary']['total']:.2f} s"),
    ("requests/s", lambda d, c: f"{d['summary']['requestsPerSec']:.1f}"),
    ("p50", lambda d, c: ms(d["latencyPercentiles"].get("p50"))),
    ("p95", lambda d, c: ms(d["latencyPercentiles"].get("p95"))),
    ("p99", lambda d, c: ms(d["latencyPercentiles"].get("p99"))),
    ("status codes", lambda d, c: codes(d)),
    ("calls that reached B", lambda d, c: str(c)),
]


def print_table(runs):
    width = max(20, *(len(codes(doc)) for doc, _ in runs.values())) + 2
    print(f"{'':22}" + "".join(f"{title:>{width}}" for _, title in COLUMNS))
    for label, cell in ROWS:
        print(f"{label:22}" + "".join(f"{cell(*runs[name]):>{width}}" for name, _ in COLUMNS))


def problems_of(runs):
    """What the experiment did not show: the breaker keeping calls away from a failing B, and
    every healthy call answered 200."""
    problems = []
    with_breaker, without = runs["fail-breaker"][1], runs["fail-none"][1]
    if with_breaker >= without:
        problems.append(f"with the breaker {with_breaker} calls reached a failing B, without it {without}")
    for name in ("ok-breaker", "ok-none"):
        doc = runs[name][0]
        if set((doc.get("statusCodeDistribution") or {})) != {"200"} or doc.get("errorDistribution"):
            problems.append(f"{name}: not every healthy call answered 200 ({codes(doc)})")
    return problems


def main(argv):
    runs = {name: load(argv[0], name) for name, _ in COLUMNS}
    print_table(runs)
    problems = problems_of(runs)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
