#!/usr/bin/env python3
"""ceiling_report.py: the timed table of scripts/ceiling.sh, built from the files its runs leave.

Its one job: turn each round's oha JSON and CPU ticks into the table of medians with their
ranges, and the ratios beside their goals. ceiling.sh runs it once, after the last round;
standard library only.

Usage (positional, all required, as ceiling.sh passes them):

  ceiling_report.py WORK ROUNDS CLK_TCK CORES LABELS

  WORK      the work directory holding ROUND-NAME.json (oha's JSON of one run) and
            ROUND-NAME.cpu ("ticks load1": the target's CPU ticks over the run, the load
            average after it), for every round from 1 to ROUNDS and every target
  ROUNDS    how many rounds ran
  CLK_TCK   the kernel's clock ticks a second (getconf CLK_TCK), the unit of the .cpu files
  CORES     the machine's cores (nproc), for the note under the table
  LABELS    one "name=label" line a target, in the table's order

Writes the markdown table, the note and the ratios to stdout, each problem to stderr. Exits 1
when a run answered anything but 200 or a figure is missing, else 0. The goals are printed, not
enforced.
"""

import json
import os
import statistics
import sys

from markdown_table import markdown_table

COLUMNS = [("requests/s", "rps", lambda v: f"{v:,.0f}"), ("p50 ms", "p50", lambda v: f"{v:.2f}"),
           ("p99 ms", "p99", lambda v: f"{v:.2f}"), ("CPU µs/request", "cpu", lambda v: f"{v:.1f}"),
           ("load average", "load", lambda v: f"{v:.2f}")]

# Each ratio: its label, numerator and denominator targets, the figure, and a goal (an operator
# and a bound) or None.
RATIOS = [
    ("A article / nginx, requests/s", "a-article", "nginx", "rps", (">=", 0.9)),
    ("A article / nginx, CPU per request", "a-article", "nginx", "cpu", ("<=", 1.5)),
    ("A production / A article, CPU per request", "a-production", "a-article", "cpu", ("<=", 1.3)),
    ("A production / nginx, requests/s", "a-production", "nginx", "rps", None),
    ("A production / nginx, CPU per request", "a-production", "nginx", "cpu", None),
    ("floor reqwest / nginx, CPU per request", "floor-reqwest", "nginx", "cpu", None),
    ("floor hyper / nginx, CPU per request", "floor-hyper", "nginx", "cpu", None),
    ("floor reqwest / nginx, requests/s", "floor-reqwest", "nginx", "rps", None),
    ("A article / floor reqwest, CPU per request", "a-article", "floor-reqwest", "cpu", None),
]


def run_figures(work, tick, round_, name, label, problems):
    """One run's requests/s, p50, p99 (ms), CPU µs per request and load average."""
    base = os.path.join(work, f"{round_}-{name}")
    with open(base + ".json") as f:
        doc = json.load(f)
    with open(base + ".cpu") as f:
        ticks, load = f.read().split()
    codes = doc.get("statusCodeDistribution") or {}
    ok = int(codes.get("200", 0))
    # -z ends the run by cutting the requests in flight: those are not the target's errors.
    errors = {k: v for k, v in (doc.get("errorDistribution") or {}).items() if "deadline" not in k}
    if set(codes) - {"200"} or errors:
        problems.append(f"round {round_}, {label}: answers other than 200: {codes} {errors}")
    seconds = doc["summary"]["total"]
    lat = doc.get("latencyPercentiles") or {}
    fig = {
        "rps": ok / seconds if seconds else 0.0,
        "p50": (lat.get("p50") or 0.0) * 1e3,
        "p99": (lat.get("p99") or 0.0) * 1e3,
        "cpu": int(ticks) * tick / ok * 1e6 if ok else 0.0,
        "load": float(load),
    }
    for key in ("rps", "p50", "p99", "cpu"):
        if not fig[key] > 0:
            problems.append(f"round {round_}, {label}: no {key} figure")
    return fig


def cell(values, fmt):
    """The median of `values`, with their range when there is more than one."""
    mid = fmt(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} [{fmt(min(values))} - {fmt(max(values))}]"


def ratio(runs, num, den, key):
    """The median over rounds of each round's ratio of `num`'s figure to `den`'s."""
    values = [a[key] / b[key] for a, b in zip(runs[num], runs[den]) if b[key] > 0]
    return statistics.median(values) if values else float("nan")


def print_ratios(runs, problems):
    print("\nratios, each round's then the median over rounds:")
    for label, num, den, key, goal in RATIOS:
        value = ratio(runs, num, den, key)
        if not value > 0:
            problems.append(f"no figure for {label}")
        if goal is None:
            print(f"  {label:44} {value:5.2f}x")
            continue
        op, bound = goal
        met = value >= bound if op == ">=" else value <= bound
        print(f"  {label:44} {value:5.2f}x   goal {op} {bound}x: {'met' if met else 'not met'}")


def main(argv):
    work, rounds, tick = argv[0], int(argv[1]), 1.0 / int(argv[2])
    cores = argv[3]
    labels = dict(line.split("=", 1) for line in argv[4].splitlines())
    problems = []
    runs = {name: [run_figures(work, tick, r, name, label, problems) for r in range(1, rounds + 1)]
            for name, label in labels.items()}
    table = [[label] + [cell([r[key] for r in runs[name]], fmt) for _, key, fmt in COLUMNS]
             for name, label in labels.items()]
    print(markdown_table(["target"] + [title for title, _, _ in COLUMNS], table))
    print(f"\n{cores} cores; CPU per request is the target's own (nginx: its workers), from /proc.")
    print_ratios(runs, problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
