#!/usr/bin/env python3
"""ceiling_instructions_report.py: the table of `scripts/ceiling.sh --instructions`.

Its one job: turn each target's counted run (loadgen's JSON summary and callgrind's total) into the table
of instructions per request and the ratios between targets. ceiling-instructions.sh runs it
once, after the last target; standard library only.

Usage (positional, all required, as ceiling-instructions.sh passes them):

  ceiling_instructions_report.py WORK REQUESTS WARMUP CONCURRENCY LABELS

  WORK         the directory holding NAME.json (loadgen's summary of the counted run) and NAME.ir
               (the instructions callgrind counted over it) for every target
  REQUESTS     the requests of each counted run
  WARMUP       the requests that warmed each target up first, for the note under the table
  CONCURRENCY  loadgen's connections, for the same note
  LABELS       one "name=label" line a target, in the table's order

Writes the markdown table, the note and the ratios to stdout, each problem to stderr. Exits 1
when a request was answered anything but 200 or a figure is missing, else 0.
"""

import json
import os
import sys

from markdown_table import markdown_table

# Each ratio of instructions per request: its label, numerator and denominator targets.
RATIOS = [("A article / nginx", "a-article", "nginx"),
          ("A production / A article", "a-production", "a-article"),
          ("A article / floor reqwest", "a-article", "floor-reqwest"),
          ("floor reqwest / nginx", "floor-reqwest", "nginx"),
          ("floor hyper / nginx", "floor-hyper", "nginx")]


def count(work, requests, name, label, problems):
    """A target's instructions counted, requests answered 200, and instructions per request."""
    with open(os.path.join(work, name + ".json")) as f:
        doc = json.load(f)
    with open(os.path.join(work, name + ".ir")) as f:
        total = int(f.read())
    statuses = doc.get("statuses") or {}
    ok = int(statuses.get("200", 0))
    if set(statuses) - {"200"} or ok != requests:
        problems.append(f"{label}: {ok} of {requests} answered 200: {statuses}")
    per_request = total / ok if ok else 0.0
    if not per_request > 0:
        problems.append(f"{label}: no instructions per request")
    return total, ok, per_request


def main(argv):
    work, requests, warmup, concurrency = argv[0], int(argv[1]), argv[2], argv[3]
    labels = dict(line.split("=", 1) for line in argv[4].splitlines())
    problems = []
    counts = {name: count(work, requests, name, label, problems) for name, label in labels.items()}
    head = ["target", "instructions/request", "answered 200", "instructions counted"]
    table = [[label, f"{counts[n][2]:,.0f}", f"{counts[n][1]:,}", f"{counts[n][0]:,}"]
             for n, label in labels.items()]
    print(markdown_table(head, table))
    print(f"\n{requests} requests each at -c {concurrency}, after {warmup} to warm up; user space only:"
          "\nthe kernel's work (system calls, TCP) is not counted. nginx: one process (master_process off).")
    print("\nratios of instructions per request:")
    for label, num, den in RATIOS:
        value = counts[num][2] / counts[den][2] if counts[den][2] > 0 else float("nan")
        if not value > 0:
            problems.append(f"no figure for {label}")
        print(f"  {label:26} {value:5.2f}x")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
